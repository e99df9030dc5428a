package tc

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
)

// Helpers for the privileged tests. Everything happens in namespaces from
// nstest; the root namespace is never touched.

// newWireNS returns a namespace set up like testdata/capture.sh's: a veth
// pair eth0/peer0 and a persistent tap tap0, created in that order so two
// such namespaces give the devices the same ifindexes. extra names veth
// pairs to add after them ("eth1" makes eth1/peer1).
func newWireNS(t testing.TB, extra ...string) *nstest.NS {
	t.Helper()
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap")
	for _, e := range extra {
		ns.Run("ip", "link", "add", e, "type", "veth", "peer", "name", "peer"+strings.TrimPrefix(e, "eth"))
	}
	return ns
}

// dev names a device of ns.
func dev(t testing.TB, ns *nstest.NS, name string) Dev {
	t.Helper()
	return Dev{Name: name, Index: int32(ns.Ifindex(name))}
}

// dial opens a netlink socket in ns, closed at cleanup.
func dial(t testing.TB, ns *nstest.NS) *nl.Conn {
	t.Helper()
	c, err := nl.Dial(&nl.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tcState is tc's own view of the ingress side of devs: every qdisc, then
// each device's filters as `tc -d filter show` prints them under both ways
// of naming the ingress hook. Two namespaces in the same state print the
// same text; a command that fails (a device that is gone) shows its error.
func tcState(t testing.TB, ns *nstest.NS, devs ...string) string {
	t.Helper()
	var sb strings.Builder
	show := func(args ...string) {
		out, err := ns.Try("tc", args...)
		fmt.Fprintf(&sb, "$ tc %s\n%s", strings.Join(args, " "), out)
		if err != nil {
			// Keep the error, without the namespace's name.
			fmt.Fprintf(&sb, "error: %s\n", strings.ReplaceAll(err.Error(), ns.Name, "NS"))
		}
	}
	show("-d", "qdisc", "show")
	for _, d := range devs {
		show("-d", "filter", "show", "dev", d, "parent", "ffff:")
		show("-d", "filter", "show", "dev", d, "ingress")
	}
	return sb.String()
}

// tcRun runs a tc command line (split on spaces) in ns and fails the test
// when tc fails.
func tcRun(t testing.TB, ns *nstest.NS, cmd string) string {
	t.Helper()
	w := strings.Fields(cmd)
	if len(w) == 0 || w[0] != "tc" {
		t.Fatalf("not a tc command: %q", cmd)
	}
	return ns.Run("tc", w[1:]...)
}

// waitMirredActions waits up to 5s for ns to hold exactly want mirred
// actions: an action outlives its filter for a moment (it is freed after an
// RCU grace period). It catches actions a rollback would leak.
func waitMirredActions(t testing.TB, ns *nstest.NS, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := ns.Try("tc", "actions", "list", "action", "mirred")
		n := strings.Count(out, "mirred (")
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mirred actions left, want %d:\n%s", n, want, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requireSameState fails when two tc views differ, showing both.
func requireSameState(t testing.TB, what, want, got string) {
	t.Helper()
	if want != got {
		t.Fatalf("%s: tc shows a different state\n--- want\n%s\n--- got\n%s", what, want, got)
	}
}

// readHook is ReadHook failing the test on error.
func readHook(t testing.TB, c *nl.Conn, d Dev) Hook {
	t.Helper()
	h, err := ReadHook(c, d)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// keyNodes counts a hook's filters proper: not the handle-0 entry a dump
// gives per pref, nor the u32 hash tables.
func keyNodes(h Hook) int {
	n := 0
	for _, f := range h.Filters {
		if f.Handle != 0 && (f.U32 == nil || f.U32.Divisor == 0) {
			n++
		}
	}
	return n
}
