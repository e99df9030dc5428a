package link

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
		l, err := ParseLink(nl.Message{Header: nl.Header{Type: unix.RTM_NEWLINK}, Data: b})
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
		e, err := ParseFDBEntry(nl.Message{Header: nl.Header{Type: unix.RTM_NEWNEIGH}, Data: b})
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

// FuzzParseAddr: ParseAddr never panics, and what it decodes agrees with
// the ifaddrmsg, holds a valid prefix of the family's width, and does not
// alias the buffer.
func FuzzParseAddr(f *testing.F) {
	for _, b := range fixtureBodies(f, unix.RTM_NEWADDR) {
		f.Add(b)
	}
	for _, b := range fixtureBodies(f, unix.RTM_DELADDR) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b := bytes.Clone(in)
		a, err := ParseAddr(nl.Message{Header: nl.Header{Type: unix.RTM_NEWADDR}, Data: b})
		if err != nil {
			return
		}
		var ifa Ifaddrmsg
		if err := ifa.UnmarshalBinary(b); err != nil {
			t.Fatalf("ParseAddr succeeded on a short ifaddrmsg: %v", err)
		}
		if a.Family != ifa.Family || a.Index != ifa.Index || a.Scope != ifa.Scope || a.Prefix.Bits() != int(ifa.PrefixLen) {
			t.Fatalf("address %+v vs ifaddrmsg %+v", a, ifa)
		}
		if !a.Prefix.IsValid() || a.Prefix.Addr().Is4() != (ifa.Family == unix.AF_INET) {
			t.Fatalf("prefix %v for family %d", a.Prefix, ifa.Family)
		}
		if a.Peer.IsValid() && a.Peer.Is4() != a.Prefix.Addr().Is4() {
			t.Fatalf("peer %v and address %v of different families", a.Peer, a.Prefix)
		}
		saved := *a
		for i := range b {
			b[i] ^= 0xff
		}
		if a.Prefix != saved.Prefix || a.Peer != saved.Peer || a.Label != saved.Label {
			t.Fatal("the decoded address aliases the message buffer")
		}
	})
}

// FuzzIfaddrmsg: decoding then encoding gives back the 8 bytes.
func FuzzIfaddrmsg(f *testing.F) {
	for _, typ := range []uint16{unix.RTM_NEWADDR, unix.RTM_DELADDR, unix.RTM_GETADDR} {
		for _, b := range fixtureBodies(f, typ) {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Ifaddrmsg
		if err := m.UnmarshalBinary(b); err != nil {
			if len(b) >= IfaddrmsgLen {
				t.Fatalf("%d bytes refused: %v", len(b), err)
			}
			return
		}
		if out, _ := m.MarshalBinary(); !bytes.Equal(out, b[:IfaddrmsgLen]) {
			t.Fatalf("round trip: % x, want % x", out, b[:IfaddrmsgLen])
		}
	})
}

// infoDataSeeds are the payloads the Info decoders read in the fixtures'
// RTM_NEWLINK messages: IFLA_INFO_DATA and IFLA_INFO_SLAVE_DATA of
// IFLA_LINKINFO, IFLA_PROTINFO, and the family nests of IFLA_AF_SPEC.
func infoDataSeeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, b := range fixtureBodies(f, unix.RTM_NEWLINK) {
		if len(b) < IfinfomsgLen {
			continue
		}
		attrs, _ := nl.ParseAttrs(b[IfinfomsgLen:])
		for _, a := range attrs {
			switch a.Type {
			case unix.IFLA_PROTINFO:
				out = append(out, a.Data)
			case unix.IFLA_AF_SPEC:
				fams, _ := nl.ParseAttrs(a.Data)
				for _, fam := range fams {
					out = append(out, fam.Data)
				}
			case unix.IFLA_LINKINFO:
				info, _ := nl.ParseAttrs(a.Data)
				for _, i := range info {
					if i.Type == unix.IFLA_INFO_DATA || i.Type == unix.IFLA_INFO_SLAVE_DATA {
						out = append(out, i.Data)
					}
				}
			}
		}
	}
	if len(out) == 0 {
		f.Fatal("no IFLA_INFO_DATA in the fixtures")
	}
	return out
}

// FuzzInfoData feeds the same bytes to every decoder of a kind's own
// attributes (tun, bridge, macvlan, bridge port) or of a family's
// (IFLA_AF_SPEC's AF_INET6), which ParseLink reaches only through a nest: none may panic, and each decodes the same
// input the same way twice.
func FuzzInfoData(f *testing.F) {
	for _, b := range infoDataSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dec := range []struct {
			name string
			new  func() interface{ UnmarshalBinary([]byte) error }
		}{
			{"TunInfo", func() interface{ UnmarshalBinary([]byte) error } { return new(TunInfo) }},
			{"BridgeInfo", func() interface{ UnmarshalBinary([]byte) error } { return new(BridgeInfo) }},
			{"MacvlanInfo", func() interface{ UnmarshalBinary([]byte) error } { return new(MacvlanInfo) }},
			{"BridgePort", func() interface{ UnmarshalBinary([]byte) error } { return new(BridgePort) }},
			{"Inet6Info", func() interface{ UnmarshalBinary([]byte) error } { return new(Inet6Info) }},
		} {
			one, two := dec.new(), dec.new()
			err1, err2 := one.UnmarshalBinary(b), two.UnmarshalBinary(bytes.Clone(b))
			if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(one, two) {
				t.Fatalf("%s decodes the same bytes differently: %+v (%v) and %+v (%v)", dec.name, one, err1, two, err2)
			}
			if _, perr := nl.ParseAttrs(b); perr != nil && err1 == nil {
				t.Fatalf("%s accepted attributes that do not parse: %v", dec.name, perr)
			}
		}
	})
}

// FuzzParseAddrGenMode: a mode name that parses prints back as itself.
func FuzzParseAddrGenMode(f *testing.F) {
	for _, s := range []string{"eui64", "none", "stable_secret", "random", "", "EUI64", "none\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseAddrGenMode(s)
		if err != nil {
			return
		}
		if m.String() != s {
			t.Fatalf("ParseAddrGenMode(%q) = %d, which prints as %q", s, m, m.String())
		}
	})
}

// FuzzParseMacvlanMode: a mode name that parses prints back as itself.
func FuzzParseMacvlanMode(f *testing.F) {
	for _, s := range []string{"private", "vepa", "bridge", "passthru", "source", "", "Bridge", "bridge\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMacvlanMode(s)
		if err != nil {
			return
		}
		if m.String() != s {
			t.Fatalf("ParseMacvlanMode(%q) = %d, which prints as %q", s, m, m.String())
		}
	})
}
