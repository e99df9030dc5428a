package tcwire

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/internal/nstest"
)

// timers are what `ip -d link show` prints of a bridge's and its ports'
// timers: they run, so a state compared must not hold them.
var timers = regexp.MustCompile(`[a-z_]+_timer +[0-9.]+ *`)

// bridgeOperState is a bridge's operstate, which the kernel's link watcher
// moves from UNKNOWN to UP a moment after a port starts forwarding, by
// itself: no state a call of tcwire's leaves.
var bridgeOperState = regexp.MustCompile(`(?m)^(\d+: br-[^:]*: .*) state (UNKNOWN|UP) `)

// actionIndex is a tc action's index, which the kernel counts.
var actionIndex = regexp.MustCompile(`index [0-9]+`)

// modeState is state with the bridges' FDB and the /dev nodes of the
// namespace's macvtaps, without the bridges' running timers.
func modeState(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	s := timers.ReplaceAllString(state(t, ns), "")
	s = bridgeOperState.ReplaceAllString(s, "$1 state (settling) ")
	s += "### bridge fdb: the bridges' static and permanent entries\n"
	for _, l := range strings.Split(ns.Run("bridge", "fdb", "show"), "\n") {
		// Learned entries, and the devices' own lists (which IPv6
		// changes as it joins groups), come and go by themselves.
		if strings.Contains(l, " master ") && (strings.HasSuffix(l, " static") || strings.HasSuffix(l, " permanent")) {
			s += l + "\n"
		}
	}
	for _, name := range strings.Fields(ns.Run("sh", "-c", "ls /sys/class/net")) {
		if out, err := ns.Try("sh", "-c", "ls /sys/class/net/"+name+"/macvtap"); err == nil {
			node := "/dev/" + strings.TrimSpace(out)
			var st unix.Stat_t
			if err := unix.Stat(node, &st); err == nil {
				s += node + " " + os.FileMode(st.Mode&0o777).String() + "\n"
			}
		}
	}
	return s
}

// converges attaches with o twice, checking the second changes nothing and
// that Check finds nothing amiss, then detaches, checking that the
// namespace is as it was before.
func converges(t *testing.T, ns *nstest.NS, o Options) *Attachment {
	t.Helper()
	ctx := context.Background()
	before := modeState(t, ns)
	a, err := Attach(ctx, o)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	if !a.Created || a.Mode != o.mode() {
		t.Errorf("Attach: created %v, mode %q", a.Created, a.Mode)
	}
	attached := modeState(t, ns)
	if ps, err := Check(ctx, o); err != nil || len(ps) != 0 {
		t.Errorf("Check after Attach: %v %v", ps, err)
	}
	b, err := Attach(ctx, o)
	if err != nil {
		t.Fatalf("second Attach: %v", err)
	}
	if b.Created || b.DevNode != a.DevNode || b.Bridge != a.Bridge || !bytes.Equal(b.MAC, a.MAC) {
		t.Errorf("second Attach: %+v, first %+v", b, a)
	}
	if again := modeState(t, ns); again != attached {
		t.Errorf("second Attach changed the state:\n--- after the first\n%s\n--- after the second\n%s", attached, again)
	}
	if p, err := PlanAttach(ctx, o); err != nil || len(p.Steps) != 0 {
		t.Errorf("PlanAttach after Attach: %v, %v", p, err)
	}
	if err := Detach(ctx, o); err != nil {
		t.Fatalf("Detach: %v", err)
	}
	if after := modeState(t, ns); after != before {
		t.Errorf("Detach did not restore the state:\n--- before Attach\n%s\n--- after Detach\n%s", before, after)
	}
	if err := Detach(ctx, o); err != nil {
		t.Errorf("second Detach: %v", err)
	}
	return a
}

func upVethNS(t *testing.T) *nstest.NS {
	ns := vethNS(t)
	ns.Run("ip", "link", "set", "eth0", "up")
	ns.Run("ip", "link", "set", "peer0", "up")
	return ns
}

func TestMacvtapMode(t *testing.T) {
	ns := upVethNS(t)
	var err error
	a := converges(t, ns, Options{NetNS: ns.Name, Dev: "eth0", Tap: "mvt0", Mode: ModeMacvtap, Group: new(100)})
	mac := strings.TrimSpace(ns.Run("cat", "/sys/class/net/eth0/address"))
	if a.MAC.String() != mac || !strings.HasPrefix(a.DevNode, "/dev/tap") {
		t.Errorf("Attachment %+v: want eth0's MAC %s and a /dev/tapN", a, mac)
	}
	o := Options{NetNS: ns.Name, Dev: "eth0", Tap: "mvt0", Mode: ModeMacvtap}
	if a, err = Attach(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	readsBinding(t, ns, Binding{Mode: ModeMacvtap, Dev: "eth0", Tap: "mvt0", DevNode: a.DevNode, Owned: true}, "eth0", "mvt0")
	if err := Detach(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

// readsBinding: ReadBindings finds want whether asked for every device or
// for each of names alone (then reading only those, their masters and the
// macvtaps).
func readsBinding(t *testing.T, ns *nstest.NS, want Binding, names ...string) {
	t.Helper()
	for _, ask := range append([][]string{nil}, func() (out [][]string) {
		for _, n := range names {
			out = append(out, []string{n})
		}
		return out
	}()...) {
		got, err := ReadBindings(context.Background(), ns.Name, ask...)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("ReadBindings(%v) = %+v, %v; want %+v", ask, got, err, want)
		}
	}
}

func TestBridgeMode(t *testing.T) {
	ns := upVethNS(t)
	ns.Run("ip", "link", "set", "eth0", "mtu", "1400")
	a := converges(t, ns, Options{NetNS: ns.Name, Dev: "eth0", Tap: "vm0", Mode: ModeBridge})
	if a.Bridge != "br-vm0" || a.MTU != 1400 {
		t.Errorf("Attachment %+v: want bridge br-vm0, MTU 1400", a)
	}
	o := Options{NetNS: ns.Name, Dev: "eth0", Tap: "vm0", Mode: ModeBridge}
	if _, err := Attach(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	readsBinding(t, ns, Binding{Mode: ModeBridge, Dev: "eth0", Tap: "vm0", Bridge: "br-vm0", Owned: true}, "eth0", "vm0", "br-vm0")
	if err := Detach(context.Background(), o); err != nil {
		t.Fatal(err)
	}
}

func TestMirror(t *testing.T) {
	ns := upVethNS(t)
	converges(t, ns, Options{NetNS: ns.Name, Dev: "eth0", Tap: "tap0", Mirror: true})
}

// TestModeDetails: what each mode leaves, as ip, bridge and tc show it.
func TestModeDetails(t *testing.T) {
	ns := upVethNS(t)
	ctx := context.Background()
	mac := strings.TrimSpace(ns.Run("cat", "/sys/class/net/eth0/address"))
	if _, err := Attach(ctx, Options{NetNS: ns.Name, Dev: "eth0", Tap: "vm0", Mode: ModeBridge}); err != nil {
		t.Fatal(err)
	}
	for cmd, want := range map[string][]string{
		"ip -d link show br-vm0":        {"alias tcwire:bridge dev=eth0 tap=vm0", "group_fwd_mask 0xfff8", "state UP"},
		"ip -d link show vm0":           {"master br-vm0", "learning off", "flood off", "alias tcwire"},
		"ip -d link show eth0":          {"master br-vm0", "learning on"},
		"bridge fdb show dev vm0":       {mac + " master br-vm0 static"},
		"tc qdisc show dev vm0 root":    {"noqueue"},
		"ip link show master br-vm0 up": {"vm0", "eth0"},
	} {
		out := ns.Run("sh", "-c", cmd)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %q lacks %q", cmd, out, w)
			}
		}
	}
	// DEV's MAC is no longer the bridge's local address on DEV's port.
	if out := ns.Run("bridge", "fdb", "show", "brport", "eth0"); strings.Contains(out, mac+" ") {
		t.Errorf("bridge fdb show brport eth0: %s", out)
	}
	if _, err := Attach(ctx, Options{NetNS: ns.Name, Dev: "peer0", Tap: "mv0", Mode: ModeMacvtap}); err != nil {
		t.Fatal(err)
	}
	out := ns.Run("ip", "-d", "link", "show", "mv0")
	for _, w := range []string{"macvtap mode passthru", "ALLMULTI", "alias tcwire", "@peer0"} {
		if !strings.Contains(out, w) {
			t.Errorf("ip -d link show mv0: %q lacks %q", out, w)
		}
	}
}

// TestMacvtapLinkLocal is the L2 fact macvtap mode rests on: a passthru
// macvtap with allmulticast on hands the VM a frame to 01:80:c2:00:00:0e
// (LLDP) that DEV's peer sends. TestBridgeLinkLocal is bridge mode's: the
// group_fwd_mask lets the bridge forward it to the tap.
func TestMacvtapLinkLocal(t *testing.T) {
	linkLocal(t, Options{Dev: "eth0", Tap: "mvt0", Mode: ModeMacvtap, Files: true})
}

func TestBridgeLinkLocal(t *testing.T) {
	linkLocal(t, Options{Dev: "eth0", Tap: "vm0", Mode: ModeBridge, Files: true})
}

func linkLocal(t *testing.T, o Options) {
	ns := upVethNS(t)
	o.NetNS = ns.Name
	a, err := Attach(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer Detach(context.Background(), o)
	f := a.Files[0]
	defer f.Close()
	if err := unix.SetNonblock(int(f.Fd()), true); err != nil {
		t.Fatal(err)
	}
	marker := "tcwire lldp oracle"
	frame := append([]byte{0x01, 0x80, 0xc2, 0, 0, 0x0e, 0x02, 0, 0, 0, 0, 0x09, 0x88, 0xcc}, marker...)
	for len(frame) < 60 {
		frame = append(frame, 0)
	}
	err = netns.Do(ns.Path(), func() error {
		ifi, err := net.InterfaceByName("peer0")
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		sa := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
		copy(sa.Addr[:], frame[:6])
		return unix.Sendto(fd, frame, 0, sa)
	})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		pfd := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}}
		unix.Poll(pfd, 100)
		n, err := unix.Read(int(f.Fd()), buf)
		if err == unix.EAGAIN {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		// The virtio-net header (10 bytes) comes first.
		if bytes.Contains(buf[:n], frame[:14]) && bytes.Contains(buf[:n], []byte(marker)) {
			return
		}
	}
	t.Fatalf("the frame to 01:80:c2:00:00:0e never reached %s's file", a.Tap)
}

// TestModeRefusals: what a mode cannot take is refused with the culprit
// named, and nothing changes; a failure half way is rolled back.
func TestModeRefusals(t *testing.T) {
	ns := upVethNS(t)
	ns.Run("ip", "link", "add", "br9", "type", "bridge")
	ns.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	ns.Run("ip", "link", "set", "eth1", "master", "br9")
	ns.Run("ip", "tuntap", "add", "tap9", "mode", "tap", "user", "0")
	ctx := context.Background()
	before := modeState(t, ns)
	for _, tc := range []struct {
		o    Options
		err  error
		want []string
	}{
		{Options{Dev: "eth1", Tap: "vm1", Mode: ModeBridge}, ErrConflict, []string{"eth1", "br9"}},
		{Options{Dev: "eth1", Tap: "mv1", Mode: ModeMacvtap}, ErrConflict, []string{"eth1", "br9"}},
		{Options{Dev: "eth0", Tap: "tap9", Mode: ModeMacvtap}, ErrNotTap, []string{"tap9", "not a macvtap"}},
		{Options{Dev: "eth0", Tap: "br9", Mode: ModeBridge}, ErrNotTap, []string{"br9"}},
		{Options{Dev: "eth0", Tap: "mv1", Mode: ModeMacvtap, Queues: 4}, ErrInvalid, []string{"macvtap", "queues 4"}},
		{Options{Dev: "eth0", Tap: "vm1", Mode: ModeBridge, Mirror: true}, ErrInvalid, []string{"bridge", "mirror"}},
		{Options{Dev: "nosuch0", Tap: "vm1", Mode: ModeBridge}, ErrNotFound, []string{"nosuch0"}},
	} {
		tc.o.NetNS = ns.Name
		_, err := Attach(ctx, tc.o)
		if !errors.Is(err, tc.err) {
			t.Errorf("%+v: %v, want %v", tc.o, err, tc.err)
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %v does not name %q", tc.o, err, w)
			}
		}
	}
	if err := Detach(ctx, Options{NetNS: ns.Name, Dev: "eth0", Tap: "tap9", Mode: ModeMacvtap}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not a macvtap") {
		t.Errorf("macvtap detach of a tap: %v", err)
	}
	if after := modeState(t, ns); after != before {
		t.Errorf("refusals changed the state:\n--- before\n%s\n--- after\n%s", before, after)
	}
	// DEV deleted just before the bridge takes it, or the mirror is
	// added: what Attach made goes again (deleting eth0 takes peer0 with
	// it: lo alone is left).
	for _, o := range []Options{
		{Dev: "eth0", Tap: "vm0", Mode: ModeBridge},
		{Dev: "eth0", Tap: "tap0", Mirror: true},
	} {
		t.Run(string(o.mode()), func(t *testing.T) {
			ns := upVethNS(t)
			o.NetNS = ns.Name
			want := modeState(t, nstest.New(t))
			stepHook = func(p string) {
				if p == "wire" {
					ns.Run("ip", "link", "del", "eth0")
				}
			}
			defer func() { stepHook = func(string) {} }()
			_, err := Attach(ctx, o)
			if err == nil || !strings.Contains(err.Error(), "eth0") {
				t.Errorf("Attach with eth0 deleted: %v, want an error naming eth0", err)
			}
			if got := modeState(t, ns); got != want {
				t.Errorf("Attach left state behind after %v:\n--- want\n%s\n--- got\n%s", err, want, got)
			}
		})
	}
}

// TestModeFiles: Options.Files hands out the files in every mode, on what
// Attach made and on what exists.
func TestModeFiles(t *testing.T) {
	for _, o := range []Options{
		{Dev: "eth0", Tap: "vm0", Mode: ModeBridge, Files: true},
		{Dev: "eth0", Tap: "mv0", Mode: ModeMacvtap, Files: true},
		{Dev: "eth0", Tap: "tap0", Mirror: true, Files: true},
	} {
		t.Run(string(o.mode()), func(t *testing.T) {
			ns := upVethNS(t)
			o.NetNS = ns.Name
			for i := 0; i < 2; i++ {
				a, err := Attach(context.Background(), o)
				if err != nil {
					t.Fatal(err)
				}
				if len(a.Files) != 1 || a.Created != (i == 0) {
					t.Errorf("Attach %d: %d files, created %v", i+1, len(a.Files), a.Created)
				}
				closeAll(a)
			}
		})
	}
}

// TestModeDrift: what is changed behind tcwire's back Check reports,
// naming the device, and a second Attach puts back.
func TestModeDrift(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		o     Options
		drift [][]string
		want  []string
	}{
		// Down first: turning allmulticast off on an up passthru macvtap
		// takes one from DEV's allmulti count, which its open never gave
		// (the kernel's accounting), and no later change gives it back.
		{Options{Dev: "eth0", Tap: "mv0", Mode: ModeMacvtap}, [][]string{{"ip", "link", "set", "mv0", "down"}, {"ip", "link", "set", "mv0", "allmulticast", "off"}},
			[]string{"mv0 has allmulticast off", "mv0 is down"}},
		{Options{Dev: "eth0", Tap: "vm0", Mode: ModeBridge}, [][]string{{"bridge", "link", "set", "dev", "vm0", "learning", "on"},
			{"sh", "-c", "bridge fdb del $(cat /sys/class/net/eth0/address) dev vm0 master"}, {"ip", "link", "set", "br-vm0", "type", "bridge", "group_fwd_mask", "0"}},
			[]string{"vm0's port learns", "vm0 has no static FDB entry", "br-vm0's group_fwd_mask is not 0xfff8"}},
		{Options{Dev: "eth0", Tap: "vm0", Mode: ModeBridge}, [][]string{{"ip", "link", "set", "eth0", "nomaster"}},
			[]string{"eth0 is not a port of br-vm0"}},
		{Options{Dev: "eth0", Tap: "tap0", Mirror: true}, [][]string{{"tc", "qdisc", "del", "dev", "eth0", "ingress"}},
			[]string{"eth0 has no ingress qdisc"}},
	} {
		t.Run(strings.Join(tc.want, ", "), func(t *testing.T) {
			ns := upVethNS(t)
			tc.o.NetNS = ns.Name
			if _, err := Attach(ctx, tc.o); err != nil {
				t.Fatal(err)
			}
			attached := modeState(t, ns)
			for _, c := range tc.drift {
				ns.Run(c[0], c[1:]...)
			}
			ps, err := Check(ctx, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.What)
			}
			for _, w := range tc.want {
				if !strings.Contains(strings.Join(got, "\n"), w) {
					t.Errorf("Check: %q, want %q", got, w)
				}
			}
			if _, err := Attach(ctx, tc.o); err != nil {
				t.Fatal(err)
			}
			if ps, err := Check(ctx, tc.o); err != nil || len(ps) != 0 {
				t.Errorf("Check after the second Attach: %v %v", ps, err)
			}
			// A mirror put back is a new action, with a new index.
			if again := actionIndex.ReplaceAllString(modeState(t, ns), "index N"); again != actionIndex.ReplaceAllString(attached, "index N") {
				t.Errorf("the second Attach did not put back what was changed:\n--- attached\n%s\n--- now\n%s", attached, again)
			}
		})
	}
}

// TestMacvtapNodeTaken: a /dev/tapN that is not the new macvtap's (a stale
// file, another namespace's macvtap with the same index) makes Attach fail
// naming it, and the macvtap is deleted again.
func TestMacvtapNodeTaken(t *testing.T) {
	ns := upVethNS(t)
	want := modeState(t, ns)
	var node string
	stepHook = func(p string) {
		if p != "create" {
			return
		}
		node = "/dev/tap" + strings.TrimSpace(ns.Run("cat", "/sys/class/net/mv0/ifindex"))
		os.Remove(node)
		if err := os.WriteFile(node, nil, 0o600); err != nil {
			t.Error(err)
		}
	}
	defer func() { stepHook = func(string) {} }()
	_, err := Attach(context.Background(), Options{NetNS: ns.Name, Dev: "eth0", Tap: "mv0", Mode: ModeMacvtap})
	stepHook = func(string) {}
	if node == "" {
		t.Fatal("Attach never reached create")
	}
	defer os.Remove(node)
	if !errors.Is(err, unix.EEXIST) || !strings.Contains(err.Error(), node) || !strings.Contains(err.Error(), "mv0") {
		t.Errorf("Attach with %s taken: %v, want EEXIST naming mv0 and the node", node, err)
	}
	if got := modeState(t, ns); got != want {
		t.Errorf("Attach left state behind:\n--- want\n%s\n--- got\n%s", want, got)
	}
}

// TestMacvtapMknod: where no devtmpfs or udev made the macvtap's node
// (its node is removed as soon as it exists, here), Attach makes it with
// mknod, records that in the alias, and Detach removes it.
func TestMacvtapMknod(t *testing.T) {
	ns := upVethNS(t)
	o := Options{NetNS: ns.Name, Dev: "eth0", Tap: "mv0", Mode: ModeMacvtap, Group: new(100)}
	var node string
	stepHook = func(p string) {
		if p == "create" {
			node = "/dev/tap" + strings.TrimSpace(ns.Run("cat", "/sys/class/net/mv0/ifindex"))
			if err := os.Remove(node); err != nil {
				t.Error(err)
			}
		}
	}
	defer func() { stepHook = func(string) {} }()
	a, err := Attach(context.Background(), o)
	stepHook = func(string) {}
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(node)
	var st unix.Stat_t
	if err := unix.Stat(a.DevNode, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Gid != 100 || st.Mode&0o777 != 0o660 {
		t.Errorf("%s: %v, mode %o gid %d; want a character device 0660 of group 100", a.DevNode, err, st.Mode, st.Gid)
	}
	if out := ns.Run("ip", "link", "show", "mv0"); !strings.Contains(out, "alias "+mknodAlias) {
		t.Errorf("mv0 does not record the mknod: %s", out)
	}
	if ps, err := Check(context.Background(), o); err != nil || len(ps) != 0 {
		t.Errorf("Check: %v %v", ps, err)
	}
	if err := Detach(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(node); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Detach left %s: %v", node, err)
	}
}
