package nl

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// A Transport moves netlink datagrams for a Conn: the socket's own file
// descriptor (Dial), or in tests a fake kernel (package nl/nltest).
type Transport interface {
	// Send writes b, whole netlink messages, in one sendmsg.
	Send(b []byte) error
	// Recv reads one datagram. The bytes stay valid until the next Recv.
	Recv() ([]byte, error)
	// SetReadDeadline makes a Recv waiting past d fail; the zero time
	// waits forever.
	SetReadDeadline(d time.Time) error
	// Close releases the socket.
	Close() error
}

// appendMessage appends r as a netlink message of sequence seq and pid 0,
// as iproute2 sends it: nlmsg_len aligned, Data zero-padded to 4 bytes.
func appendMessage(b []byte, r Request, seq uint32) []byte {
	n := Align(NlmsgHdrLen + len(r.Data))
	b = host.AppendUint32(b, uint32(n))
	b = host.AppendUint16(b, uint16(r.Type))
	b = host.AppendUint16(b, uint16(r.Flags))
	b = host.AppendUint32(b, seq)
	b = host.AppendUint32(b, 0)
	b = append(b, r.Data...)
	for i := NlmsgHdrLen + len(r.Data); i < n; i++ {
		b = append(b, 0)
	}
	return b
}

// errMalformed reports a datagram whose messages do not add up.
var errMalformed = errors.New("malformed netlink message")

// messages iterates over the netlink messages of one datagram. Data
// aliases b.
func messages(b []byte) func(yield func(Message, error) bool) {
	return func(yield func(Message, error) bool) {
		for len(b) >= NlmsgHdrLen {
			l := int(host.Uint32(b))
			if l < NlmsgHdrLen || l > len(b) {
				yield(Message{}, fmt.Errorf("nl: nlmsg_len %d in %d bytes: %w", l, len(b), errMalformed))
				return
			}
			m := Message{
				Header: Header{
					Length:   uint32(l),
					Type:     HeaderType(host.Uint16(b[4:])),
					Flags:    HeaderFlags(host.Uint16(b[6:])),
					Sequence: host.Uint32(b[8:]),
					PID:      host.Uint32(b[12:]),
				},
				Data: b[NlmsgHdrLen:l:l],
			}
			if !yield(m, nil) {
				return
			}
			b = b[min(Align(l), len(b)):]
		}
	}
}

// NLMSGERR_ATTR_* from <linux/netlink.h>: the extended acknowledgement.
const (
	NLMSGERR_ATTR_MSG    = 1
	NLMSGERR_ATTR_OFFS   = 2
	NLMSGERR_ATTR_COOKIE = 3
)

// kernelError decodes the errno of an NLMSG_ERROR (struct nlmsgerr) or of
// a dump's NLMSG_DONE, and the extended acknowledgement that follows it:
// after the echoed request (its header alone with NLM_F_CAPPED) for
// NLMSG_ERROR, straight after the errno for NLMSG_DONE. It returns nil
// for an acknowledgement (errno 0).
func kernelError(cmd string, m Message) error {
	if len(m.Data) < 4 {
		return &Error{Cmd: cmd, Err: fmt.Errorf("%w: %d-byte error message", errMalformed, len(m.Data))}
	}
	errno := -int32(host.Uint32(m.Data))
	if errno == 0 {
		return nil
	}
	e := &Error{Cmd: cmd, Err: syscall.Errno(errno)}
	if m.Header.Flags&NLM_F_ACK_TLVS == 0 {
		return e
	}
	off := 4
	if m.Header.Type == NLMSG_ERROR {
		if len(m.Data) < 4+NlmsgHdrLen {
			return e
		}
		off += NlmsgHdrLen
		if m.Header.Flags&NLM_F_CAPPED == 0 {
			off = 4 + Align(int(host.Uint32(m.Data[4:])))
		}
	}
	if off > len(m.Data) {
		return e
	}
	attrs, _ := ParseAttrs(m.Data[off:]) // what parses is kept
	for _, a := range attrs {
		switch a.Type {
		case NLMSGERR_ATTR_MSG:
			e.Message = a.String()
		case NLMSGERR_ATTR_OFFS:
			if v, err := a.Uint32(); err == nil {
				e.Offset = int(v)
			}
		}
	}
	return e
}
