// Package nltest is a fake kernel for unprivileged tests of code that talks
// to an nl.Conn, as mdlayher/netlink's nltest is for a netlink.Conn: the
// test decides how each request is answered, the Conn frames, batches and
// retries exactly as on a socket, and the test reads back what was sent.
package nltest

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/tcwire/tcwire/nl"
)

// Reply is the kernel's answer to one request.
type Reply struct {
	// Messages come before the acknowledgement: the object a GET with
	// NLM_F_ECHO asked for, or the parts of a dump. Their headers'
	// sequence numbers and, for a dump, NLM_F_MULTI are filled in.
	Messages []nl.Message
	// Errno refuses the request (an NLMSG_ERROR of -Errno); 0 accepts it.
	Errno syscall.Errno
	// ExtAck is the kernel's message with a refusal (NLMSGERR_ATTR_MSG),
	// such as "Invalid handle".
	ExtAck string
}

// Func answers one request, given as the Conn sent it.
type Func func(req nl.Message) Reply

// Kernel is the fake. Its methods are safe for concurrent use.
type Kernel struct {
	answer Func

	mu       sync.Mutex
	requests []nl.Message
	queue    [][]byte
}

// Dial returns a Conn whose requests answer answers, and the Kernel that
// records them. The Conn sends each request that the kernel refuses with a
// transient error again, as on a socket; retry nil means nl.NoRetry, so a
// test sees each request once unless it asks for retries.
func Dial(answer Func, retry nl.Retry) (*nl.Conn, *Kernel) {
	if retry == nil {
		retry = nl.NoRetry
	}
	k := &Kernel{answer: answer}
	return nl.NewConn(k, retry), k
}

// Requests returns every request sent so far, in order.
func (k *Kernel) Requests() []nl.Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]nl.Message(nil), k.requests...)
}

// errNothingQueued stands for a socket with nothing to read: a real Conn
// would wait, a test would hang.
var errNothingQueued = errors.New("nltest: nothing to read: the Conn waits for an answer that was never queued")

// Send answers each message of b, one datagram per request.
func (k *Kernel) Send(b []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for len(b) > 0 {
		if len(b) < nl.NlmsgHdrLen {
			return fmt.Errorf("nltest: %d trailing bytes", len(b))
		}
		n := int(nl.Uint32(b))
		if n < nl.NlmsgHdrLen || n > len(b) {
			return fmt.Errorf("nltest: nlmsg_len %d in %d bytes", n, len(b))
		}
		var m nl.Message
		if err := m.UnmarshalBinary(b[:n]); err != nil {
			return err
		}
		b = b[min(nl.Align(n), len(b)):]
		k.requests = append(k.requests, m)
		k.queue = append(k.queue, k.reply(m, k.answer(m)))
	}
	return nil
}

// reply frames r as the kernel does for req: the messages, then for a dump
// NLMSG_DONE, for a refusal or an NLM_F_ACK request NLMSG_ERROR (the
// request's header echoed, NLM_F_CAPPED).
func (k *Kernel) reply(req nl.Message, r Reply) []byte {
	dump := req.Header.Flags&nl.NLM_F_DUMP == nl.NLM_F_DUMP
	var d []byte
	add := func(m nl.Message) {
		m.Header.Sequence, m.Header.PID = req.Header.Sequence, 0
		b, _ := m.MarshalBinary()
		d = append(d, b...)
	}
	if r.Errno == 0 {
		for _, m := range r.Messages {
			if dump {
				m.Header.Flags |= nl.NLM_F_MULTI
			}
			add(m)
		}
	}
	switch {
	case dump && r.Errno == 0:
		add(nl.Message{Header: nl.Header{Type: nl.NLMSG_DONE, Flags: nl.NLM_F_MULTI}, Data: make([]byte, 4)})
	case r.Errno != 0 || req.Header.Flags&nl.NLM_F_ACK != 0:
		data := nl.AppendUint32(nil, uint32(-int32(r.Errno)))
		h := req.Header
		data = nl.AppendUint32(data, h.Length)
		data = nl.AppendUint16(data, uint16(h.Type))
		data = nl.AppendUint16(data, uint16(h.Flags))
		data = nl.AppendUint32(data, h.Sequence)
		data = nl.AppendUint32(data, h.PID)
		flags := nl.NLM_F_CAPPED
		if r.ExtAck != "" {
			flags |= nl.NLM_F_ACK_TLVS
			e := nl.NewEncoder(data)
			e.String(nl.NLMSGERR_ATTR_MSG, r.ExtAck)
			data = e.Bytes()
		}
		add(nl.Message{Header: nl.Header{Type: nl.NLMSG_ERROR, Flags: flags}, Data: data})
	}
	return d
}

// Recv returns the next queued answer.
func (k *Kernel) Recv() ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.queue) == 0 {
		return nil, errNothingQueued
	}
	d := k.queue[0]
	k.queue = k.queue[1:]
	return d, nil
}

// SetReadDeadline does nothing: Recv never waits.
func (k *Kernel) SetReadDeadline(time.Time) error { return nil }

// Close does nothing.
func (k *Kernel) Close() error { return nil }
