package tcwire

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/internal/nstest"
)

// TestHandleContext: ctx bounds the wait for the namespace's lock, and a
// call whose ctx ends before it acts changes nothing.
func TestHandleContext(t *testing.T) {
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	before := state(t, ns)
	h, err := Open(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	o := Options{Dev: "eth0", Tap: "tap0"}

	// Another holder of the lock: a thread of this test in the namespace.
	thr, err := netns.NewThread(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer thr.Close()
	fd, err := thr.TryLock()
	if err != nil || fd < 0 {
		t.Fatalf("TryLock: %d %v", fd, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = h.Attach(ctx, o)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Attach while another holds the lock: %v, want the deadline", err)
	}
	if fd2, _ := h.thr.TryLock(); fd2 >= 0 {
		t.Errorf("the lock was free while held")
		unix.Close(fd2)
	}
	unix.Close(fd)

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := h.Attach(ctx, o); !errors.Is(err, context.Canceled) {
		t.Errorf("Attach with a cancelled ctx: %v", err)
	}
	if after := state(t, ns); after != before {
		t.Errorf("calls whose ctx ended changed the state:\n--- before\n%s\n--- after\n%s", before, after)
	}

	// Released by its holder, the lock is the Handle's again.
	if _, err := h.Attach(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Attach(context.Background(), Options{NetNS: "/proc/self/ns/net", Dev: "eth0", Tap: "tap0"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Options naming another namespace than the Handle's: %v", err)
	}
	if _, err := h.Detach(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if after := state(t, ns); after != before {
		t.Errorf("attach and detach left:\n%s", after)
	}
}
