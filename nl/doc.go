// Package nl is tcwire's netlink layer: NETLINK_ROUTE framing on a
// github.com/mdlayher/netlink Conn, with hand-written codecs.
//
// A request is plain data (Request): an encoder builds it without a socket,
// so the same bytes feed the kernel, the golden tests and `tcwire explain`.
// Attributes are written with Encoder, which, like iproute2's addattr_nest,
// sets NLA_F_NESTED only where the caller asks for it. Replies are read with
// ParseAttrs, which keeps attributes it does not know. The kernel's
// answers are Messages, nl's own (struct nlmsghdr and what follows it), so
// the decoders of tc and link take them without their callers importing
// mdlayher/netlink. Package nl/annotate turns any message into an
// annotated hex dump, given a Schema.
//
// A Conn is dialled with mdlayher/netlink (namespaces, socket options) and
// does its own I/O on the socket's descriptor through the runtime poller:
// one sendmsg per batch, one recvfrom per datagram into a buffer it
// reuses, no goroutine per call, so Do of a few requests costs a handful
// of allocations. Conn.Sendmsgs counts its round trips.
//
// Conn.Do sends a batch in one sendmsg and reads one acknowledgement per
// request; Conn.Query does the same and also returns what the kernel
// answered before each acknowledgement (a GET with NLM_F_ECHO). The kernel queues those acknowledgements on the socket before
// the sendmsg returns and drops what does not fit the receive buffer
// (ENOBUFS), so a batch of hundreds of requests is sent in chunks that fit
// (a few requests, such as tc.Wire's four, always go in one). Dumps need no
// such care: the kernel fills the socket only as the reader empties it, so
// a dump of any size (10000 filters on one device are tested) arrives
// whole with the default buffer. A request refused with EBUSY or EAGAIN,
// and a dump interrupted by a concurrent change, are tried again (Retry,
// DefaultRetry); a request is never sent twice unless the kernel said it
// had refused it.
//
// All of it but Dial is pure and builds on any GOOS, so tools anywhere can
// encode, decode and explain messages; Dial needs Linux and fails elsewhere.
package nl
