package nl

import (
	"bytes"
	"errors"
	"time"

	"github.com/mdlayher/netlink"
)

// Diff is diff, for the tests of package nl_test.
var Diff = diff

// NewTestConn is a Conn on any netlink.Socket (a fake kernel), with the
// given retry policy and acknowledgement budget per sendmsg (0: the
// default), that records its pauses instead of sleeping.
func NewTestConn(s netlink.Socket, retry Retry, ackBudget int) (c *Conn, pauses *[]time.Duration) {
	c = newConn(&socketTransport{s: s}, retry, defaultRcvbuf)
	if ackBudget > 0 {
		c.ackBudget = ackBudget
	}
	pauses = new([]time.Duration)
	c.sleep = func(d time.Duration) { *pauses = append(*pauses, d) }
	return c, pauses
}

// socketTransport is a netlink.Socket (a fake kernel) as a transport.
type socketTransport struct {
	s   netlink.Socket
	buf []byte
}

func (t *socketTransport) Send(b []byte) error {
	b = bytes.Clone(b) // the fake may keep what it was sent
	var msgs []netlink.Message
	for m, err := range messages(b) {
		if err != nil {
			return err
		}
		msgs = append(msgs, netlink.Message{Header: netlink.Header{Length: m.Header.Length, Type: netlink.HeaderType(m.Header.Type), Flags: netlink.HeaderFlags(m.Header.Flags), Sequence: m.Header.Sequence, PID: m.Header.PID}, Data: m.Data})
	}
	return t.s.SendMessages(msgs)
}

func (t *socketTransport) Recv() ([]byte, error) {
	msgs, err := t.s.Receive()
	if err != nil {
		return nil, err
	}
	t.buf = t.buf[:0]
	for _, m := range msgs {
		// As the kernel writes it: nlmsg_len unaligned, then padding.
		t.buf = host.AppendUint32(t.buf, uint32(NlmsgHdrLen+len(m.Data)))
		t.buf = host.AppendUint16(t.buf, uint16(m.Header.Type))
		t.buf = host.AppendUint16(t.buf, uint16(m.Header.Flags))
		t.buf = host.AppendUint32(t.buf, m.Header.Sequence)
		t.buf = host.AppendUint32(t.buf, m.Header.PID)
		t.buf = append(t.buf, m.Data...)
		for len(t.buf)%4 != 0 {
			t.buf = append(t.buf, 0)
		}
	}
	return t.buf, nil
}

func (t *socketTransport) SetReadDeadline(d time.Time) error {
	if s, ok := t.s.(interface{ SetReadDeadline(time.Time) error }); ok {
		return s.SetReadDeadline(d)
	}
	return errors.New("nl: the socket has no read deadline")
}

func (t *socketTransport) Close() error { return t.s.Close() }
