package tcwire

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

// state is what the live tests compare: every qdisc, every device's
// ingress filters and the devices.
func state(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	ns.Settle()
	var b strings.Builder
	b.WriteString(ns.Run("tc", "-d", "qdisc", "show"))
	for _, name := range strings.Fields(ns.Run("sh", "-c", "ls /sys/class/net")) {
		b.WriteString("### " + name + "\n" + ns.Run("tc", "-d", "filter", "show", "dev", name, "ingress"))
	}
	b.WriteString(ns.Run("ip", "-d", "link", "show"))
	return b.String()
}

func vethNS(t *testing.T) *nstest.NS {
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	return ns
}

// TestDeviceDeletedDuringAttach: a device deleted while Attach runs — at
// each of its named points — makes it fail with an error that names the
// device, and leaves nothing of its own: the tap it made is deleted
// again, the tc objects it added are removed.
func TestDeviceDeletedDuringAttach(t *testing.T) {
	for _, point := range []string{"read", "create", "setup", "persist", "wire"} {
		for _, dev := range []string{"eth0", "tap0"} {
			if dev == "tap0" && point == "read" {
				continue // no tap yet
			}
			t.Run(dev+" at "+point, func(t *testing.T) {
				ns := vethNS(t)
				want := state(t, ns)
				if dev == "eth0" {
					// Deleting eth0 takes peer0 with it: lo alone is left.
					want = state(t, nstest.New(t))
				}
				deleted := false
				stepHook = func(p string) {
					if p == point && !deleted {
						ns.Run("ip", "link", "del", dev)
						deleted = true
					}
				}
				defer func() { stepHook = func(string) {} }()
				_, err := Attach(context.Background(), Options{NetNS: ns.Name, Dev: "eth0", Tap: "tap0"})
				if !deleted {
					t.Fatalf("Attach never reached %q", point)
				}
				if err == nil || !strings.Contains(err.Error(), dev) {
					t.Fatalf("Attach with %s deleted at %q: %v, want an error naming %s", dev, point, err, dev)
				}
				t.Logf("%v", err)
				if got := state(t, ns); got != want {
					t.Errorf("Attach left state behind:\n--- want\n%s\n--- got\n%s", want, got)
				}
			})
		}
	}
}

// TestAttachFiles: Options.Files hands out one open file per queue, on a
// tap Attach created and on an existing one; with them held the tap has
// its carrier (a VMM's files would do the same).
func TestAttachFiles(t *testing.T) {
	ns := vethNS(t)
	o := Options{NetNS: ns.Name, Dev: "eth0", Tap: "tap0", Queues: 2, Files: true}
	a, err := Attach(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Created || len(a.Files) != 2 || a.Queues != 2 {
		t.Fatalf("Attach: created %v, %d files, %d queues; want a new tap with 2 files", a.Created, len(a.Files), a.Queues)
	}
	ns.Settle()
	if out := ns.Run("ip", "link", "show", "tap0"); !strings.Contains(out, "LOWER_UP") {
		t.Errorf("tap0 has no carrier with its files open: %s", out)
	}
	closeAll(a)
	b, err := Attach(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(b)
	if b.Created || len(b.Files) != 2 {
		t.Errorf("second Attach: created %v, %d files; want the existing tap with 2 files", b.Created, len(b.Files))
	}
	if !strings.EqualFold(b.MAC.String(), strings.Fields(ns.Run("cat", "/sys/class/net/eth0/address"))[0]) {
		t.Errorf("MAC %s is not eth0's", b.MAC)
	}
}

func closeAll(a *Attachment) {
	for _, f := range a.Files {
		f.Close()
	}
}

// TestErrorsToBranchOn: the errors of the workflow satisfy errors.Is and
// errors.As as documented, naming devices.
func TestErrorsToBranchOn(t *testing.T) {
	ns := vethNS(t)
	ns.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	ctx := context.Background()
	if _, err := Attach(ctx, Options{NetNS: ns.Name, Dev: "eth9", Tap: "tap0"}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "eth9") {
		t.Errorf("missing DEV: %v", err)
	}
	if _, err := Attach(ctx, Options{NetNS: ns.Name, Dev: "eth0", Tap: "peer1"}); !errors.Is(err, ErrNotTap) {
		t.Errorf("a veth as the tap: %v", err)
	}
	if _, err := Attach(ctx, Options{NetNS: ns.Name, Dev: "eth0", Tap: "tap9"}); err != nil {
		t.Fatal(err)
	}
	_, err := Attach(ctx, Options{NetNS: ns.Name, Dev: "eth0", Tap: "tap1"})
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) || ce.Dev != "eth0" || ce.Target != "tap9" || ce.Want != "tap1" || ce.Pref != 0xc000 {
		t.Errorf("conflict: %v (%+v)", err, ce)
	}
	if ce != nil && (ce.UndoDev != "eth0" || ce.UndoTap != "tap9") {
		t.Errorf("conflict undo %s %s", ce.UndoDev, ce.UndoTap)
	}
	_, err = Attach(ctx, Options{NetNS: ns.Name, Dev: "eth1", Tap: "tap9", MTU: 9000})
	var me *MismatchError
	if !errors.As(err, &me) || me.Setting != "mtu" || me.Tap != "tap9" {
		t.Errorf("mismatch: %v", err)
	}
	if err := Detach(ctx, Options{NetNS: ns.Name, Dev: "eth1", Tap: "tap9"}); !errors.As(err, &ce) || ce.Dev != "tap9" || ce.Target != "eth0" {
		t.Errorf("detach of a pair not wired together: %v", err)
	}
	if _, err := Attach(ctx, Options{NetNS: ns.Name, Dev: "eth0", Tap: "tap9", Queues: 300}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `queues "300"`) {
		t.Errorf("bad queues: %v", err)
	}
}
