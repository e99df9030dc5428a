package tuntap

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/link"
	"golang.org/x/sys/unix"
)

// Every test here creates devices only inside namespaces from nstest, through
// Config.NetNS / OpenConfig.NetNS or `ip netns exec`.

func mustCreate(t *testing.T, cfg Config) *Tap {
	t.Helper()
	tap, err := Create(cfg)
	if err != nil {
		t.Fatalf("Create(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { tap.Close() })
	return tap
}

func exists(ns *nstest.NS, name string) bool {
	_, err := ns.Try("ip", "link", "show", "dev", name)
	return err == nil
}

// ipLink returns `ip -d -j link show NAME` as decoded JSON.
func ipLink(t *testing.T, ns *nstest.NS, name string) map[string]any {
	t.Helper()
	var links []map[string]any
	if err := json.Unmarshal([]byte(ns.Run("ip", "-d", "-j", "link", "show", "dev", name)), &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -d -j link show %s: %v (%d links)", name, err, len(links))
	}
	return links[0]
}

func infoData(t *testing.T, ns *nstest.NS, name string) map[string]any {
	t.Helper()
	li, _ := ipLink(t, ns, name)["linkinfo"].(map[string]any)
	data, _ := li["info_data"].(map[string]any)
	if li["info_kind"] != "tun" || data == nil {
		t.Fatalf("%s: linkinfo %v, want a tun device", name, li)
	}
	return data
}

func sysfs(t *testing.T, ns *nstest.NS, name, attr string) string {
	t.Helper()
	// `ip netns exec` mounts a sysfs of the namespace; ours would show the
	// root namespace's devices.
	return strings.TrimSpace(ns.Run("cat", "/sys/class/net/"+name+"/"+attr))
}

// A tap made by Create reads, to `ip -d -j link show`, exactly like one
// made by `ip tuntap add` with the same options in a twin namespace.
func TestCreateMatchesIPTuntap(t *testing.T) {
	nstest.RequireTool(t, "ip")
	a, b := nstest.New(t), nstest.New(t)
	const name, uid, gid = "vmtap0", 1234, 5678

	tap := mustCreate(t, Config{Name: name, Queues: 4, Owner: new(uid), Group: new(gid), Persist: true, NetNS: a.Name})
	if got := infoData(t, a, name)["numqueues"]; got != 4.0 {
		t.Errorf("numqueues with the Tap open = %v, want 4", got)
	}
	// ip tuntap closes its file after TUNSETPERSIST; compare like with like.
	if err := tap.Close(); err != nil {
		t.Fatal(err)
	}
	b.Run("ip", "tuntap", "add", "dev", name, "mode", "tap", "vnet_hdr", "multi_queue",
		"user", fmt.Sprint(uid), "group", fmt.Sprint(gid))

	got, want := ipLink(t, a, name), ipLink(t, b, name)
	// Fields that legitimately differ between two otherwise equal devices:
	//   address: a random MAC per tap;
	//   ifindex: a per-namespace counter (equal here, but only because both
	//            namespaces are fresh).
	// Nothing else is dropped: operstate, flags, carrier-related state and
	// numqueues match because both devices have no file attached.
	for _, m := range []map[string]any{got, want} {
		delete(m, "address")
		delete(m, "ifindex")
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("Create and ip tuntap differ:\nCreate:\n%s\nip tuntap:\n%s", g, w)
	}
	// And the fields that matter, spelled out, so that a change in both
	// (a newer iproute2) cannot hide a regression.
	data := infoData(t, a, name)
	for k, v := range map[string]any{"type": "tap", "pi": false, "vnet_hdr": true, "multi_queue": true,
		"persist": true, "user": float64(uid), "group": float64(gid)} {
		if data[k] != v {
			t.Errorf("info_data[%q] = %v, want %v", k, data[k], v)
		}
	}
	if err := Delete(name, a.Name); err != nil {
		t.Fatal(err)
	}
}

func TestLifetime(t *testing.T) {
	ns := nstest.New(t)

	t.Run("non-persistent disappears on Close", func(t *testing.T) {
		tap := mustCreate(t, Config{Name: "eph0", Queues: 2, NetNS: ns.Name})
		if !exists(ns, "eph0") {
			t.Fatal("eph0 missing after Create")
		}
		if err := tap.Close(); err != nil {
			t.Fatal(err)
		}
		if exists(ns, "eph0") {
			t.Error("eph0 still exists after Close")
		}
		if err := tap.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := tap.Flags(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Flags after Close: %v, want os.ErrClosed", err)
		}
	})

	t.Run("persistent stays until Delete", func(t *testing.T) {
		// NetNS as a path this time.
		tap := mustCreate(t, Config{Name: "per0", Persist: true, NetNS: ns.Path()})
		flags, err := tap.Flags()
		if err != nil {
			t.Fatal(err)
		}
		if want := uint16(DefaultFlags | IFF_PERSIST); flags != want {
			t.Errorf("Flags() = %#04x, want %#04x", flags, want)
		}
		tap.Close()
		if !exists(ns, "per0") {
			t.Fatal("persistent per0 gone after Close")
		}
		if err := Delete("per0", ns.Name); err != nil {
			t.Fatal(err)
		}
		if exists(ns, "per0") {
			t.Fatal("per0 still exists after Delete")
		}
		err = Delete("per0", ns.Name)
		if !errors.Is(err, unix.ENODEV) {
			t.Fatalf("second Delete: %v, want ENODEV", err)
		}
		if want := "tuntap: delete per0: no such device"; err.Error() != want {
			t.Errorf("second Delete: %q, want %q", err, want)
		}
		if _, err := Open(OpenConfig{Name: "per0", NetNS: ns.Name}); !errors.Is(err, unix.ENODEV) {
			t.Errorf("Open of a deleted tap: %v, want ENODEV", err)
		}
	})

	t.Run("Delete and Open leave other devices alone", func(t *testing.T) {
		ns.Run("ip", "link", "add", "ve0", "type", "veth", "peer", "name", "ve1")
		err := Delete("ve0", ns.Name)
		if !errors.Is(err, ErrNotTunTap) || err.Error() != "tuntap: delete ve0: not a tun/tap device (kind veth)" {
			t.Errorf("Delete(veth) = %v", err)
		}
		if _, err := Open(OpenConfig{Name: "lo", NetNS: ns.Name}); !errors.Is(err, ErrNotTunTap) {
			t.Errorf("Open(lo) = %v, want ErrNotTunTap", err)
		}
		if !exists(ns, "ve0") || !exists(ns, "lo") {
			t.Error("a non-tap device was removed")
		}
	})

	t.Run("Create refuses an existing name", func(t *testing.T) {
		first := mustCreate(t, Config{Name: "dup0", NetNS: ns.Name})
		_, err := Create(Config{Name: "dup0", NetNS: ns.Name})
		if !errors.Is(err, unix.EBUSY) || !strings.HasPrefix(err.Error(), "tuntap: create dup0: TUNSETIFF: device or resource busy") {
			t.Fatalf("second Create: %v, want EBUSY", err)
		}
		_, err = Create(Config{Name: "ve1", NetNS: ns.Name})
		if !errors.Is(err, unix.EBUSY) {
			t.Errorf("Create over a veth: %v, want EBUSY", err)
		}
		// The failed attempt did not touch the first device.
		if f, err := first.Flags(); err != nil || f != DefaultFlags {
			t.Errorf("first.Flags() = %#04x, %v", f, err)
		}
	})

	t.Run("kernel-chosen names", func(t *testing.T) {
		for _, tc := range []struct {
			cfg  Config
			want string
		}{
			{Config{NetNS: ns.Name}, `^tap[0-9]+$`},
			{Config{Name: "vm%d", NetNS: ns.Name}, `^vm[0-9]+$`},
			{Config{Flags: IFF_TUN | IFF_NO_PI, Queues: 2, NetNS: ns.Name}, `^tun[0-9]+$`},
		} {
			tap := mustCreate(t, tc.cfg)
			if !regexp.MustCompile(tc.want).MatchString(tap.Name()) || !exists(ns, tap.Name()) {
				t.Errorf("Create(%+v).Name() = %q, want %s", tc.cfg, tap.Name(), tc.want)
			}
			if tap.Queues() != max(tc.cfg.Queues, 1) {
				t.Errorf("%s: Queues() = %d", tap.Name(), tap.Queues())
			}
			tap.Close()
		}
	})
}

// Flags reads back what was asked for, including IFF_NO_PI, which the
// kernel's TUNGETIFF answer cannot show (IFF_NOFILTER has the same value).
func TestFlagsReadBack(t *testing.T) {
	ns := nstest.New(t)
	for i, flags := range []uint16{
		DefaultFlags,
		IFF_TAP,
		IFF_TAP | IFF_VNET_HDR,
		IFF_TAP | IFF_NO_PI,
		DefaultFlags | IFF_ONE_QUEUE,
		DefaultFlags | IFF_MULTI_QUEUE,
		IFF_TUN | IFF_NO_PI,
	} {
		name := fmt.Sprintf("fl%d", i)
		tap := mustCreate(t, Config{Name: name, Flags: flags, NetNS: ns.Name})
		got, err := tap.Flags()
		if err != nil {
			t.Fatal(err)
		}
		if got != flags {
			t.Errorf("%s: Flags() = %#04x, want %#04x", name, got, flags)
		}
		data := infoData(t, ns, name)
		if data["pi"] != (flags&IFF_NO_PI == 0) || data["vnet_hdr"] != (flags&IFF_VNET_HDR != 0) {
			t.Errorf("%s (flags %#04x): kernel says pi=%v vnet_hdr=%v", name, flags, data["pi"], data["vnet_hdr"])
		}
		tap.Close()
	}
}

// Open attaches with the device's own flags, so the kernel keeps them.
func TestOpen(t *testing.T) {
	ns := nstest.New(t)
	for _, tc := range []struct {
		name string
		args []string
		want uint16
	}{
		{"op0", []string{"vnet_hdr"}, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR},
		{"op1", []string{"pi"}, IFF_TAP},
		{"op2", []string{"pi", "vnet_hdr", "multi_queue"}, IFF_TAP | IFF_VNET_HDR | IFF_MULTI_QUEUE},
		{"op3", nil, IFF_TAP | IFF_NO_PI},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns.Run("ip", append([]string{"tuntap", "add", "dev", tc.name, "mode", "tap"}, tc.args...)...)
			tap, err := Open(OpenConfig{Name: tc.name, NetNS: ns.Name})
			if err != nil {
				t.Fatal(err)
			}
			defer tap.Close()
			got, err := tap.Flags()
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.want | IFF_PERSIST; got != want {
				t.Errorf("Flags() = %#04x, want %#04x", got, want)
			}
			data := infoData(t, ns, tc.name)
			// numqueues is reported for multi-queue devices only.
			mq := tc.want&IFF_MULTI_QUEUE != 0
			if data["pi"] != (tc.want&IFF_NO_PI == 0) || data["vnet_hdr"] != (tc.want&IFF_VNET_HDR != 0) ||
				data["multi_queue"] != mq || (mq && data["numqueues"] != 1.0) {
				t.Errorf("after Open: info_data %v", data)
			}
			tap.Close()
			if err := Delete(tc.name, ns.Name); err != nil {
				t.Fatal(err)
			}
		})
	}

	t.Run("multi-queue", func(t *testing.T) {
		ns.Run("ip", "tuntap", "add", "dev", "opmq", "mode", "tap", "vnet_hdr", "multi_queue")
		tap, err := Open(OpenConfig{Name: "opmq", NetNS: ns.Name, Queues: 3})
		if err != nil {
			t.Fatal(err)
		}
		if tap.Queues() != 3 || infoData(t, ns, "opmq")["numqueues"] != 3.0 {
			t.Errorf("Queues() = %d, info_data %v", tap.Queues(), infoData(t, ns, "opmq"))
		}
		// A second opener just adds queues.
		more, err := Open(OpenConfig{Name: "opmq", NetNS: ns.Name})
		if err != nil {
			t.Fatal(err)
		}
		if infoData(t, ns, "opmq")["numqueues"] != 4.0 {
			t.Errorf("numqueues after a second Open: %v", infoData(t, ns, "opmq")["numqueues"])
		}
		more.Close()
		tap.Close()
	})

	t.Run("single queue busy", func(t *testing.T) {
		first := mustCreate(t, Config{Name: "opsq", NetNS: ns.Name})
		_, err := Open(OpenConfig{Name: "opsq", NetNS: ns.Name})
		if !errors.Is(err, unix.EBUSY) || !strings.HasPrefix(err.Error(), "tuntap: open opsq: TUNSETIFF: device or resource busy") {
			t.Errorf("Open of an attached single-queue tap: %v", err)
		}
		_, err = Open(OpenConfig{Name: "opsq", NetNS: ns.Name, Queues: 2})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Queues 2 on a single-queue tap: %v", err)
		}
		first.Close()
	})

	t.Run("Flags", func(t *testing.T) {
		// As tc-redirect-tap makes them: packet information on.
		ns.Run("ip", "tuntap", "add", "dev", "opwf", "mode", "tap", "pi", "vnet_hdr", "one_queue")
		if _, err := Open(OpenConfig{Name: "opwf", NetNS: ns.Name, Flags: IFF_TUN | IFF_NO_PI}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Flags IFF_TUN on a tap: %v", err)
		}
		tap, err := Open(OpenConfig{Name: "opwf", NetNS: ns.Name, Flags: DefaultFlags})
		if err != nil {
			t.Fatal(err)
		}
		defer tap.Close()
		if data := infoData(t, ns, "opwf"); data["pi"] != false {
			t.Errorf("pi still on after Flags DefaultFlags: %v", data)
		}
	})
}

func TestSetCarrier(t *testing.T) {
	ns := nstest.New(t)
	tap := mustCreate(t, Config{Name: "car0", NetNS: ns.Name})
	ns.Run("ip", "link", "set", "dev", "car0", "up")
	if got := sysfs(t, ns, "car0", "carrier"); got != "1" {
		t.Fatalf("carrier with a file attached = %s, want 1", got)
	}
	for _, up := range []bool{false, true, false, true} {
		if err := tap.SetCarrier(up); err != nil {
			t.Fatal(err)
		}
		want := map[bool]string{false: "0", true: "1"}[up]
		if got := sysfs(t, ns, "car0", "carrier"); got != want {
			t.Errorf("after SetCarrier(%v): carrier %s", up, got)
		}
	}

	// IFF_NO_CARRIER: up without carrier until the VMM is ready.
	nc := mustCreate(t, Config{Name: "car1", Flags: DefaultFlags | IFF_NO_CARRIER, NetNS: ns.Name})
	ns.Run("ip", "link", "set", "dev", "car1", "up")
	if got := sysfs(t, ns, "car1", "carrier"); got != "0" {
		t.Errorf("IFF_NO_CARRIER: carrier %s, want 0", got)
	}
	if err := nc.SetCarrier(true); err != nil {
		t.Fatal(err)
	}
	if got := sysfs(t, ns, "car1", "carrier"); got != "1" {
		t.Errorf("IFF_NO_CARRIER then SetCarrier(true): carrier %s, want 1", got)
	}
}

func TestQueuesAndOffload(t *testing.T) {
	ns := nstest.New(t)
	tap := mustCreate(t, Config{Name: "mq0", Queues: 4, VnetHdrSize: VirtioNetHdrMrgRxbufLen, NetNS: ns.Name})

	if n, err := tap.VnetHdrSize(); err != nil || n != 12 {
		t.Errorf("VnetHdrSize() = %d, %v; want 12", n, err)
	}
	if err := tap.SetVnetHdrSize(VirtioNetHdrLen); err != nil {
		t.Error(err)
	}
	if n, _ := tap.VnetHdrSize(); n != 10 {
		t.Errorf("VnetHdrSize() after SetVnetHdrSize(10) = %d", n)
	}
	if err := tap.SetVnetHdrSize(8); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetVnetHdrSize(8) = %v, want ErrInvalid", err)
	}

	for _, off := range []uint32{
		0,
		TUN_F_CSUM,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
	} {
		if err := tap.SetOffload(off); err != nil {
			t.Errorf("SetOffload(%#x): %v", off, err)
		}
	}
	// UDP-tunnel GSO: Linux 6.17+; older kernels reject the unknown bits.
	tnl := uint32(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_UDP_TUNNEL_GSO | TUN_F_UDP_TUNNEL_GSO_CSUM)
	if err := tap.SetOffload(tnl); err != nil && !(errors.Is(err, unix.EINVAL) && kernelBefore(6, 17)) {
		t.Errorf("SetOffload(%#x): %v", tnl, err)
	}
	// Segmentation offload without checksum offload is meaningless.
	if err := tap.SetOffload(TUN_F_TSO4); !errors.Is(err, unix.EINVAL) || !strings.HasPrefix(err.Error(), "tuntap: mq0: TUNSETOFFLOAD: invalid argument") {
		t.Errorf("SetOffload(TUN_F_TSO4) = %v, want EINVAL", err)
	}

	for i := range tap.Queues() {
		if err := tap.DetachQueue(i); err != nil {
			t.Fatalf("DetachQueue(%d): %v", i, err)
		}
		if att, err := tap.QueueAttached(i); err != nil || att {
			t.Errorf("QueueAttached(%d) after detach = %v, %v", i, att, err)
		}
		if got := infoData(t, ns, "mq0")["numdisabled"]; got != 1.0 {
			t.Errorf("numdisabled = %v, want 1", got)
		}
		// Device-wide controls go through queue 0, and work even when it
		// is the detached one.
		if _, err := tap.Flags(); err != nil {
			t.Errorf("Flags with queue %d detached: %v", i, err)
		}
		if err := tap.SetCarrier(true); err != nil {
			t.Errorf("SetCarrier with queue %d detached: %v", i, err)
		}
		if err := tap.DetachQueue(i); !errors.Is(err, unix.EINVAL) {
			t.Errorf("second DetachQueue(%d) = %v, want EINVAL", i, err)
		}
		if err := tap.AttachQueue(i); err != nil {
			t.Fatalf("AttachQueue(%d): %v", i, err)
		}
		if att, err := tap.QueueAttached(i); err != nil || !att {
			t.Errorf("QueueAttached(%d) after attach = %v, %v", i, att, err)
		}
	}
	if got := infoData(t, ns, "mq0"); got["numqueues"] != 4.0 || got["numdisabled"] != 0.0 {
		t.Errorf("after re-attaching: %v", got)
	}
	if err := tap.AttachQueue(4); err == nil || !strings.Contains(err.Error(), "queue 4 out of range") {
		t.Errorf("AttachQueue(4) = %v", err)
	}

	single := mustCreate(t, Config{Name: "sq0", NetNS: ns.Name})
	if err := single.DetachQueue(0); !errors.Is(err, unix.EINVAL) {
		t.Errorf("DetachQueue on a single-queue tap = %v, want EINVAL", err)
	}

	feat, err := tap.Features()
	if err != nil {
		t.Fatal(err)
	}
	if need := uint16(IFF_TAP | IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE); feat&need != need {
		t.Errorf("Features() = %#04x, missing %#04x", feat, need&^feat)
	}
	if kf, err := KernelFeatures(); err != nil || kf != feat {
		t.Errorf("KernelFeatures() = %#04x, %v; want %#04x", kf, err, feat)
	}
}

// A failure at any step after TUNSETIFF leaves no device and no open file.
func TestCreateRollback(t *testing.T) {
	ns := nstest.New(t)
	injected := errors.New("injected failure")
	steps := []string{"TUNSETIFF", "TUNSETOWNER", "TUNSETGROUP", "TUNSETVNETHDRSZ",
		"TUNSETIFF (queue 1)", "TUNSETIFF (queue 3)", "TUNSETPERSIST"}
	before := tunFiles(t)
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			var seen []string
			hook := func(s string) error {
				seen = append(seen, s)
				if s == step {
					return injected
				}
				return nil
			}
			afterStep.Store(&hook)
			defer afterStep.Store(nil)

			_, err := Create(Config{Name: "rb0", Queues: 4, Owner: new(1000), Group: new(1000),
				VnetHdrSize: 12, Persist: true, NetNS: ns.Name})
			if !errors.Is(err, injected) || !strings.HasPrefix(err.Error(), "tuntap: create rb0: "+step+": ") {
				t.Fatalf("Create = %v, want the injected failure at %s", err, step)
			}
			if seen[len(seen)-1] != step {
				t.Errorf("steps run: %v", seen)
			}
			if exists(ns, "rb0") {
				t.Errorf("rb0 left behind after a failure at %s", step)
			}
			if n := tunFiles(t); n != before {
				t.Errorf("%d /dev/net/tun files open, want %d", n, before)
			}
		})
	}
	// The hook saw every step, in order, on the way to TUNSETPERSIST.
	afterStep.Store(nil)
	tap := mustCreate(t, Config{Name: "rb0", NetNS: ns.Name})
	tap.Close()
	if exists(ns, "rb0") {
		t.Error("rb0 survived a plain Create and Close")
	}
}

// tunFiles counts this process's open /dev/net/tun files.
func tunFiles(t *testing.T) int {
	t.Helper()
	links, err := filepath.Glob("/proc/self/fd/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && target == "/dev/net/tun" {
			n++
		}
	}
	return n
}

// Without CAP_NET_ADMIN the error says so. Capabilities are per thread: the
// test drops CAP_NET_ADMIN on a locked thread that then dies with its
// goroutine.
func TestCreateWithoutCapNetAdmin(t *testing.T) {
	ns := nstest.New(t)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread is discarded
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- fmt.Errorf("capget: %w", err)
			return
		}
		data[0].Effective &^= 1 << unix.CAP_NET_ADMIN
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- fmt.Errorf("capset: %w", err)
			return
		}
		tap, err := Create(Config{Name: "noperm0", NetNS: ns.Name})
		if err == nil {
			tap.Close()
			err = errors.New("Create succeeded without CAP_NET_ADMIN")
		}
		errc <- err
	}()
	err := <-errc
	const want = "tuntap: create noperm0: TUNSETIFF: operation not permitted (CAP_NET_ADMIN is needed)"
	if !errors.Is(err, unix.EPERM) || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	if exists(ns, "noperm0") {
		t.Error("noperm0 exists")
	}
}

// After many namespace switches, every thread of the process is back in
// the namespace it started in.
func TestNetNSRestored(t *testing.T) {
	ns := nstest.New(t)
	home, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(ns.Path(), &st); err != nil {
		t.Fatal(err)
	}
	inside := fmt.Sprintf("net:[%d]", st.Ino)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			errs <- netns.Do(ns.Name, func() error {
				got, err := os.Readlink(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
				if err != nil {
					return err
				}
				if got != inside {
					return fmt.Errorf("inside: %s, want %s", got, inside)
				}
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
	for _, task := range tasks {
		if got, err := os.Readlink(task); err == nil && got != home {
			t.Errorf("%s is %s, want %s", task, got, home)
		}
	}
	// Not a network namespace: setns refuses, the thread stays home.
	err = netns.Do("/proc/self/ns/uts", func() error { return nil })
	if err == nil || !strings.Contains(err.Error(), "not a network namespace") {
		t.Errorf("netns.Do(uts namespace) = %v, want not a network namespace", err)
	}
}

// Frames written to a queue file come out of the device, and frames sent to
// the device come out of the file, with the per-frame headers the flags ask
// for.
func TestFrameRoundTrip(t *testing.T) {
	ns := nstest.New(t)
	for i, tc := range []struct {
		name  string
		cfg   Config
		pi    bool
		vnet  int
		multi bool
	}{
		{"vnet_hdr", Config{}, false, 10, false},
		{"vnet_hdr 12", Config{VnetHdrSize: 12}, false, 12, false},
		{"plain", Config{Flags: IFF_TAP | IFF_NO_PI}, false, 0, false},
		{"pi", Config{Flags: IFF_TAP}, true, 0, false},
		{"pi and vnet_hdr", Config{Flags: IFF_TAP | IFF_VNET_HDR}, true, 10, false},
		{"multi-queue", Config{Queues: 4}, false, 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("rt%d", i)
			cfg := tc.cfg
			cfg.Name, cfg.NetNS = name, ns.Name
			tap := mustCreate(t, cfg)
			ns.Run("ip", "link", "set", "dev", name, "up")
			sock := packetSocket(t, ns, ns.Ifindex(name))

			const etherType = 0x88b5 // IEEE 802 local experimental
			frame := func(marker string) []byte {
				f := make([]byte, 60)
				copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
				copy(f[6:12], []byte{0x02, 0x00, 0x00, 0x00, 0x00, byte(i + 1)})
				binary.BigEndian.PutUint16(f[12:], etherType)
				copy(f[14:], marker)
				return f
			}
			hdrLen := tc.vnet
			if tc.pi {
				hdrLen += TunPiLen
			}

			// Into the file, out of the device.
			for q, f := range tap.Files() {
				marker := fmt.Sprintf("to-device %s q%d", name, q)
				hdr := make([]byte, hdrLen) // zero virtio-net header: no offloads
				if tc.pi {
					binary.BigEndian.PutUint16(hdr[2:], etherType)
				}
				if _, err := f.Write(append(hdr, frame(marker)...)); err != nil {
					t.Fatalf("write to queue %d: %v", q, err)
				}
				got := recvFrame(t, sock, etherType)
				if !bytes.Equal(got, frame(marker)) {
					t.Errorf("queue %d: device saw\n%x\nwant\n%x", q, got, frame(marker))
				}
			}

			// Into the device, out of a file (any queue: the kernel picks one by
			// flow hash).
			marker := "from-device " + name
			to := unix.SockaddrLinklayer{Ifindex: ns.Ifindex(name), Halen: 6}
			if err := unix.Sendto(sock, frame(marker), 0, &to); err != nil {
				t.Fatalf("AF_PACKET send: %v", err)
			}
			got := readTap(t, tap, hdrLen, etherType)
			if tc.pi {
				if proto := binary.BigEndian.Uint16(got[2:]); proto != etherType {
					t.Errorf("tun_pi proto %#x, want %#x", proto, etherType)
				}
			}
			if tc.vnet > 0 {
				vh := got[hdrLen-tc.vnet:]
				if vh[1] != 0 { // gso_type VIRTIO_NET_HDR_GSO_NONE
					t.Errorf("virtio-net header %x: gso_type %d", vh[:tc.vnet], vh[1])
				}
			}
			if !bytes.Equal(got[hdrLen:], frame(marker)) {
				t.Errorf("file read\n%x\nwant header of %d bytes and\n%x", got, hdrLen, frame(marker))
			}
		})
	}
}

// packetSocket opens an AF_PACKET socket in ns bound to ifindex.
func packetSocket(t *testing.T, ns *nstest.NS, ifindex int) int {
	t.Helper()
	proto := htons(unix.ETH_P_ALL)
	fd := -1
	err := netns.Do(ns.Name, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifindex})
	})
	if fd >= 0 {
		t.Cleanup(func() { unix.Close(fd) })
	}
	if err != nil {
		t.Fatalf("AF_PACKET socket: %v", err)
	}
	tv := unix.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return fd
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// kernelBefore reports whether the running kernel is older than major.minor.
func kernelBefore(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return true
	}
	var ma, mi int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &ma, &mi)
	return ma < major || ma == major && mi < minor
}

// recvFrame returns the next frame of etherType received on the device
// (skipping the kernel's own IPv6 chatter and outgoing frames).
func recvFrame(t *testing.T, sock int, etherType uint16) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		n, from, err := unix.Recvfrom(sock, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("AF_PACKET recv: %v", err)
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if n >= 14 && binary.BigEndian.Uint16(buf[12:]) == etherType {
			return append([]byte(nil), buf[:n]...)
		}
	}
	t.Fatal("no frame reached the device")
	return nil
}

// readTap reads from every queue until a frame of etherType arrives.
func readTap(t *testing.T, tap *Tap, hdrLen int, etherType uint16) []byte {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	found := make(chan result, len(tap.Files()))
	deadline := time.Now().Add(5 * time.Second)
	for _, f := range tap.Files() {
		go func() {
			f.SetReadDeadline(deadline)
			buf := make([]byte, 65536)
			for {
				n, err := f.Read(buf)
				if err != nil {
					found <- result{err: err}
					return
				}
				if n >= hdrLen+14 && binary.BigEndian.Uint16(buf[hdrLen+12:]) == etherType {
					found <- result{b: buf[:n]}
					return
				}
			}
		}()
	}
	var errs []error
	for range tap.Files() {
		r := <-found
		if r.err == nil {
			for _, f := range tap.Files() {
				f.SetReadDeadline(time.Now()) // stop the other readers
			}
			return r.b
		}
		errs = append(errs, r.err)
	}
	t.Fatalf("no frame came out of the tap: %v", errors.Join(errs...))
	return nil
}

// lookupTun decodes the device's IFLA_INFO_DATA (link.TunInfo) as
// `ip -d -j link show` does.
func TestLookupTunMatchesIP(t *testing.T) {
	nstest.RequireTool(t, "ip")
	ns := nstest.New(t)
	for _, args := range [][]string{
		{"mode", "tap"},
		{"mode", "tun", "pi"},
		{"mode", "tap", "vnet_hdr", "multi_queue", "user", "1234", "group", "5678"},
	} {
		name := fmt.Sprintf("lt%d", len(args))
		ns.Run("ip", append([]string{"tuntap", "add", "dev", name}, args...)...)
		l, err := lookupIn(ns.Name, name)
		if err != nil {
			t.Fatal(err)
		}
		ti, data := l.Tun, infoData(t, ns, name)
		typ := "tun"
		if ti.Tap() {
			typ = "tap"
		}
		got := map[string]any{"type": typ, "pi": ti.PI, "vnet_hdr": ti.VnetHdr, "multi_queue": ti.MultiQueue, "persist": ti.Persist}
		if ti.Owner != nil {
			got["user"] = float64(*ti.Owner)
		}
		if ti.Group != nil {
			got["group"] = float64(*ti.Group)
		}
		if ti.MultiQueue {
			got["numqueues"] = float64(ti.NumQueues)
			got["numdisabled"] = float64(ti.NumDisabledQueues)
		}
		if !reflect.DeepEqual(got, data) {
			t.Errorf("%s (%v): decoded %v, ip says %v", name, args, got, data)
		}
		if l.Name != name || int(l.Index) != ns.Ifindex(name) {
			t.Errorf("%s: Name %q Index %d", name, l.Name, l.Index)
		}
	}
	if _, err := lookupIn(ns.Name, "lo"); !errors.Is(err, ErrNotTunTap) || err.Error() != "not a tun/tap device (kind none)" {
		t.Errorf("lookupTun(lo) = %v", err)
	}
	if _, err := lookupIn(ns.Name, "nosuch0"); err != unix.ENODEV {
		t.Errorf("lookupTun(nosuch0) = %v, want bare ENODEV", err)
	}
}

// lookupIn runs lookupTun in ns, as openInNetNS does.
func lookupIn(ns, name string) (l *link.Link, err error) {
	err = netns.Do(ns, func() error {
		l, err = lookupTun(name)
		return err
	})
	return l, err
}

// TestSetOwnerExisting: a persistent tap made with neither owner nor group
// (any user may attach to it) gets them through Open, SetOwner, SetGroup
// and Close, and stays; a tap a reader holds cannot be opened to do so.
func TestSetOwnerExisting(t *testing.T) {
	ns := nstest.New(t)
	ns.Run("ip", "tuntap", "add", "own0", "mode", "tap", "vnet_hdr")
	if d := infoData(t, ns, "own0"); d["user"] != nil || d["group"] != nil {
		t.Fatalf("own0 made with an owner or group: %v", d)
	}
	tap, err := Open(OpenConfig{Name: "own0", NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	if err := tap.SetOwner(1234); err != nil {
		t.Fatal(err)
	}
	if err := tap.SetGroup(5678); err != nil {
		t.Fatal(err)
	}
	if err := tap.Close(); err != nil {
		t.Fatal(err)
	}
	d := infoData(t, ns, "own0")
	if fmt.Sprint(d["user"]) != "1234" || fmt.Sprint(d["group"]) != "5678" || d["persist"] != true || d["vnet_hdr"] != true {
		t.Errorf("own0 after SetOwner/SetGroup: %v", d)
	}
	held, err := Open(OpenConfig{Name: "own0", NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if _, err := Open(OpenConfig{Name: "own0", NetNS: ns.Name}); !errors.Is(err, unix.EBUSY) {
		t.Errorf("Open of a held single-queue tap: %v, want EBUSY", err)
	}
}
