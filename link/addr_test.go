package link

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/nl"
)

func TestAddrDecode(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.1")
	peer := netip.MustParseAddr("192.0.2.9")
	build := func(ifa Ifaddrmsg, attrs func(e *nl.Encoder)) []byte {
		e := nl.NewEncoder(ifa.Append(nil))
		attrs(e)
		return e.Bytes()
	}
	for _, c := range []struct {
		name string
		b    []byte
		want *Addr // nil: an error containing err
		err  string
	}{
		{"ipv4 with label and flags", build(Ifaddrmsg{Family: unix.AF_INET, PrefixLen: 24, Flags: 0x80, Index: 3}, func(e *nl.Encoder) {
			e.Attr(unix.IFA_ADDRESS, v4.AsSlice())
			e.Attr(unix.IFA_LOCAL, v4.AsSlice())
			e.String(unix.IFA_LABEL, "eth0")
			e.Uint32(unix.IFA_FLAGS, unix.IFA_F_PERMANENT|unix.IFA_F_NOPREFIXROUTE)
			e.Attr(unix.IFA_CACHEINFO, make([]byte, 16))
			e.Uint32(999, 1) // unknown: skipped
		}), &Addr{Family: unix.AF_INET, Index: 3, Flags: unix.IFA_F_PERMANENT | unix.IFA_F_NOPREFIXROUTE,
			Prefix: netip.PrefixFrom(v4, 24), Label: "eth0"}, ""},
		{"point-to-point peer", build(Ifaddrmsg{Family: unix.AF_INET, PrefixLen: 32, Index: 3}, func(e *nl.Encoder) {
			e.Attr(unix.IFA_ADDRESS, peer.AsSlice())
			e.Attr(unix.IFA_LOCAL, v4.AsSlice())
		}), &Addr{Family: unix.AF_INET, Index: 3, Prefix: netip.PrefixFrom(v4, 32), Peer: peer}, ""},
		{"ipv6 from the request", AddAddrRequest(3, "eth0", testLL).Data,
			&Addr{Family: unix.AF_INET6, Index: 3, Prefix: testLL}, ""},
		{"short header", []byte{10, 64, 0}, nil, "ifaddrmsg in 3 bytes"},
		{"unknown family", build(Ifaddrmsg{Family: unix.AF_BRIDGE, Index: 3}, func(*nl.Encoder) {}), nil, "ifa_family"},
		{"prefix too long", build(Ifaddrmsg{Family: unix.AF_INET, PrefixLen: 33, Index: 3}, func(e *nl.Encoder) {
			e.Attr(unix.IFA_LOCAL, v4.AsSlice())
		}), nil, "33 bits"},
		{"ipv4-sized address in ipv6", build(Ifaddrmsg{Family: unix.AF_INET6, PrefixLen: 64, Index: 3}, func(e *nl.Encoder) {
			e.Attr(unix.IFA_ADDRESS, v4.AsSlice())
		}), nil, "IFA_ADDRESS: 4 bytes, want 16"},
		{"no address", build(Ifaddrmsg{Family: unix.AF_INET6, PrefixLen: 64, Index: 3}, func(e *nl.Encoder) {
			e.Uint32(unix.IFA_FLAGS, 0)
		}), nil, "neither IFA_LOCAL nor IFA_ADDRESS"},
		{"short cacheinfo", build(Ifaddrmsg{Family: unix.AF_INET6, PrefixLen: 64, Index: 3}, func(e *nl.Encoder) {
			e.Attr(unix.IFA_ADDRESS, testLL.Addr().AsSlice())
			e.Attr(unix.IFA_CACHEINFO, []byte{1, 2, 3})
		}), nil, "IFA_CACHEINFO"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := ParseAddr(nl.Message{Header: nl.Header{Type: unix.RTM_NEWADDR}, Data: c.b})
			if c.want == nil {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("ParseAddr = %+v, %v; want an error containing %q", a, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *a != *c.want {
				t.Errorf("decoded %+v\nwant    %+v", *a, *c.want)
			}
		})
	}
	if _, err := ParseAddr(nl.Message{Header: nl.Header{Type: unix.RTM_NEWLINK}}); err == nil {
		t.Error("ParseAddr accepted an RTM_NEWLINK")
	}
	if !(&Addr{Prefix: testLL}).LinkLocal() || (&Addr{Prefix: netip.PrefixFrom(v4, 24)}).LinkLocal() {
		t.Error("LinkLocal")
	}
}

func TestAddrRequests(t *testing.T) {
	v4 := netip.MustParsePrefix("192.0.2.1/24")
	for _, c := range []struct{ got, want string }{
		{AddAddrRequest(3, "eth0", v4).Cmd, "ip addr add 192.0.2.1/24 dev eth0"},
		{DelAddrRequest(3, "eth0", testLL).Cmd, "ip addr del fe80::ff:fe00:1/64 dev eth0"},
		{ListAddrRequest(3, "eth0", unix.AF_INET6).Cmd, "ip -6 addr show dev eth0"},
		{ListAddrRequest(3, "eth0", unix.AF_UNSPEC).Cmd, "ip addr show dev eth0"},
		{SetAllmultiRequest(3, "eth0", true).Cmd, "ip link set dev eth0 allmulticast on"},
		{SetAddrGenModeRequest(3, "eth0", AddrGenModeStablePrivacy).Cmd, "ip link set dev eth0 addrgenmode stable_secret"},
		{ReplaceFDBRequest(3, "eth0", testMAC).Cmd, "bridge fdb replace 02:00:00:00:00:aa dev eth0 master static"},
	} {
		if c.got != c.want {
			t.Errorf("Cmd %q, want %q", c.got, c.want)
		}
	}
	// An IPv4 address: AF_INET, 4-byte IFA_LOCAL and IFA_ADDRESS.
	var a Addr
	if err := a.UnmarshalBinary(AddAddrRequest(3, "eth0", v4).Data); err != nil || a.Family != unix.AF_INET || a.Prefix != v4 {
		t.Errorf("AddAddrRequest(192.0.2.1/24) decodes as %+v, %v", a, err)
	}
	// Bad prefixes are refused before any request (c is never used).
	for _, p := range []netip.Prefix{{}, netip.PrefixFrom(netip.MustParseAddr("fe80::1"), 129)} {
		if err := AddAddr(nil, "eth0", p); !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "eth0") {
			t.Errorf("AddAddr(%v) = %v, want EINVAL naming eth0", p, err)
		}
	}
}

func TestAddrGenModeNames(t *testing.T) {
	for _, s := range []string{"eui64", "none", "stable_secret", "random"} {
		m, err := ParseAddrGenMode(s)
		if err != nil || m.String() != s {
			t.Errorf("ParseAddrGenMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseAddrGenMode("bogus"); err == nil {
		t.Error("ParseAddrGenMode(bogus) succeeded")
	}
	if s := AddrGenMode(9).String(); s != "AddrGenMode(9)" {
		t.Errorf("AddrGenMode(9) = %q", s)
	}
}
