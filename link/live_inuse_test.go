package link

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/internal/nstest"
)

// attachTun attaches a file to the tun/tap name of ns, as a VMM does
// (TUNSETIFF with flags), and returns it; closing it detaches.
func attachTun(t *testing.T, ns *nstest.NS, name string, flags uint16) int {
	t.Helper()
	fd := -1
	err := netns.Do(ns.Name, func() error {
		var err error
		if fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		ifr.SetUint16(flags)
		return unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
	})
	if err != nil {
		t.Fatalf("attach to %s: %v", name, err)
	}
	return fd
}

// TestLiveTapHeld: a persistent tap (single- and multi-queue) is held
// exactly while a reader has a file attached, whatever the tap's admin
// state; a veth is never a held tap.
func TestLiveTapHeld(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	ns.Run("ip", "tuntap", "add", "sq0", "mode", "tap")
	ns.Run("ip", "tuntap", "add", "mq0", "mode", "tap", "multi_queue")
	ns.Run("ip", "link", "set", "mq0", "up")
	c := dial(t, ns)
	held := func(name string) bool {
		t.Helper()
		l, err := Lookup(c, name)
		if err != nil {
			t.Fatal(err)
		}
		return TapHeld(l)
	}
	if held("sq0") || held("mq0") || held("eth0") {
		t.Fatalf("held before any reader: sq0 %v mq0 %v eth0 %v", held("sq0"), held("mq0"), held("eth0"))
	}
	sq := attachTun(t, ns, "sq0", unix.IFF_TAP|unix.IFF_NO_PI)
	if !held("sq0") {
		t.Error("sq0 (down) with a reader attached: not held")
	}
	ns.Run("ip", "link", "set", "sq0", "up")
	if !held("sq0") {
		t.Error("sq0 (up) with a reader attached: not held")
	}
	// A VMM that turns the carrier off (TUNSETCARRIER 0, IFF_NO_CARRIER)
	// still holds the tap: Held finds its file.
	if err := unix.IoctlSetPointerInt(sq, unix.TUNSETCARRIER, 0); err != nil {
		t.Fatal(err)
	}
	if l, err := Lookup(c, "sq0"); err != nil {
		t.Fatal(err)
	} else if h, err := Held(l, ns.Name); err != nil || !h {
		t.Errorf("sq0 held with its carrier off: Held = %v, %v", h, err)
	}
	unix.Close(sq)
	if held("sq0") {
		t.Error("sq0 held after its reader closed")
	}
	// A namesake held in another namespace (every container's tap0) does
	// not make this one held, carrier off or not.
	other := nstest.New(t)
	other.Run("ip", "tuntap", "add", "sq0", "mode", "tap")
	ofd := attachTun(t, other, "sq0", unix.IFF_TAP|unix.IFF_NO_PI)
	defer unix.Close(ofd)
	if err := unix.IoctlSetPointerInt(ofd, unix.TUNSETCARRIER, 0); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sq0", "mq0", "eth0"} {
		if l, err := Lookup(c, name); err != nil {
			t.Fatal(err)
		} else if h, err := Held(l, ns.Name); err != nil || h {
			t.Errorf("Held(%s) = %v, %v, with no reader", name, h, err)
		}
	}
	q1 := attachTun(t, ns, "mq0", unix.IFF_TAP|unix.IFF_NO_PI|unix.IFF_MULTI_QUEUE)
	q2 := attachTun(t, ns, "mq0", unix.IFF_TAP|unix.IFF_NO_PI|unix.IFF_MULTI_QUEUE)
	if !held("mq0") {
		t.Error("mq0 with two queues attached: not held")
	}
	// A queue detached with IFF_DETACH_QUEUE is still a VMM's open file.
	ifr, _ := unix.NewIfreq("")
	ifr.SetUint16(unix.IFF_DETACH_QUEUE)
	if err := unix.IoctlIfreq(q1, unix.TUNSETQUEUE, ifr); err != nil {
		t.Fatal(err)
	}
	unix.Close(q2)
	if !held("mq0") {
		t.Error("mq0 with one disabled queue open: not held")
	}
	unix.Close(q1)
	if held("mq0") {
		t.Error("mq0 held after its readers closed")
	}
}

// TestLiveMacvtapHeld: a macvtap is held while a process has its
// character device open, by any node of that device number, and not
// otherwise.
func TestLiveMacvtapHeld(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	// Pads, so the macvtap's index is not the one other tests' get (the
	// device number is found by name and index across namespaces).
	for i := range 5 {
		ns.Run("ip", "link", "add", fmt.Sprintf("pad%d", i), "type", "veth", "peer", "name", fmt.Sprintf("padp%d", i))
	}
	c := dial(t, ns)
	if err := AddMacvlan(c, Macvlan{Name: "mvheld0", Parent: "eth0", Mode: ModePassthru, Tap: true}); err != nil {
		t.Fatal(err)
	}
	l, err := Lookup(c, "mvheld0")
	if err != nil {
		t.Fatal(err)
	}
	held := func() bool {
		t.Helper()
		h, err := MacvtapHeld(l)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if held() {
		t.Fatal("held before anyone opened it")
	}
	if h, err := Held(l, ns.Name); err != nil || h {
		t.Fatalf("Held before anyone opened it: %v, %v", h, err)
	}
	major, minor, err := MacvtapDevNum(l.Index, l.Name)
	if err != nil {
		t.Fatal(err)
	}
	// A node of its own, not /dev/tapN (shared by every namespace).
	node := filepath.Join(t.TempDir(), "vmtap")
	if err := unix.Mknod(node, unix.S_IFCHR|0o600, int(unix.Mkdev(major, minor))); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(node, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := Held(l, ns.Name); err != nil || !held() || !h {
		t.Errorf("not held while a file is open on it (Held %v, %v)", h, err)
	}
	f.Close()
	if held() {
		t.Error("held after the file closed")
	}
	// Another device's number is not held by that file.
	if h, err := HeldOpen(major, minor+100000); err != nil || h {
		t.Errorf("HeldOpen of an unused number: %v, %v", h, err)
	}
}
