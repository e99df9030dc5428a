package link

import (
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
)

// Live tests of the primitives that keep a device quiet (issue 12) and let
// a macvtap pass link-local multicast (issue 13), with ip and bridge as
// the oracles.

// addrs is ListAddrs (IPv6) failing the test on error; ipAddrs is what
// `ip -6 -j addr show dev DEV` lists, as "ADDR/LEN scope SCOPE".
func addrs(t *testing.T, c *nl.Conn, dev string) []*Addr {
	t.Helper()
	as, err := ListAddrs(c, dev, unix.AF_INET6)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func addrStrings(as []*Addr) []string {
	var out []string
	for _, a := range as {
		scope := map[uint8]string{unix.RT_SCOPE_UNIVERSE: "global", unix.RT_SCOPE_LINK: "link"}[a.Scope]
		out = append(out, a.Prefix.String()+" scope "+scope)
	}
	return out
}

func ipAddrs(t *testing.T, ns *nstest.NS, dev string) []string {
	t.Helper()
	var out []string
	for _, l := range ipJSON(t, ns, "ip", "-6", "addr", "show", "dev", dev) {
		infos, _ := l["addr_info"].([]any)
		for _, i := range infos {
			m := i.(map[string]any)
			out = append(out, netip.PrefixFrom(netip.MustParseAddr(m["local"].(string)), int(m["prefixlen"].(float64))).String()+
				" scope "+m["scope"].(string))
		}
	}
	return out
}

// checkAddrs compares ListAddrs with ip and with want.
func checkAddrs(t *testing.T, ns *nstest.NS, c *nl.Conn, dev string, want ...string) []*Addr {
	t.Helper()
	as := addrs(t, c, dev)
	got, ip := strings.Join(addrStrings(as), ", "), strings.Join(ipAddrs(t, ns, dev), ", ")
	if got != ip || got != strings.Join(want, ", ") {
		t.Errorf("%s: ListAddrs [%s], ip -6 addr shows [%s], want [%s]", dev, got, ip, strings.Join(want, ", "))
	}
	return as
}

// waitLinkLocal waits (up to 5 s) for dev's fe80:: address to appear and
// leave DAD (IFA_F_TENTATIVE), and returns it.
func waitLinkLocal(t *testing.T, c *nl.Conn, dev string) *Addr {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, a := range addrs(t, c, dev) {
			if a.LinkLocal() && a.Flags&unix.IFA_F_TENTATIVE == 0 {
				return a
			}
		}
	}
	t.Fatalf("%s: no fe80:: address out of DAD within 5 s", dev)
	return nil
}

// TestLiveAddrGenModeAndLinkLocal records what the workflow relies on to
// make a device quiet and to restore it (issue 12):
//   - addrgenmode none on a device that is up leaves its fe80:: address;
//   - deleting the address removes it (and the fe80::/64 route);
//   - addrgenmode eui64 on a device that is up does not bring it back;
//   - adding it back restores it (scope link, permanent, but IFA_PROTO
//     unset where the kernel's own has IFAPROT_KERNEL_LL);
//   - so does a down/up with eui64, as the kernel's own.
func TestLiveAddrGenModeAndLinkLocal(t *testing.T) {
	t.Parallel() // mostly waiting for DAD
	ns := nstest.New(t)
	addVethByIP(ns)
	// DAD in 0.1 s rather than 1-2 s: no random delay before the probe,
	// 100 ms for an answer.
	ns.Run("sysctl", "-qw", "net.ipv6.conf.eth0.router_solicitation_delay=0", "net.ipv6.neigh.eth0.retrans_time_ms=100")
	ns.Run("ip", "link", "set", "dev", "eth0", "address", "02:00:00:00:00:01") // testLL
	c := dial(t, ns)
	mode := func(want AddrGenMode) {
		t.Helper()
		l, err := Lookup(c, "eth0")
		if err != nil {
			t.Fatal(err)
		}
		ip := showLink(t, ns, "eth0")["inet6_addr_gen_mode"]
		if l.Inet6 == nil || l.Inet6.AddrGenMode != want || ip != want.String() {
			t.Errorf("eth0: Inet6 %+v, ip says addrgenmode %v; want %s", l.Inet6, ip, want)
		}
	}
	ll := testLL.String() + " scope link"
	if err := SetUp(c, "peer0"); err != nil {
		t.Fatal(err)
	}
	if err := SetUp(c, "eth0"); err != nil {
		t.Fatal(err)
	}
	mode(AddrGenModeEUI64)
	if a := waitLinkLocal(t, c, "eth0"); a.Prefix != testLL || a.Proto != IFAPROT_KERNEL_LL || a.Flags&unix.IFA_F_PERMANENT == 0 {
		t.Errorf("eth0's own link-local address: %+v, want %s, permanent, IFAPROT_KERNEL_LL", a, testLL)
	}

	if err := SetAddrGenMode(c, "eth0", AddrGenModeNone); err != nil {
		t.Fatal(err)
	}
	mode(AddrGenModeNone)
	checkAddrs(t, ns, c, "eth0", ll) // still there

	if err := DelAddr(c, "eth0", testLL); err != nil {
		t.Fatal(err)
	}
	checkAddrs(t, ns, c, "eth0")
	if out := ns.Run("ip", "-6", "route", "show", "dev", "eth0"); strings.Contains(out, "fe80::/64") {
		t.Errorf("fe80::/64 route left after the address went:\n%s", out)
	}
	if err := DelAddr(c, "eth0", testLL); !errors.Is(err, unix.EADDRNOTAVAIL) || !strings.Contains(err.Error(), "eth0") {
		t.Errorf("deleting twice: %v, want EADDRNOTAVAIL naming eth0", err)
	}

	if err := SetAddrGenMode(c, "eth0", AddrGenModeEUI64); err != nil {
		t.Fatal(err)
	}
	mode(AddrGenModeEUI64)
	time.Sleep(500 * time.Millisecond) // anything the mode change would start has started
	checkAddrs(t, ns, c, "eth0")       // not back while eth0 stays up

	if err := AddAddr(c, "eth0", testLL); err != nil {
		t.Fatal(err)
	}
	if a := waitLinkLocal(t, c, "eth0"); a.Prefix != testLL || a.Scope != unix.RT_SCOPE_LINK || a.Flags&unix.IFA_F_PERMANENT == 0 || a.Proto != IFAPROT_UNSPEC {
		t.Errorf("added back: %+v, want %s, scope link, permanent, no IFA_PROTO", a, testLL)
	}
	checkAddrs(t, ns, c, "eth0", ll)
	if out := ns.Run("ip", "-6", "route", "show", "dev", "eth0"); !strings.Contains(out, "fe80::/64") {
		t.Errorf("no fe80::/64 route after adding the address back:\n%s", out)
	}
	if err := AddAddr(c, "eth0", testLL); !errors.Is(err, unix.EEXIST) {
		t.Errorf("adding twice: %v, want EEXIST", err)
	}

	// The other way back: eui64 and a down/up make the kernel's own again.
	if err := DelAddr(c, "eth0", testLL); err != nil {
		t.Fatal(err)
	}
	if err := SetDown(c, "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := SetUp(c, "eth0"); err != nil {
		t.Fatal(err)
	}
	if a := waitLinkLocal(t, c, "eth0"); a.Prefix != testLL || a.Proto != IFAPROT_KERNEL_LL {
		t.Errorf("after down/up: %+v, want the kernel's %s", a, testLL)
	}
}

// TestLiveAddrIPv4: the same calls with an IPv4 address, listed with
// AF_INET, match ip.
func TestLiveAddrIPv4(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	c := dial(t, ns)
	p := netip.MustParsePrefix("192.0.2.1/24")
	if err := AddAddr(c, "eth0", p); err != nil {
		t.Fatal(err)
	}
	as, err := ListAddrs(c, "eth0", unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	v := ipJSON(t, ns, "ip", "-4", "addr", "show", "dev", "eth0")
	if len(as) != 1 || as[0].Prefix != p || as[0].Label != "eth0" || as[0].Scope != unix.RT_SCOPE_UNIVERSE || len(v) != 1 {
		t.Fatalf("ListAddrs(AF_INET) = %+v; ip -4 says %v", as, v)
	}
	if v6 := addrs(t, c, "eth0"); len(v6) != 0 {
		t.Errorf("ListAddrs(AF_INET6) on a down veth with an IPv4 address: %+v", v6)
	}
	if err := DelAddr(c, "eth0", p); err != nil {
		t.Fatal(err)
	}
	if v := ipJSON(t, ns, "ip", "-4", "addr", "show", "dev", "eth0"); len(v) != 0 {
		t.Errorf("address still there: %v", v)
	}
	if _, err := ListAddrs(c, "nosuch0", unix.AF_INET6); !IsNotFound(err) || !strings.Contains(err.Error(), "nosuch0") {
		t.Errorf("ListAddrs(nosuch0): %v, want ENODEV naming it", err)
	}
}

func TestLiveAllmulti(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	c := dial(t, ns)
	for _, on := range []bool{true, false} {
		if err := SetAllmulti(c, "eth0", on); err != nil {
			t.Fatal(err)
		}
		l, err := Lookup(c, "eth0")
		if err != nil {
			t.Fatal(err)
		}
		ip := showLink(t, ns, "eth0")
		flags, _ := ip["flags"].([]any)
		ipOn := false
		for _, f := range flags {
			ipOn = ipOn || f == "ALLMULTI"
		}
		want := map[bool]uint32{true: 1, false: 0}[on]
		if (l.Flags&unix.IFF_ALLMULTI != 0) != on || ipOn != on || l.Allmulti != want || ip["allmulti"] != float64(want) {
			t.Errorf("allmulticast %v: flags %#x, IFLA_ALLMULTI %d; ip says flags %v, allmulti %v", on, l.Flags, l.Allmulti, flags, ip["allmulti"])
		}
	}
}

// TestLiveFDBReplace: bridge fdb replace moves a MAC, even a port's own
// (permanent) one, to another port, where add fails with EEXIST.
func TestLiveFDBReplace(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	ns.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	ns.Run("ip", "link", "add", "br0", "type", "bridge")
	for _, d := range []string{"eth0", "eth1"} {
		ns.Run("ip", "link", "set", "dev", d, "master", "br0")
	}
	c := dial(t, ns)
	eth0, err := Lookup(c, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	where := func(mac net.HardwareAddr) (dev, state string) {
		for _, e := range ipJSON(t, ns, "bridge", "fdb", "show", "br", "br0") {
			if e["mac"] == mac.String() && e["master"] == "br0" {
				s, _ := e["state"].(string)
				return e["ifname"].(string), s
			}
		}
		return "", ""
	}
	if dev, state := where(eth0.MAC); dev != "eth0" || state != "permanent" {
		t.Fatalf("eth0's own MAC: on %q, %q; want eth0, permanent", dev, state)
	}
	if err := AddFDB(c, "eth1", eth0.MAC); !errors.Is(err, unix.EEXIST) {
		t.Errorf("AddFDB of eth0's MAC on eth1: %v, want EEXIST", err)
	}
	if err := ReplaceFDB(c, "eth1", eth0.MAC); err != nil {
		t.Fatal(err)
	}
	if dev, state := where(eth0.MAC); dev != "eth1" || state != "static" {
		t.Errorf("after replace: on %q, %q; want eth1, static", dev, state)
	}
	// Idempotent, and it creates an entry that was not there.
	if err := ReplaceFDB(c, "eth1", eth0.MAC); err != nil {
		t.Error(err)
	}
	if err := ReplaceFDB(c, "eth1", testMAC); err != nil {
		t.Fatal(err)
	}
	if dev, state := where(testMAC); dev != "eth1" || state != "static" {
		t.Errorf("new entry: on %q, %q; want eth1, static", dev, state)
	}
}

// TestLiveOperStateAndCarrier: OperState and Carrier, from a dump (List)
// and a lookup, are what `ip -j link show` says, in the states the
// workflow meets: a device down, a veth up whose peer is down
// (LOWERLAYERDOWN), a veth pair up, a persistent tap up that no VMM holds
// (DOWN, no carrier), lo up (UNKNOWN), a new bridge down (DOWN, but
// with carrier). Every device but lo on this kernel
// reports its addrgenmode in the dump too.
func TestLiveOperStateAndCarrier(t *testing.T) {
	ns := nstest.New(t) // lo up
	addVethByIP(ns)
	ns.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap")
	ns.Run("ip", "link", "add", "br0", "type", "bridge")
	c := dial(t, ns)
	for _, d := range []string{"eth0", "eth1", "peer1", "tap0"} {
		if err := SetUp(c, d); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]struct {
		state   string
		carrier bool
	}{
		"lo":    {"UNKNOWN", true},
		"peer0": {"DOWN", false},
		"eth0":  {"LOWERLAYERDOWN", false},
		"eth1":  {"UP", true},
		"peer1": {"UP", true},
		"tap0":  {"DOWN", false},
		// Carrier is not OperState: a bridge that is down and has no
		// port reports carrier.
		"br0": {"DOWN", true},
	}
	// Carrier comes with the peer a moment after up; wait for ip to agree
	// with the table before comparing.
	ipState := map[string]string{}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		for _, l := range ipJSON(t, ns, "ip", "link", "show") {
			ipState[l["ifname"].(string)] = l["operstate"].(string)
		}
		if ipState["eth1"] == "UP" && ipState["peer1"] == "UP" || time.Now().After(deadline) {
			break
		}
	}
	links, err := List(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != len(want) {
		t.Fatalf("List: %d devices, want %d", len(links), len(want))
	}
	for _, l := range links {
		w := want[l.Name]
		if l.OperState.String() != w.state || ipState[l.Name] != w.state || l.Carrier != w.carrier {
			t.Errorf("%s: OperState %s Carrier %v; ip says %s; want %s, carrier %v", l.Name, l.OperState, l.Carrier, ipState[l.Name], w.state, w.carrier)
		}
		one, err := Lookup(c, l.Name)
		if err != nil || one.OperState != l.OperState || one.Carrier != l.Carrier {
			t.Errorf("%s: Lookup says %v/%v, List %v/%v (%v)", l.Name, one.OperState, one.Carrier, l.OperState, l.Carrier, err)
		}
		if l.Name != "lo" && (l.Inet6 == nil || l.Inet6.AddrGenMode != AddrGenModeEUI64) {
			t.Errorf("%s: Inet6 %+v in the dump, want addrgenmode eui64", l.Name, l.Inet6)
		}
	}
}

// TestLiveAddrGenModeWithoutIPv6: disable_ipv6 keeps a device's IPv6 state
// (the mode can be set and reads back); an MTU below IPv6's minimum of
// 1280 removes it: no AF_INET6 in IFLA_AF_SPEC (Inet6 nil), and setting
// the mode fails with EAFNOSUPPORT.
func TestLiveAddrGenModeWithoutIPv6(t *testing.T) {
	ns := nstest.New(t)
	ns.Run("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
	addVethByIP(ns)
	c := dial(t, ns)
	if err := SetAddrGenMode(c, "eth0", AddrGenModeNone); err != nil {
		t.Fatalf("with disable_ipv6: %v", err)
	}
	if l, err := Lookup(c, "eth0"); err != nil || l.Inet6 == nil || l.Inet6.AddrGenMode != AddrGenModeNone {
		t.Errorf("with disable_ipv6: %+v, %v; want addrgenmode none", l, err)
	}
	if err := SetMTU(c, "eth0", 1000); err != nil {
		t.Fatal(err)
	}
	if l, err := Lookup(c, "eth0"); err != nil || l.Inet6 != nil {
		t.Errorf("MTU 1000: Inet6 %+v, %v; want none", l.Inet6, err)
	}
	if _, ok := showLink(t, ns, "eth0")["inet6_addr_gen_mode"]; ok {
		t.Error("MTU 1000: ip -d still shows an addrgenmode")
	}
	if err := SetAddrGenMode(c, "eth0", AddrGenModeEUI64); !errors.Is(err, unix.EAFNOSUPPORT) || !strings.Contains(err.Error(), "eth0") {
		t.Errorf("MTU 1000: SetAddrGenMode = %v, want EAFNOSUPPORT naming eth0", err)
	}
}
