package link

import (
	"bytes"
	"errors"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/nl"
)

// replies returns the fixture's received messages of type typ, decoded as
// nl.Message (header and body).
func replies(t testing.TB, name string, typ uint16) []nl.Message {
	t.Helper()
	f := loadFixture(t, name)
	var out []nl.Message
	for _, b := range received(t, f) {
		if msgType(b) != typ {
			continue
		}
		var m nl.Message
		if err := m.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no received message of type %d", name, typ)
	}
	return out
}

// ipShow is what the first two lines of an `ip link show` entry say.
type ipShow struct {
	index   int32
	name    string
	flags   []string
	mtu     uint32
	master  string
	state   string
	qlen    uint32
	mac     string
	details string // the -d lines after the second
}

var (
	ipShowLine1 = regexp.MustCompile(`^(\d+): ([^:@]+)(?:@[^:]+)?: <([^>]*)> mtu (\d+) qdisc \S+(?: master (\S+))? state (\S+) .* qlen (\d+)$`)
	ipShowLine2 = regexp.MustCompile(`^\s+link/\S+ (\S+) brd`)
)

// parseIPShow reads `ip [-d] link show` output, one entry per device.
func parseIPShow(t testing.TB, out string) []ipShow {
	t.Helper()
	var shows []ipShow
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if m := ipShowLine1.FindStringSubmatch(line); m != nil {
			idx, _ := strconv.Atoi(m[1])
			mtu, _ := strconv.Atoi(m[4])
			qlen, _ := strconv.Atoi(m[7])
			shows = append(shows, ipShow{index: int32(idx), name: m[2], flags: strings.Split(m[3], ","),
				mtu: uint32(mtu), master: m[5], state: m[6], qlen: uint32(qlen)})
			continue
		}
		if len(shows) == 0 {
			t.Fatalf("unexpected ip output line %q", line)
		}
		s := &shows[len(shows)-1]
		if m := ipShowLine2.FindStringSubmatch(line); m != nil && s.mac == "" {
			s.mac = m[1]
			continue
		}
		s.details += line + "\n"
	}
	return shows
}

// checkAgainstIP compares a decoded Link with ip's rendering of it.
func checkAgainstIP(t *testing.T, l *Link, s ipShow, masterIndex map[string]int32) {
	t.Helper()
	if l.Index != s.index || l.Name != s.name || l.MTU != s.mtu || l.TxQueueLen != s.qlen ||
		l.MAC.String() != s.mac || l.OperState.String() != s.state {
		t.Errorf("decoded %+v\nip says %+v", l, s)
	}
	up := false
	for _, f := range s.flags {
		up = up || f == "UP"
	}
	if l.Up() != up {
		t.Errorf("%s: Up() = %v, ip flags %v", l.Name, l.Up(), s.flags)
	}
	if s.master != "" && l.Master != masterIndex[s.master] {
		t.Errorf("%s: Master = %d, ip says master %s", l.Name, l.Master, s.master)
	}
	if s.master == "" && l.Master != 0 {
		t.Errorf("%s: Master = %d, ip shows none", l.Name, l.Master)
	}
	// ip shows the carrier only of a device that is up: LOWER_UP, or
	// NO-CARRIER.
	if up && l.Carrier != slices.Contains(s.flags, "LOWER_UP") {
		t.Errorf("%s: Carrier = %v, ip flags %v", l.Name, l.Carrier, s.flags)
	}
	if up && l.Carrier == slices.Contains(s.flags, "NO-CARRIER") {
		t.Errorf("%s: Carrier = %v, ip flags %v", l.Name, l.Carrier, s.flags)
	}
	// ip -d prints "addrgenmode MODE" for a device with IPv6.
	if m := addrGenModeRE.FindStringSubmatch(s.details); m != nil && (l.Inet6 == nil || l.Inet6.AddrGenMode.String() != m[1]) {
		t.Errorf("%s: Inet6 %+v, ip -d says addrgenmode %s", l.Name, l.Inet6, m[1])
	}
}

var addrGenModeRE = regexp.MustCompile(` addrgenmode (\S+) `)

func TestDecodeFixtures(t *testing.T) {
	masters := map[string]int32{"br0": 4}

	t.Run("link-show", func(t *testing.T) {
		msgs := replies(t, "link-show", unix.RTM_NEWLINK)
		l, err := ParseLink(msgs[0])
		if err != nil {
			t.Fatal(err)
		}
		f := loadFixture(t, "link-show")
		checkAgainstIP(t, l, parseIPShow(t, f.Stdout)[0], masters)
		if l.Kind != KindVeth || l.ParentIndex != 2 || l.NetNSID != -1 || l.Port != nil || l.Alias != "" || l.Owned() {
			t.Errorf("eth0: Kind %q ParentIndex %d NetNSID %d Port %v Alias %q", l.Kind, l.ParentIndex, l.NetNSID, l.Port, l.Alias)
		}
	})
	t.Run("link-show-port", func(t *testing.T) {
		l, err := ParseLink(replies(t, "link-show-port", unix.RTM_NEWLINK)[0])
		if err != nil {
			t.Fatal(err)
		}
		f := loadFixture(t, "link-show-port")
		s := parseIPShow(t, f.Stdout)[0]
		checkAgainstIP(t, l, s, masters)
		if l.PortKind != KindBridge || l.Port == nil {
			t.Fatalf("eth0: PortKind %q Port %v", l.PortKind, l.Port)
		}
		// ip -d: "learning on flood on … mcast_flood on bcast_flood on".
		want := BridgePort{State: 0, Learning: true, UnicastFlood: true, MulticastFlood: true, BroadcastFlood: true}
		if *l.Port != want || !strings.Contains(s.details, "state disabled") || !strings.Contains(s.details, "learning on flood on") {
			t.Errorf("port = %+v, want %+v; ip -d says:\n%s", *l.Port, want, s.details)
		}
		if l.MinMTU != 68 || l.MaxMTU != 65535 || l.NumTxQueues != 2 || l.Promiscuity != 1 {
			t.Errorf("MinMTU %d MaxMTU %d NumTxQueues %d Promiscuity %d", l.MinMTU, l.MaxMTU, l.NumTxQueues, l.Promiscuity)
		}
	})
	t.Run("link-show-bridge", func(t *testing.T) {
		l, err := ParseLink(replies(t, "link-show-bridge", unix.RTM_NEWLINK)[0])
		if err != nil {
			t.Fatal(err)
		}
		f := loadFixture(t, "link-show-bridge")
		s := parseIPShow(t, f.Stdout)[0]
		checkAgainstIP(t, l, s, masters)
		want := BridgeInfo{GroupFwdMask: 0, STPState: 0, VLANFiltering: false, AgeingTime: 30000}
		if l.Kind != KindBridge || l.Bridge == nil || *l.Bridge != want {
			t.Fatalf("br0: Kind %q Bridge %+v, want %+v", l.Kind, l.Bridge, want)
		}
		if !strings.Contains(s.details, "ageing_time 30000 stp_state 0") || !strings.Contains(s.details, "group_fwd_mask 0 ") {
			t.Errorf("ip -d disagrees:\n%s", s.details)
		}
	})
	t.Run("link-show-macvtap", func(t *testing.T) {
		msgs := replies(t, "link-show-macvtap", unix.RTM_NEWLINK)
		l, err := ParseLink(msgs[0])
		if err != nil {
			t.Fatal(err)
		}
		f := loadFixture(t, "link-show-macvtap")
		s := parseIPShow(t, f.Stdout)[0]
		checkAgainstIP(t, l, s, masters)
		if l.Kind != KindMacvtap || l.Macvlan == nil || l.Macvlan.Mode != ModeBridge || l.ParentIndex != 3 {
			t.Fatalf("mvtap0: Kind %q Macvlan %+v ParentIndex %d", l.Kind, l.Macvlan, l.ParentIndex)
		}
		if !strings.Contains(s.details, "macvtap mode "+l.Macvlan.Mode.String()+" ") {
			t.Errorf("ip -d disagrees:\n%s", s.details)
		}
		// The last reply is the lower device, asked by index.
		p, err := ParseLink(msgs[len(msgs)-1])
		if err != nil || p.Index != 3 || p.Name != "eth0" {
			t.Errorf("lower device: %+v, %v", p, err)
		}
	})
	t.Run("link-show-all", func(t *testing.T) {
		msgs := replies(t, "link-show-all", unix.RTM_NEWLINK)
		f := loadFixture(t, "link-show-all")
		shows := parseIPShow(t, f.Stdout)
		if len(msgs) != len(shows) {
			t.Fatalf("%d replies, ip shows %d devices", len(msgs), len(shows))
		}
		for i, m := range msgs {
			l, err := ParseLink(m)
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstIP(t, l, shows[i], masters)
			if int(l.Index) != f.Ifindex[l.Name] {
				t.Errorf("%s: index %d, capture says %d", l.Name, l.Index, f.Ifindex[l.Name])
			}
		}
	})
	t.Run("fdb-show", func(t *testing.T) {
		msgs := replies(t, "fdb-show", unix.RTM_NEWNEIGH)
		f := loadFixture(t, "fdb-show")
		lines := strings.Split(strings.TrimSpace(f.Stdout), "\n")
		if len(msgs) != len(lines) {
			t.Fatalf("%d entries, bridge shows %d", len(msgs), len(lines))
		}
		for i, m := range msgs {
			e, err := ParseFDBEntry(m)
			if err != nil {
				t.Fatal(err)
			}
			// "MAC master br0 static" / "MAC self permanent".
			fields := strings.Fields(lines[i])
			var want []string
			want = append(want, e.MAC.String())
			switch {
			case e.Master == 4: // bridge prints "master" for NDA_MASTER
				want = append(want, "master", "br0")
			case e.Flags&unix.NTF_SELF != 0:
				want = append(want, "self")
			}
			switch {
			case e.Static():
				want = append(want, "static")
			case e.State&unix.NUD_PERMANENT != 0:
				want = append(want, "permanent")
			}
			if strings.Join(fields, " ") != strings.Join(want, " ") || e.Ifindex != 3 {
				t.Errorf("entry %d: decoded %+v (%q), bridge says %q", i, e, want, lines[i])
			}
		}
		first, _ := ParseFDBEntry(msgs[0])
		if !bytes.Equal(first.MAC, testMAC) || !first.Static() {
			t.Errorf("first entry %+v, want the static %s", first, testMAC)
		}
	})
	t.Run("link-show-addrgenmode", func(t *testing.T) {
		l, err := ParseLink(replies(t, "link-show-addrgenmode", unix.RTM_NEWLINK)[0])
		if err != nil {
			t.Fatal(err)
		}
		f := loadFixture(t, "link-show-addrgenmode")
		s := parseIPShow(t, f.Stdout)[0]
		checkAgainstIP(t, l, s, masters)
		if l.Inet6 == nil || l.Inet6.AddrGenMode != AddrGenModeNone || !strings.Contains(s.details, "addrgenmode none") {
			t.Errorf("eth0: Inet6 %+v; ip -d says:\n%s", l.Inet6, s.details)
		}
		// Without addrgenmode set, the default: eui64.
		d, err := ParseLink(replies(t, "link-show", unix.RTM_NEWLINK)[0])
		if err != nil || d.Inet6 == nil || d.Inet6.AddrGenMode != AddrGenModeEUI64 {
			t.Errorf("link-show's eth0: Inet6 %+v, %v; want eui64", d.Inet6, err)
		}
	})
	t.Run("addr-show", func(t *testing.T) {
		f := loadFixture(t, "addr-show")
		// The link line: eth0 is up with carrier (its peer is up).
		l, err := ParseLink(replies(t, "addr-show", unix.RTM_NEWLINK)[0])
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(f.Stdout, "\n"), "\n")
		s := parseIPShow(t, lines[0])[0]
		s.mac = l.MAC.String() // `ip -6 addr` prints no link/ether line
		checkAgainstIP(t, l, s, masters)
		if !l.Carrier || l.OperState != IF_OPER_UP || l.OperState.String() != "UP" {
			t.Errorf("eth0: Carrier %v OperState %v, want carrier and UP", l.Carrier, l.OperState)
		}
		// ip -6 prints "inet6 ADDR/LEN scope SCOPE [FLAGS]", then lifetimes.
		msgs := replies(t, "addr-show", unix.RTM_NEWADDR)
		var got []string
		for _, m := range msgs {
			a, err := ParseAddr(m)
			if err != nil {
				t.Fatal(err)
			}
			if a.Family != unix.AF_INET6 || a.Index != 3 {
				t.Errorf("address %+v is not eth0's IPv6", a)
			}
			scope := map[uint8]string{unix.RT_SCOPE_UNIVERSE: "global", unix.RT_SCOPE_LINK: "link"}[a.Scope]
			got = append(got, "inet6 "+a.Prefix.String()+" scope "+scope)
			if a.ValidLft == 0xffffffff {
				got = append(got, "valid_lft forever preferred_lft forever")
			}
		}
		var want []string
		for _, line := range lines[1:] {
			want = append(want, strings.Join(strings.Fields(line), " "))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("decoded:\n%s\nip says:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		a, _ := ParseAddr(msgs[0])
		if a.Prefix != testLL || !a.LinkLocal() || a.Scope != unix.RT_SCOPE_LINK || a.Flags != unix.IFA_F_PERMANENT || a.Proto != IFAPROT_KERNEL_LL {
			t.Errorf("eth0's link-local address: %+v; want %s, permanent, made by the kernel", a, testLL)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for name, want := range map[string]unix.Errno{"link-show-missing": unix.ENODEV, "del-missing": unix.ENODEV, "addr-del-missing": unix.EADDRNOTAVAIL} {
			msgs := replies(t, name, unix.NLMSG_ERROR)
			m := msgs[len(msgs)-1]
			errno := -int32(nl.Uint32(m.Data))
			if unix.Errno(errno) != want {
				t.Errorf("%s: kernel answered %v, want %v", name, unix.Errno(errno), want)
			}
		}
	})
}

func TestIfinfomsgRoundTrip(t *testing.T) {
	m := Ifinfomsg{Family: unix.AF_BRIDGE, Type: unix.ARPHRD_ETHER, Index: -2, Flags: unix.IFF_UP | unix.IFF_LOWER_UP, Change: 0xffffffff}
	b, err := m.MarshalBinary()
	if err != nil || len(b) != IfinfomsgLen {
		t.Fatalf("MarshalBinary: %d bytes, %v", len(b), err)
	}
	var got Ifinfomsg
	if err := got.UnmarshalBinary(b); err != nil || got != m {
		t.Errorf("round trip: %+v, %v; want %+v", got, err, m)
	}
	if err := got.UnmarshalBinary(b[:15]); !errors.Is(err, nl.ErrTruncated) {
		t.Errorf("15 bytes: %v, want ErrTruncated", err)
	}
}

func TestNdmsgRoundTrip(t *testing.T) {
	m := Ndmsg{Family: unix.AF_BRIDGE, Ifindex: 7, State: unix.NUD_NOARP | unix.NUD_REACHABLE, Flags: unix.NTF_MASTER, Type: 1}
	b, err := m.MarshalBinary()
	if err != nil || len(b) != NdmsgLen {
		t.Fatalf("MarshalBinary: %d bytes, %v", len(b), err)
	}
	if want := []byte{7, 0, 0, 0, 7, 0, 0, 0, 0x42, 0, 4, 1}; nl.Uint16([]byte{1, 0}) == 1 && !bytes.Equal(b, want) {
		t.Errorf("encoding % x, want % x", b, want)
	}
	var got Ndmsg
	if err := got.UnmarshalBinary(b); err != nil || got != m {
		t.Errorf("round trip: %+v, %v; want %+v", got, err, m)
	}
	if err := got.UnmarshalBinary(b[:11]); !errors.Is(err, nl.ErrTruncated) {
		t.Errorf("11 bytes: %v, want ErrTruncated", err)
	}
}

// TestLinkUnknownAttributes: unknown attributes, at the top and inside
// IFLA_LINKINFO, are skipped; a known one too short is an error naming it.
func TestLinkUnknownAttributes(t *testing.T) {
	e := nl.NewEncoder(Ifinfomsg{Index: 9}.Append(nil))
	e.String(unix.IFLA_IFNAME, "x0")
	e.Uint32(999, 1)
	e.Nest(unix.IFLA_LINKINFO, func(e *nl.Encoder) {
		e.Attr(unix.IFLA_INFO_KIND, []byte("macvtap"))
		e.Nest(unix.IFLA_INFO_DATA, func(e *nl.Encoder) {
			e.Uint32(500, 7)
			e.Uint32(unix.IFLA_MACVLAN_MODE, MACVLAN_MODE_PASSTHRU)
		})
		e.Uint32(77, 0)
	})
	e.Attr(unix.IFLA_IFALIAS, []byte("tcwire:vm1"))
	var l Link
	if err := l.UnmarshalBinary(e.Bytes()); err != nil {
		t.Fatal(err)
	}
	if l.Name != "x0" || l.Index != 9 || l.Kind != KindMacvtap || l.Macvlan == nil || l.Macvlan.Mode != ModePassthru || !l.Owned() {
		t.Errorf("decoded %+v", l)
	}

	bad := nl.NewEncoder(Ifinfomsg{Index: 9}.Append(nil))
	bad.String(unix.IFLA_IFNAME, "x0")
	bad.Attr(unix.IFLA_MTU, []byte{1, 2})
	err := l.UnmarshalBinary(bad.Bytes())
	if !errors.Is(err, nl.ErrTruncated) || !strings.Contains(err.Error(), "IFLA_MTU") || !strings.Contains(err.Error(), "x0") {
		t.Errorf("short IFLA_MTU: %v", err)
	}
	if _, err := ParseLink(nl.Message{Header: nl.Header{Type: unix.RTM_NEWNEIGH}, Data: e.Bytes()}); err == nil {
		t.Error("ParseLink accepted an RTM_NEWNEIGH")
	}
}

func TestOwnedBy(t *testing.T) {
	for alias, want := range map[string]bool{"tcwire": true, "tcwire:vm1": true, "": false, "tcwirex": false, "x tcwire": false} {
		if got := OwnedBy(alias); got != want {
			t.Errorf("OwnedBy(%q) = %v", alias, got)
		}
	}
}

func TestNameAttr(t *testing.T) {
	for name, want := range map[string]uint16{
		"eth0":             unix.IFLA_IFNAME,
		"fifteen-chars-x":  unix.IFLA_IFNAME,
		"sixteen-chars-xx": unix.IFLA_ALT_IFNAME,
		"a:b":              unix.IFLA_ALT_IFNAME,
		"a b":              unix.IFLA_ALT_IFNAME,
	} {
		if got := nameAttr(name); got != want {
			t.Errorf("nameAttr(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestMacvlanModeNames(t *testing.T) {
	for _, s := range []string{"private", "vepa", "bridge", "passthru", "source"} {
		m, err := ParseMacvlanMode(s)
		if err != nil || m.String() != s {
			t.Errorf("ParseMacvlanMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseMacvlanMode("bogus"); err == nil {
		t.Error("ParseMacvlanMode(bogus) succeeded")
	}
}

func TestRequestCmds(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	for _, c := range []struct{ got, want string }{
		{SetAliasRequest(3, "eth0", "").Cmd, "ip link set dev eth0 alias ''"},
		{SetAliasRequest(3, "eth0", "it's mine").Cmd, `ip link set dev eth0 alias 'it'\''s mine'`},
		{SetMACRequest(3, "eth0", mac).Cmd, "ip link set dev eth0 address 02:00:00:00:00:01"},
		{SetDownRequest(3, "eth0").Cmd, "ip link set dev eth0 down"},
		{GetIndexRequest(7).Cmd, "ip link show dev if7"},
		{DelFDBRequest(3, "eth0", mac).Cmd, "bridge fdb del 02:00:00:00:00:01 dev eth0 master"},
	} {
		if c.got != c.want {
			t.Errorf("Cmd %q, want %q", c.got, c.want)
		}
	}
}

func mustBytes(t testing.TB, r nl.Request) []byte {
	t.Helper()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
