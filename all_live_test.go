package tcwire

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

// pairsNS is a namespace with n veth pairs eI–pI.
func pairsNS(t *testing.T, n int) *nstest.NS {
	ns := nstest.New(t)
	for i := range n {
		ns.Run("ip", "link", "add", fmt.Sprintf("e%d", i), "type", "veth", "peer", "name", fmt.Sprintf("p%d", i))
	}
	return ns
}

func pairOptions(n int) []Options {
	os := make([]Options, n)
	for i := range os {
		os[i] = Options{Dev: fmt.Sprintf("e%d", i), Tap: fmt.Sprintf("t%d", i)}
	}
	return os
}

// checkAll fails t unless entries [0, done) are wired and the taps of the
// others do not exist, nor any ingress qdisc on their devices.
func checkAll(t *testing.T, ns *nstest.NS, n, done int) {
	t.Helper()
	for i := range n {
		dev, tap := fmt.Sprintf("e%d", i), fmt.Sprintf("t%d", i)
		_, err := ns.Try("ip", "link", "show", tap)
		switch {
		case i < done && err != nil:
			t.Errorf("entry %d: %s missing", i, tap)
		case i < done && !strings.Contains(ns.Run("tc", "filter", "show", "dev", dev, "ingress"), "Redirect to device "+tap+")"):
			t.Errorf("entry %d: %s does not redirect to %s", i, dev, tap)
		case i >= done && err == nil:
			t.Errorf("entry %d: %s exists, want it rolled back or never made", i, tap)
		case i >= done:
			if q, err := ns.Try("tc", "qdisc", "show", "dev", dev, "ingress"); err == nil && strings.TrimSpace(q) != "" {
				t.Errorf("entry %d: %s keeps an ingress qdisc: %s", i, dev, q)
			}
		}
	}
}

// TestAttachAll: a run of fresh pairs attached together, then again
// (nothing made), as single attaches would.
func TestAttachAll(t *testing.T) {
	const n = 8
	ns := pairsNS(t, n)
	h, err := Open(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	as, err := h.AttachAll(context.Background(), pairOptions(n))
	if err != nil || len(as) != n {
		t.Fatalf("AttachAll: %d attachments, %v", len(as), err)
	}
	checkAll(t, ns, n, n)
	before := state(t, ns)
	again, err := h.AttachAll(context.Background(), pairOptions(n))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !as[i].Created || again[i].Created || as[i].TapIndex != again[i].TapIndex || as[i].MAC.String() != again[i].MAC.String() || as[i].MTU != 1500 {
			t.Errorf("entry %d: first %+v, again %+v", i, as[i], again[i])
		}
	}
	if after := state(t, ns); after != before {
		t.Errorf("AttachAll again changed the state:\n%s\n---\n%s", before, after)
	}
	if _, err := h.DetachAll(context.Background(), pairOptions(n)); err != nil {
		t.Fatal(err)
	}
	checkAll(t, ns, n, 0)
}

// TestAttachAllFailure: a device deleted while a run is on its way — at
// each of its points — fails the run, which is rolled back and done again
// one entry at a time: the entries before the broken one stay done, it
// and the ones after are not, and the error names its index.
func TestAttachAllFailure(t *testing.T) {
	const n, broken = 6, 3
	for _, point := range []string{"read", "create", "setup", "persist", "wire"} {
		t.Run(point, func(t *testing.T) {
			ns := pairsNS(t, n)
			h, err := Open(ns.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			deleted := false
			stepHook = func(p string) {
				if p == point && !deleted {
					ns.Run("ip", "link", "del", fmt.Sprintf("e%d", broken))
					deleted = true
				}
			}
			defer func() { stepHook = func(string) {} }()
			as, err := h.AttachAll(context.Background(), pairOptions(n))
			var be *BatchError
			if !errors.As(err, &be) || be.Index != broken || !errors.Is(err, ErrNotFound) || len(as) != broken {
				t.Fatalf("AttachAll: %d attachments, %v; want %d and entry %d not found", len(as), err, broken, broken)
			}
			checkAll(t, ns, n, broken)
		})
	}
}

// TestAttachAllConflict: an entry refused (its device redirects elsewhere)
// is named by index, with the conflict; nothing of it or after it is done.
func TestAttachAllConflict(t *testing.T) {
	const n = 5
	ns := pairsNS(t, n)
	if _, err := Attach(context.Background(), Options{NetNS: ns.Name, Dev: "e2", Tap: "other"}); err != nil {
		t.Fatal(err)
	}
	h, err := Open(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	as, err := h.AttachAll(context.Background(), pairOptions(n))
	var be *BatchError
	if !errors.As(err, &be) || be.Index != 2 || !errors.Is(err, ErrConflict) || len(as) != 2 {
		t.Fatalf("AttachAll: %d attachments, %v; want 2 and a conflict at entry 2", len(as), err)
	}
	for i := range n {
		_, terr := ns.Try("ip", "link", "show", fmt.Sprintf("t%d", i))
		if (terr == nil) != (i < 2) {
			t.Errorf("t%d exists: %v", i, terr == nil)
		}
	}
}
