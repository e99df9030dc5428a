package link

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
)

// The live tests run in throwaway namespaces (internal/nstest) with
// iproute2's JSON output as the oracle. Nothing touches the root namespace.

func dial(t *testing.T, ns *nstest.NS) *nl.Conn {
	t.Helper()
	c, err := nl.Dial(&nl.Config{NetNS: ns.Path()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ipJSON runs `ip -j …` (or bridge, with tool "bridge") in ns and decodes
// its array of objects.
func ipJSON(t *testing.T, ns *nstest.NS, tool string, args ...string) []map[string]any {
	t.Helper()
	out := ns.Run(tool, append([]string{"-j"}, args...)...)
	var v []map[string]any
	if strings.TrimSpace(out) == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%s %v: %v: %s", tool, args, err, out)
	}
	return v
}

// showLink is `ip -d -j link show dev NAME` in ns.
func showLink(t *testing.T, ns *nstest.NS, name string) map[string]any {
	t.Helper()
	v := ipJSON(t, ns, "ip", "-d", "link", "show", "dev", name)
	if len(v) != 1 {
		t.Fatalf("ip link show dev %s: %d objects", name, len(v))
	}
	return v[0]
}

// differsLegitimately are the `ip -d -j link show` keys whose values depend
// on when and where a device was made, not on how: its index and its
// peer's or lower device's index, the kernel's random MAC address, and
// link_netnsid (the id one namespace gives another, assigned on first use).
var differsLegitimately = []string{"ifindex", "link_index", "address", "link_netnsid"}

// sameAsIP checks that the device name made by tcwire in a reads like the
// one made by ip in b, apart from differsLegitimately.
func sameAsIP(t *testing.T, a, b *nstest.NS, name string) {
	t.Helper()
	ours, theirs := showLink(t, a, name), showLink(t, b, name)
	for _, k := range differsLegitimately {
		delete(ours, k)
		delete(theirs, k)
	}
	if !reflect.DeepEqual(ours, theirs) {
		for k := range merge(ours, theirs) {
			if !reflect.DeepEqual(ours[k], theirs[k]) {
				t.Errorf("%s: %q: tcwire's %v, ip's %v", name, k, ours[k], theirs[k])
			}
		}
	}
}

func merge(a, b map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// addVethByIP gives ns the pair eth0/peer0, made by ip.
func addVethByIP(ns *nstest.NS) {
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
}

func TestLiveVethLikeIP(t *testing.T) {
	a, b := nstest.New(t), nstest.New(t)
	c := dial(t, a)
	if err := AddVeth(c, Veth{Name: "veth0", Peer: "veth1"}); err != nil {
		t.Fatal(err)
	}
	b.Run("ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
	sameAsIP(t, a, b, "veth0")
	sameAsIP(t, a, b, "veth1")

	l, err := Lookup(c, "veth0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Lookup(c, "veth1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != KindVeth || l.ParentIndex != p.Index || p.ParentIndex != l.Index || l.NetNSID != -1 {
		t.Errorf("veth0 %+v, veth1 %+v", l, p)
	}
	if err := AddVeth(c, Veth{Name: "veth0", Peer: "veth2"}); !errors.Is(err, unix.EEXIST) || !strings.Contains(err.Error(), "veth0") {
		t.Errorf("adding veth0 twice: %v, want EEXIST naming veth0", err)
	}
}

func TestLiveVethPeerInNetNS(t *testing.T) {
	a, aPeer := nstest.New(t), nstest.New(t)
	b, bPeer := nstest.New(t), nstest.New(t)
	c := dial(t, a)
	if err := AddVeth(c, Veth{Name: "veth0", Peer: "veth1", PeerNetNS: aPeer.Name}); err != nil {
		t.Fatal(err)
	}
	b.Run("ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", bPeer.Name)
	sameAsIP(t, a, b, "veth0")
	sameAsIP(t, aPeer, bPeer, "veth1")
	if _, err := a.Try("ip", "link", "show", "dev", "veth1"); err == nil {
		t.Error("veth1 is in the first namespace too")
	}
	l, err := Lookup(c, "veth0")
	if err != nil {
		t.Fatal(err)
	}
	if l.NetNSID < 0 || l.ParentIndex != int32(aPeer.Ifindex("veth1")) {
		t.Errorf("veth0: NetNSID %d ParentIndex %d, peer index %d", l.NetNSID, l.ParentIndex, aPeer.Ifindex("veth1"))
	}
	// By path too.
	if err := AddVeth(c, Veth{Name: "veth2", Peer: "veth3", PeerNetNS: aPeer.Path()}); err != nil {
		t.Fatal(err)
	}
	aPeer.Run("ip", "link", "show", "dev", "veth3")
	if err := AddVeth(c, Veth{Name: "veth4", Peer: "veth5", PeerNetNS: "tcwire-no-such-netns"}); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "veth4") {
		t.Errorf("peer in a missing namespace: %v", err)
	}
}

func TestLiveBridgeLikeIP(t *testing.T) {
	a, b := nstest.New(t), nstest.New(t)
	c := dial(t, a)
	if err := AddBridge(c, "br0"); err != nil {
		t.Fatal(err)
	}
	b.Run("ip", "link", "add", "br0", "type", "bridge")
	sameAsIP(t, a, b, "br0")
	l, err := Lookup(c, "br0")
	if err != nil {
		t.Fatal(err)
	}
	if l.Kind != KindBridge || l.Bridge == nil || l.Bridge.GroupFwdMask != 0 {
		t.Errorf("br0: %+v", l)
	}
}

func TestLiveMacvtapLikeIP(t *testing.T) {
	for _, mode := range []MacvlanMode{ModeBridge, ModePassthru, ModeVEPA, ModePrivate, 0} {
		for _, tap := range []bool{true, false} {
			m := Macvlan{Name: "mv0", Parent: "eth0", Mode: mode, Tap: tap}
			t.Run(fmt.Sprintf("%s-%v", m.kind(), mode), func(t *testing.T) {
				a, b := nstest.New(t), nstest.New(t)
				addVethByIP(a)
				// A second pair first in the twin, so its macvtap gets
				// another index and so another /dev/tapN.
				b.Run("ip", "link", "add", "pad0", "type", "veth", "peer", "name", "pad1")
				addVethByIP(b)
				c := dial(t, a)
				if err := AddMacvlan(c, m); err != nil {
					t.Fatal(err)
				}
				args := []string{"link", "add", "mv0", "link", "eth0", "type", m.kind()}
				if mode != 0 {
					args = append(args, "mode", mode.String())
				}
				b.Run("ip", args...)
				sameAsIP(t, a, b, "mv0")

				l, err := Lookup(c, "mv0")
				if err != nil {
					t.Fatal(err)
				}
				wantMode := mode
				if mode == 0 {
					wantMode = ModeVEPA
				}
				if l.Kind != m.kind() || l.Macvlan == nil || l.Macvlan.Mode != wantMode || l.ParentIndex != int32(a.Ifindex("eth0")) {
					t.Errorf("mv0: Kind %q Macvlan %+v ParentIndex %d", l.Kind, l.Macvlan, l.ParentIndex)
				}
				if !tap {
					return
				}
				path, err := MakeMacvtapDev(l.Index, "mv0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { removeStaleNode(t, a, path) })
				if path != MacvtapDevPath(l.Index) {
					t.Errorf("path %s", path)
				}
				checkMacvtapNode(t, a, path, l.Index)
			})
		}
	}
}

// removeStaleNode deletes the macvtap, then the node if it outlived it: a
// node made by mknod (not devtmpfs) would stay in the shared /dev and make
// the next run's macvtap with this index fail with EEXIST.
func removeStaleNode(t *testing.T, ns *nstest.NS, path string) {
	if _, err := ns.Try("ip", "link", "del", "mv0"); err != nil {
		t.Logf("cleanup: %v", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cleanup: %v", err)
	}
}

// checkMacvtapNode checks that path is the character device sysfs gives for
// the macvtap with index ifindex in ns, and that it opens.
func checkMacvtapNode(t *testing.T, ns *nstest.NS, path string, ifindex int32) {
	t.Helper()
	dev := strings.TrimSpace(ns.Run("cat", fmt.Sprintf("/sys/class/net/mv0/macvtap/tap%d/dev", ifindex)))
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)); got != dev || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("%s is %s (mode %o), sysfs says %s", path, got, st.Mode, dev)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	f.Close()
}

// TestLiveMacvtapDevNode: when no node exists (no devtmpfs or udev), one is
// made with the right number; a node with another number is refused.
func TestLiveMacvtapDevNode(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	ns.Run("ip", "link", "add", "mv0", "link", "eth0", "type", "macvtap", "mode", "bridge")
	idx := int32(ns.Ifindex("mv0"))
	major, minor, err := MacvtapDevNum(idx, "mv0")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(ns.Run("cat", fmt.Sprintf("/sys/class/net/mv0/macvtap/tap%d/dev", idx))); fmt.Sprintf("%d:%d", major, minor) != want {
		t.Errorf("MacvtapDevNum = %d:%d, sysfs %s", major, minor, want)
	}
	dir := t.TempDir()
	path := dir + "/tap"
	if err := makeCharDev(path, major, minor); err != nil {
		t.Fatal(err)
	}
	if err := makeCharDev(path, major, minor); err != nil {
		t.Errorf("second time: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || unix.Major(st.Rdev) != major || unix.Minor(st.Rdev) != minor || st.Mode&0o777 != 0o600 {
		t.Errorf("node: %+v, %v", st, err)
	}
	if err := makeCharDev(path, major, minor+1); !errors.Is(err, unix.EEXIST) {
		t.Errorf("node with another number: %v, want EEXIST", err)
	}
	if _, _, err := MacvtapDevNum(999, "nosuch0"); !errors.Is(err, unix.ENODEV) || !strings.Contains(err.Error(), "nosuch0") {
		t.Errorf("missing macvtap: %v", err)
	}
}

func TestLiveSetters(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	c := dial(t, ns)
	mac := net.HardwareAddr{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	for _, step := range []struct {
		do    func() error
		key   string
		want  any
		check func(l *Link) bool
	}{
		{func() error { return SetMTU(c, "eth0", 9000) }, "mtu", 9000.0, func(l *Link) bool { return l.MTU == 9000 }},
		{func() error { return SetMAC(c, "eth0", mac) }, "address", mac.String(), func(l *Link) bool { return l.MAC.String() == mac.String() }},
		{func() error { return Mark(c, "eth0") }, "ifalias", OwnerAlias, func(l *Link) bool { return l.Owned() }},
		{func() error { return SetAlias(c, "eth0", "someone else") }, "ifalias", "someone else", func(l *Link) bool { return !l.Owned() }},
		{func() error { return SetAlias(c, "eth0", "") }, "ifalias", nil, func(l *Link) bool { return l.Alias == "" }},
		{func() error { return SetUp(c, "eth0") }, "up", true, func(l *Link) bool { return l.Up() }},
		{func() error { return SetDown(c, "eth0") }, "up", false, func(l *Link) bool { return !l.Up() }},
	} {
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		got := showLink(t, ns, "eth0")
		val := got[step.key]
		if step.key == "up" {
			val = false
			for _, f := range got["flags"].([]any) {
				val = val.(bool) || f == "UP"
			}
		}
		if !reflect.DeepEqual(val, step.want) {
			t.Errorf("after setting %s: ip shows %v, want %v", step.key, val, step.want)
		}
		l, err := Lookup(c, "eth0")
		if err != nil {
			t.Fatal(err)
		}
		if !step.check(l) {
			t.Errorf("after setting %s: Lookup gives %+v", step.key, l)
		}
	}
	if err := Mark(c, "eth0"); err != nil {
		t.Fatal(err)
	}
	if owned, err := IsOwned(c, "eth0"); err != nil || !owned {
		t.Errorf("IsOwned(eth0) = %v, %v", owned, err)
	}
	if owned, err := IsOwned(c, "peer0"); err != nil || owned {
		t.Errorf("IsOwned(peer0) = %v, %v", owned, err)
	}
	// Up on both ends: carrier and operstate follow.
	if err := SetUp(c, "eth0"); err != nil {
		t.Fatal(err)
	}
	if err := SetUp(c, "peer0"); err != nil {
		t.Fatal(err)
	}
	l, err := Lookup(c, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	if want := showLink(t, ns, "eth0")["operstate"]; l.OperState.String() != want || !l.Carrier || l.Flags&unix.IFF_LOWER_UP == 0 {
		t.Errorf("eth0 up: OperState %v Carrier %v flags %#x; ip says %v", l.OperState, l.Carrier, l.Flags, want)
	}
	if err := SetMTU(c, "eth0", 70000); !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "eth0") {
		t.Errorf("MTU 70000: %v, want EINVAL naming eth0", err)
	}
}

func TestLiveMasterAndPortFlags(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	ns.Run("ip", "link", "add", "br0", "type", "bridge")
	c := dial(t, ns)
	if err := SetMaster(c, "eth0", "br0"); err != nil {
		t.Fatal(err)
	}
	if got := showLink(t, ns, "eth0")["master"]; got != "br0" {
		t.Errorf("ip shows master %v", got)
	}
	l, err := Lookup(c, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	if l.Master != int32(ns.Ifindex("br0")) || l.PortKind != KindBridge || l.Port == nil || !l.Port.Learning || !l.Port.UnicastFlood {
		t.Fatalf("eth0 enslaved: %+v port %+v", l, l.Port)
	}

	port := func() map[string]any {
		v := ipJSON(t, ns, "bridge", "-d", "link", "show", "dev", "eth0")
		if len(v) != 1 {
			t.Fatalf("bridge link show: %v", v)
		}
		return v[0]
	}
	check := func(learning, flood bool) {
		t.Helper()
		p := port()
		if p["learning"] != learning || p["flood"] != flood {
			t.Errorf("bridge -d link show: learning %v flood %v, want %v %v", p["learning"], p["flood"], learning, flood)
		}
		info := showLink(t, ns, "eth0")["linkinfo"].(map[string]any)["info_slave_data"].(map[string]any)
		if info["learning"] != learning || info["flood"] != flood {
			t.Errorf("ip -d link show: learning %v flood %v", info["learning"], info["flood"])
		}
		l, err := Lookup(c, "eth0")
		if err != nil {
			t.Fatal(err)
		}
		if l.Port.Learning != learning || l.Port.UnicastFlood != flood {
			t.Errorf("Lookup: port %+v, want learning %v flood %v", l.Port, learning, flood)
		}
	}
	if err := SetLearning(c, "eth0", false); err != nil {
		t.Fatal(err)
	}
	check(false, true)
	if err := SetUnicastFlood(c, "eth0", false); err != nil {
		t.Fatal(err)
	}
	check(false, false)
	if err := SetBridgePort(c, "eth0", PortFlags{Learning: ptr(true), UnicastFlood: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	check(true, true)

	if err := SetNoMaster(c, "eth0"); err != nil {
		t.Fatal(err)
	}
	if got, ok := showLink(t, ns, "eth0")["master"]; ok {
		t.Errorf("ip still shows master %v", got)
	}
	if err := SetLearning(c, "eth0", false); err == nil {
		t.Error("setting learning on a device that is no bridge port succeeded")
	}
	if err := SetMaster(c, "eth0", "nosuch0"); !errors.Is(err, unix.ENODEV) || !strings.Contains(err.Error(), "nosuch0") {
		t.Errorf("master nosuch0: %v", err)
	}
}

func TestLiveFDB(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	ns.Run("ip", "link", "add", "br0", "type", "bridge")
	ns.Run("ip", "link", "set", "dev", "eth0", "master", "br0")
	c := dial(t, ns)
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0xaa}
	if err := AddFDB(c, "eth0", mac); err != nil {
		t.Fatal(err)
	}
	find := func() map[string]any {
		for _, e := range ipJSON(t, ns, "bridge", "fdb", "show", "dev", "eth0") {
			if e["mac"] == mac.String() {
				return e
			}
		}
		return nil
	}
	e := find()
	if e == nil || e["master"] != "br0" || e["state"] != "static" {
		t.Fatalf("bridge fdb show: %v", e)
	}
	entries, err := ListFDB(c, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	shown := ipJSON(t, ns, "bridge", "fdb", "show", "dev", "eth0")
	if len(entries) != len(shown) {
		t.Errorf("ListFDB: %d entries, bridge shows %d", len(entries), len(shown))
	}
	var ours *FDBEntry
	for _, f := range entries {
		if f.MAC.String() == mac.String() {
			ours = f
		}
	}
	if ours == nil || !ours.Static() || ours.Master != int32(ns.Ifindex("br0")) || ours.Ifindex != int32(ns.Ifindex("eth0")) {
		t.Errorf("ListFDB entry: %+v", ours)
	}
	if err := AddFDB(c, "eth0", mac); !errors.Is(err, unix.EEXIST) {
		t.Errorf("adding twice: %v, want EEXIST", err)
	}
	if err := DelFDB(c, "eth0", mac); err != nil {
		t.Fatal(err)
	}
	if e := find(); e != nil {
		t.Errorf("entry still there: %v", e)
	}
	if err := DelFDB(c, "eth0", mac); !errors.Is(err, unix.ENOENT) || !strings.Contains(err.Error(), "eth0") {
		t.Errorf("deleting twice: %v, want ENOENT naming eth0", err)
	}
}

func TestLiveGroupFwdMask(t *testing.T) {
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "br0", "type", "bridge")
	c := dial(t, ns)
	if err := SetGroupFwdMask(c, "br0", 0x4000); err != nil {
		t.Fatal(err)
	}
	data := showLink(t, ns, "br0")["linkinfo"].(map[string]any)["info_data"].(map[string]any)
	if data["group_fwd_mask"] != "0x4000" {
		t.Errorf("ip shows group_fwd_mask %v", data["group_fwd_mask"])
	}
	l, err := Lookup(c, "br0")
	if err != nil {
		t.Fatal(err)
	}
	if l.Bridge == nil || l.Bridge.GroupFwdMask != 0x4000 {
		t.Errorf("Lookup: bridge %+v", l.Bridge)
	}
	// STP, pause and slow-protocol groups cannot be forwarded.
	if err := SetGroupFwdMask(c, "br0", 0x0004); !errors.Is(err, unix.EINVAL) {
		t.Errorf("mask 0x4: %v, want EINVAL", err)
	}
}

func TestLiveLookupAndList(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	ns.Run("ip", "link", "add", "br0", "type", "bridge")
	ns.Run("ip", "link", "set", "dev", "eth0", "master", "br0")
	ns.Run("ip", "link", "set", "dev", "peer0", "alias", "tcwire:test", "mtu", "1400", "up")
	c := dial(t, ns)
	links, err := List(c)
	if err != nil {
		t.Fatal(err)
	}
	shown := ipJSON(t, ns, "ip", "link", "show")
	if len(links) != len(shown) {
		t.Fatalf("List: %d links, ip shows %d", len(links), len(shown))
	}
	byIndex := map[int32]*Link{}
	for _, l := range links {
		byIndex[l.Index] = l
	}
	for i, s := range shown {
		l := links[i]
		if float64(l.Index) != s["ifindex"] || l.Name != s["ifname"] || float64(l.MTU) != s["mtu"] ||
			l.MAC.String() != s["address"] || l.OperState.String() != s["operstate"] || float64(l.TxQueueLen) != s["txqlen"] {
			t.Errorf("List[%d] = %+v\nip: %v", i, l, s)
		}
		if alias, _ := s["ifalias"].(string); l.Alias != alias {
			t.Errorf("%s: alias %q, ip %q", l.Name, l.Alias, alias)
		}
		master := ""
		if m := byIndex[l.Master]; m != nil {
			master = m.Name
		}
		if want, _ := s["master"].(string); master != want {
			t.Errorf("%s: master %q, ip %q", l.Name, master, want)
		}
		parent := ""
		if p := byIndex[l.ParentIndex]; p != nil && l.ParentIndex != l.Index {
			parent = p.Name
		}
		if want, _ := s["link"].(string); parent != want {
			t.Errorf("%s: parent %q, ip %q", l.Name, parent, want)
		}
		var flags []string
		for _, f := range s["flags"].([]any) {
			flags = append(flags, f.(string))
		}
		if up := strings.Contains(","+strings.Join(flags, ",")+",", ",UP,"); up != l.Up() {
			t.Errorf("%s: Up %v, ip flags %v", l.Name, l.Up(), flags)
		}
		// Lookup by name and by index agree with the dump.
		for _, get := range []func() (*Link, error){
			func() (*Link, error) { return Lookup(c, l.Name) },
			func() (*Link, error) { return LookupIndex(c, l.Index) },
		} {
			g, err := get()
			if err != nil {
				t.Fatal(err)
			}
			if g.Index != l.Index || g.Name != l.Name || g.MTU != l.MTU || g.MAC.String() != l.MAC.String() ||
				g.Master != l.Master || g.Kind != l.Kind || g.Alias != l.Alias || g.Flags != l.Flags {
				t.Errorf("lookup of %s: %+v, dump %+v", l.Name, g, l)
			}
		}
	}
	if ok, err := Exists(c, "peer0"); !ok || err != nil {
		t.Errorf("Exists(peer0) = %v, %v", ok, err)
	}
	if ok, err := Exists(c, "nosuch0"); ok || err != nil {
		t.Errorf("Exists(nosuch0) = %v, %v", ok, err)
	}
}

// TestLiveErrors: every operation on a device that does not exist names it
// and satisfies errors.Is(err, unix.ENODEV).
func TestLiveErrors(t *testing.T) {
	ns := nstest.New(t)
	c := dial(t, ns)
	ops := map[string]func() error{
		"Lookup":      func() error { _, err := Lookup(c, "nosuch0"); return err },
		"SetUp":       func() error { return SetUp(c, "nosuch0") },
		"SetDown":     func() error { return SetDown(c, "nosuch0") },
		"SetMTU":      func() error { return SetMTU(c, "nosuch0", 1500) },
		"SetMAC":      func() error { return SetMAC(c, "nosuch0", net.HardwareAddr{2, 0, 0, 0, 0, 1}) },
		"SetAlias":    func() error { return SetAlias(c, "nosuch0", "x") },
		"SetMaster":   func() error { return SetMaster(c, "nosuch0", "lo") },
		"SetNoMaster": func() error { return SetNoMaster(c, "nosuch0") },
		"SetNetNS":    func() error { return SetNetNS(c, "nosuch0", ns.Name) },
		"Delete":      func() error { return Delete(c, "nosuch0") },
		"AddMacvlan":  func() error { return AddMacvlan(c, Macvlan{Name: "mv0", Parent: "nosuch0", Tap: true}) },
		"SetLearning": func() error { return SetLearning(c, "nosuch0", false) },
		"AddFDB":      func() error { return AddFDB(c, "nosuch0", net.HardwareAddr{2, 0, 0, 0, 0, 1}) },
		"ListFDB":     func() error { _, err := ListFDB(c, "nosuch0"); return err },
		"IsOwned":     func() error { _, err := IsOwned(c, "nosuch0"); return err },
		"GroupFwd":    func() error { return SetGroupFwdMask(c, "nosuch0", 0x4000) },
	}
	for name, op := range ops {
		err := op()
		if !errors.Is(err, unix.ENODEV) || !IsNotFound(err) || !strings.Contains(err.Error(), "nosuch0") {
			t.Errorf("%s: %v, want ENODEV naming nosuch0", name, err)
		}
	}
	if _, err := LookupIndex(c, 9999); !errors.Is(err, unix.ENODEV) || !strings.Contains(err.Error(), "9999") {
		t.Errorf("LookupIndex(9999): %v", err)
	}
	if _, err := Lookup(c, ""); !errors.Is(err, unix.ENODEV) {
		t.Errorf("Lookup(\"\"): %v", err)
	}
	long := "a-name-longer-than-ifnamsiz"
	if _, err := Lookup(c, long); !errors.Is(err, unix.ENODEV) || !strings.Contains(err.Error(), long) {
		t.Errorf("Lookup(%s): %v", long, err)
	}
}

func TestLiveSetNetNSAndDelete(t *testing.T) {
	a, b := nstest.New(t), nstest.New(t)
	addVethByIP(a)
	c := dial(t, a)
	if err := SetNetNS(c, "eth0", b.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Try("ip", "link", "show", "dev", "eth0"); err == nil {
		t.Error("eth0 still in the first namespace")
	}
	b.Run("ip", "link", "show", "dev", "eth0")
	cb := dial(t, b)
	l, err := Lookup(cb, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	if l.NetNSID < 0 || l.ParentIndex != int32(a.Ifindex("peer0")) {
		t.Errorf("moved eth0: NetNSID %d ParentIndex %d", l.NetNSID, l.ParentIndex)
	}
	// Back, by path.
	if err := SetNetNS(cb, "eth0", a.Path()); err != nil {
		t.Fatal(err)
	}
	a.Run("ip", "link", "show", "dev", "eth0")
	if err := Delete(c, "eth0"); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []string{"eth0", "peer0"} {
		if _, err := a.Try("ip", "link", "show", "dev", dev); err == nil {
			t.Errorf("%s survives Delete(eth0)", dev)
		}
	}
	if err := Delete(c, "eth0"); !IsNotFound(err) {
		t.Errorf("second Delete: %v", err)
	}
}
