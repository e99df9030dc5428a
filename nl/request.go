package nl

// Header flags, from <linux/netlink.h>, in the combinations iproute2 uses.
const (
	// FlagsCreate is what `tc … add` and `ip link add` send:
	// NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE (0x0605).
	FlagsCreate = NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE
	// FlagsReplace is what `tc … replace` sends: NLM_F_REQUEST|NLM_F_ACK|NLM_F_CREATE.
	FlagsReplace = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE
	// FlagsAck is a plain acknowledged request (deletes, link changes).
	FlagsAck = NLM_F_REQUEST | NLM_F_ACK
	// FlagsEcho is a GET answered with the object itself, then the ack:
	// NLM_F_REQUEST|NLM_F_ACK|NLM_F_ECHO (0x000d). Without NLM_F_ECHO, a
	// tc GET's answer goes only to the RTNLGRP_TC multicast group.
	FlagsEcho = NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO
	// FlagsDump asks for every object (NLM_F_REQUEST|NLM_F_DUMP). Never add
	// NLM_F_ACK to a dump: the stray ACK would be read as the next reply.
	FlagsDump = NLM_F_REQUEST | NLM_F_DUMP
)

// NlmsgHdrLen is sizeof(struct nlmsghdr).
const NlmsgHdrLen = 16

// Request is one netlink request as plain data: built by a pure function,
// sent by Conn, compared by the golden tests and printed by `tcwire explain`.
type Request struct {
	Type  HeaderType
	Flags HeaderFlags
	// Data is everything after the nlmsghdr: the fixed header (tcmsg,
	// ifinfomsg …) followed by the attributes.
	Data []byte
	// Cmd is the equivalent iproute2 command line. It names the request in
	// errors and in `tcwire explain`.
	Cmd string
}

// MarshalBinary returns the complete message with nlmsg_seq and nlmsg_pid
// zero: the bytes the golden fixtures are compared with, framed as the Conn
// sends them (nlmsg_len aligned, Data zero-padded to 4 bytes).
func (r Request) MarshalBinary() ([]byte, error) {
	return appendMessage(nil, r, 0), nil
}
