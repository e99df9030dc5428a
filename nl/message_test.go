package nl_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tcwire/tcwire/nl"
)

// ackMsg is an NLMSG_ERROR acknowledgement (errno 0, the request's header
// echoed) as the kernel writes it: 36 bytes.
var ackMsg = []byte{
	0x24, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x07, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x10, 0x00, 0x00, 0x00, 0x24, 0x00, 0x05, 0x06, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
}

func TestMessageBinary(t *testing.T) {
	var m nl.Message
	if err := m.UnmarshalBinary(ackMsg); err != nil {
		t.Fatal(err)
	}
	want := nl.Header{Length: 36, Type: nl.NLMSG_ERROR, Flags: nl.NLM_F_CAPPED, Sequence: 7, PID: 42}
	if m.Header != want || !bytes.Equal(m.Data, ackMsg[nl.NlmsgHdrLen:]) {
		t.Fatalf("decoded %+v % x", m.Header, m.Data)
	}
	b, err := m.MarshalBinary()
	if err != nil || !bytes.Equal(b, ackMsg) {
		t.Fatalf("MarshalBinary = % x, %v; want % x", b, err, ackMsg)
	}
	// Data shorter than 4 bytes is padded; nlmsg_len stays unaligned.
	b, _ = nl.Message{Header: nl.Header{Type: 16}, Data: []byte{1}}.MarshalBinary()
	if want := []byte{17, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}; !bytes.Equal(b, want) {
		t.Fatalf("padded: % x, want % x", b, want)
	}

	for name, b := range map[string][]byte{
		"short":         ackMsg[:15],
		"nlmsg_len big": append([]byte{0x30}, ackMsg[1:]...),
		"two messages":  append(append([]byte(nil), ackMsg...), ackMsg...),
	} {
		if err := m.UnmarshalBinary(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := m.UnmarshalBinary(nil); !errors.Is(err, nl.ErrTruncated) {
		t.Errorf("empty: %v, want ErrTruncated", err)
	}
}

func FuzzMessage(f *testing.F) {
	f.Add(ackMsg)
	f.Add([]byte{17, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m nl.Message
		if m.UnmarshalBinary(b) != nil {
			return
		}
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var again nl.Message
		if err := again.UnmarshalBinary(out); err != nil {
			t.Fatalf("re-encoded % x: %v", out, err)
		}
		m.Header.Length = uint32(nl.NlmsgHdrLen + len(m.Data))
		if again.Header != m.Header || !bytes.Equal(again.Data, m.Data) {
			t.Fatalf("round trip: %+v % x, then %+v % x", m.Header, m.Data, again.Header, again.Data)
		}
	})
}
