// Package nl is tcwire's netlink layer: NETLINK_ROUTE framing on a
// github.com/mdlayher/netlink Conn, with hand-written codecs.
//
// A request is plain data (Request): an encoder builds it without a socket,
// so the same bytes feed the kernel, the golden tests and `tcwire explain`.
// Attributes are written with Encoder, which, like iproute2's addattr_nest,
// sets NLA_F_NESTED only where the caller asks for it. Replies are read with
// ParseAttrs, which keeps attributes it does not know. Annotate turns any
// message into an annotated hex dump, given a Schema.
package nl
