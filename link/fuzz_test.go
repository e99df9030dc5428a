package link

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/nl"
)

// fixtureBodies returns the bodies (after nlmsghdr) of every message of
// type typ the link fixtures hold, received and sent: the fuzz seeds.
func fixtureBodies(f *testing.F, typ uint16) [][]byte {
	fs, err := fixture.Glob(filepath.Join("..", "testdata", "link"), "*.fixture")
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, fx := range fs {
		for _, m := range append(received(f, fx), sent(f, fx)...) {
			if msgType(m) == typ {
				out = append(out, m[nl.NlmsgHdrLen:])
			}
		}
	}
	if len(out) == 0 {
		f.Fatalf("no fixture message of type %d", typ)
	}
	return out
}

// FuzzParseLink: ParseLink never panics, and what it decodes agrees with
// the ifinfomsg and with a second decoding.
func FuzzParseLink(f *testing.F) {
	for _, b := range fixtureBodies(f, unix.RTM_NEWLINK) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b := bytes.Clone(in) // scribbled on below
		l, err := ParseLink(netlink.Message{Header: netlink.Header{Type: unix.RTM_NEWLINK}, Data: b})
		if err != nil {
			return
		}
		var ifi Ifinfomsg
		if err := ifi.UnmarshalBinary(b); err != nil {
			t.Fatalf("ParseLink succeeded on a short ifinfomsg: %v", err)
		}
		if l.Index != ifi.Index || l.Flags != ifi.Flags || l.Type != ifi.Type || l.Family != ifi.Family {
			t.Fatalf("header fields %+v vs ifinfomsg %+v", l, ifi)
		}
		if strings.IndexByte(l.Name, 0) >= 0 || strings.IndexByte(l.Alias, 0) >= 0 || strings.IndexByte(l.Kind, 0) >= 0 {
			t.Fatalf("NUL in a decoded string: %q %q %q", l.Name, l.Alias, l.Kind)
		}
		var again Link
		if err := again.UnmarshalBinary(b); err != nil || again.Name != l.Name || again.Kind != l.Kind || again.MTU != l.MTU {
			t.Fatalf("second decoding differs: %+v, %v", again, err)
		}
		// The decoded Link must not alias the buffer.
		if len(l.MAC) > 0 {
			saved := append([]byte(nil), l.MAC...)
			for i := range b {
				b[i] ^= 0xff
			}
			if !bytes.Equal(l.MAC, saved) {
				t.Fatal("MAC aliases the message buffer")
			}
		}
	})
}

// FuzzIfinfomsg: decoding then encoding gives back the 16 bytes, pad byte
// zeroed.
func FuzzIfinfomsg(f *testing.F) {
	for _, b := range fixtureBodies(f, unix.RTM_NEWLINK) {
		f.Add(b)
	}
	for _, b := range fixtureBodies(f, unix.RTM_SETLINK) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Ifinfomsg
		if err := m.UnmarshalBinary(b); err != nil {
			if len(b) >= IfinfomsgLen {
				t.Fatalf("%d bytes refused: %v", len(b), err)
			}
			return
		}
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		want := append([]byte(nil), b[:IfinfomsgLen]...)
		want[1] = 0 // __ifi_pad
		if !bytes.Equal(out, want) {
			t.Fatalf("round trip: % x, want % x", out, want)
		}
	})
}

// FuzzNdmsg: decoding then encoding gives back the 12 bytes, pads zeroed.
func FuzzNdmsg(f *testing.F) {
	for _, b := range fixtureBodies(f, unix.RTM_NEWNEIGH) {
		f.Add(b)
	}
	for _, b := range fixtureBodies(f, unix.RTM_GETNEIGH) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Ndmsg
		if err := m.UnmarshalBinary(b); err != nil {
			if len(b) >= NdmsgLen {
				t.Fatalf("%d bytes refused: %v", len(b), err)
			}
			return
		}
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		want := append([]byte(nil), b[:NdmsgLen]...)
		want[1], want[2], want[3] = 0, 0, 0 // ndm_pad1, ndm_pad2
		if !bytes.Equal(out, want) {
			t.Fatalf("round trip: % x, want % x", out, want)
		}
	})
}

// FuzzFDBEntry: FDB entries decode without panicking, consistently with
// their ndmsg.
func FuzzFDBEntry(f *testing.F) {
	for _, b := range fixtureBodies(f, unix.RTM_NEWNEIGH) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseFDBEntry(netlink.Message{Header: netlink.Header{Type: unix.RTM_NEWNEIGH}, Data: b})
		if err != nil {
			return
		}
		var nd Ndmsg
		if err := nd.UnmarshalBinary(b); err != nil {
			t.Fatalf("ParseFDBEntry succeeded on a short ndmsg: %v", err)
		}
		if e.Ifindex != nd.Ifindex || e.State != nd.State || e.Flags != nd.Flags || nd.Family != unix.AF_BRIDGE {
			t.Fatalf("entry %+v vs ndmsg %+v", e, nd)
		}
	})
}
