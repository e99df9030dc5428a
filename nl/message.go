package nl

import (
	"bytes"
	"fmt"
)

// HeaderType is nlmsg_type: one of the NLMSG_* control types below, or a
// protocol family's message type (RTM_NEWLINK …).
type HeaderType uint16

// Control message types from <linux/netlink.h>.
const (
	NLMSG_NOOP  HeaderType = 1
	NLMSG_ERROR HeaderType = 2 // an acknowledgement (errno 0) or a refusal
	NLMSG_DONE  HeaderType = 3 // the end of a dump
)

// HeaderFlags is nlmsg_flags.
type HeaderFlags uint16

// NLM_F_* from <linux/netlink.h>. Bits 0x100-0x800 mean different things
// for GET requests, NEW requests and acknowledgements.
const (
	NLM_F_REQUEST       HeaderFlags = 0x01
	NLM_F_MULTI         HeaderFlags = 0x02
	NLM_F_ACK           HeaderFlags = 0x04
	NLM_F_ECHO          HeaderFlags = 0x08
	NLM_F_DUMP_INTR     HeaderFlags = 0x10
	NLM_F_DUMP_FILTERED HeaderFlags = 0x20

	// GET requests.
	NLM_F_ROOT   HeaderFlags = 0x100
	NLM_F_MATCH  HeaderFlags = 0x200
	NLM_F_ATOMIC HeaderFlags = 0x400
	NLM_F_DUMP               = NLM_F_ROOT | NLM_F_MATCH

	// NEW requests.
	NLM_F_REPLACE HeaderFlags = 0x100
	NLM_F_EXCL    HeaderFlags = 0x200
	NLM_F_CREATE  HeaderFlags = 0x400
	NLM_F_APPEND  HeaderFlags = 0x800

	// Acknowledgements (NLMSG_ERROR).
	NLM_F_CAPPED   HeaderFlags = 0x100
	NLM_F_ACK_TLVS HeaderFlags = 0x200
)

// Header is struct nlmsghdr from <linux/netlink.h>, host order.
type Header struct {
	Length   uint32
	Type     HeaderType
	Flags    HeaderFlags
	Sequence uint32
	PID      uint32
}

// Message is one netlink message as the kernel sent it: the header and
// everything after it (the family's fixed header, then attributes). Conn's
// Dump, DumpEach and Query return Messages; the decoders of tc and link
// take them.
type Message struct {
	Header Header
	Data   []byte
}

// MarshalBinary encodes m as the kernel frames it: nlmsg_len counts the
// header and Data (Header.Length is not consulted), then zero padding to 4
// bytes.
func (m Message) MarshalBinary() ([]byte, error) {
	n := NlmsgHdrLen + len(m.Data)
	b := make([]byte, 0, Align(n))
	b = host.AppendUint32(b, uint32(n))
	b = host.AppendUint16(b, uint16(m.Header.Type))
	b = host.AppendUint16(b, uint16(m.Header.Flags))
	b = host.AppendUint32(b, m.Header.Sequence)
	b = host.AppendUint32(b, m.Header.PID)
	b = append(b, m.Data...)
	return append(b, make([]byte, Align(n)-n)...), nil
}

// UnmarshalBinary decodes b, exactly one message (and its padding). Data
// is a copy.
func (m *Message) UnmarshalBinary(b []byte) error {
	for msg, err := range messages(b) {
		if err != nil {
			return err
		}
		if Align(int(msg.Header.Length)) < len(b) {
			return fmt.Errorf("nl: %d bytes after a %d-byte message: %w", len(b)-int(msg.Header.Length), msg.Header.Length, errMalformed)
		}
		*m = Message{Header: msg.Header, Data: bytes.Clone(msg.Data)}
		return nil
	}
	return fmt.Errorf("nl: message in %d bytes: %w", len(b), ErrTruncated)
}
