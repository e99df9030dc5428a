package tc

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
)

// TestFilters10000: a dump of 10000 filters on one device (2.7 MB of
// replies, 13 times the socket's default receive buffer) comes back whole,
// with no ENOBUFS: the kernel fills the socket only as the reader empties
// it (netlink_dump runs again from recvmsg), so nl.Dial keeps the default
// buffer. ReadHook, Wire and Unwire work on such a hook.
func TestFilters10000(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "tc")
	const n = 10000
	// u32 gives each pref a hash table of its own, and a qdisc has at most
	// 0x7ff of them: 4 prefs of 2500 filters (node ids go to 0xfff).
	const perPref = 2500
	ns := newWireNS(t)
	tcRun(t, ns, "tc qdisc add dev eth0 ingress")
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "filter add dev eth0 parent ffff: pref %d protocol all u32 match u8 0 0 action mirred egress redirect dev tap0\n", 1+i/perPref)
	}
	batch := filepath.Join(t.TempDir(), "filters")
	if err := os.WriteFile(batch, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ns.Run("tc", "-batch", batch)
	t.Logf("tc -batch: %d filters added in %v", n, time.Since(start))

	c := dial(t, ns)
	eth0, tap0 := dev(t, ns, "eth0"), dev(t, ns, "tap0")
	msgs, err := c.Dump(ListFiltersRequest(eth0.Index, "eth0", IngressHandle))
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, m := range msgs {
		size += nl.NlmsgHdrLen + len(m.Data)
	}
	t.Logf("the dump: %d messages, %d bytes", len(msgs), size)
	var times []time.Duration
	for range 5 {
		start := time.Now()
		fs, err := Filters(c, eth0.Index, IngressHandle)
		times = append(times, time.Since(start))
		if err != nil {
			t.Fatalf("Filters: %v", err)
		}
		// Each pref also dumps its handle-0 entry and its hash table.
		if len(fs) != n+2*n/perPref {
			t.Fatalf("Filters: %d entries, want %d", len(fs), n+2*n/perPref)
		}
		seen := map[[2]uint32]bool{}
		for _, f := range fs {
			if f.Handle == 0 || f.U32 == nil || f.U32.Divisor != 0 {
				continue
			}
			key := [2]uint32{uint32(f.Pref), f.Handle}
			if seen[key] {
				t.Fatalf("pref %d handle %s dumped twice", f.Pref, U32HandleString(f.Handle))
			}
			seen[key] = true
			rs := (Hook{Filters: []Filter{f}}).Redirects()
			if len(rs) != 1 || !rs[0].IsWire() || rs[0].TargetIfindex != tap0.Index {
				t.Fatalf("pref %d handle %s: %+v", f.Pref, U32HandleString(f.Handle), rs)
			}
		}
		if len(seen) != n {
			t.Fatalf("%d filters, want %d", len(seen), n)
		}
	}
	slices.Sort(times)
	t.Logf("Filters of %d: min %v, median %v, max %v", n, times[0], times[len(times)/2], times[len(times)-1])

	// eth0 already sends everything to tap0: Wire adds tap0's half only.
	start = time.Now()
	if err := Wire(c, eth0, tap0, WireOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("Wire beside %d filters: %v", n, time.Since(start))
	if h := readHook(t, c, tap0); h.Qdisc != KindIngress || keyNodes(h) != 1 {
		t.Fatalf("tap0: %q with %d filters", h.Qdisc, keyNodes(h))
	}
	if h := readHook(t, c, eth0); keyNodes(h) != n {
		t.Fatalf("eth0: %d filters after Wire, want %d", keyNodes(h), n)
	}
	// Every filter on eth0 is a wire to tap0: Unwire deletes the qdisc.
	start = time.Now()
	if err := Unwire(c, eth0, tap0); err != nil {
		t.Fatal(err)
	}
	t.Logf("Unwire of %d filters: %v", n+1, time.Since(start))
	if out := ns.Run("tc", "qdisc", "show", "ingress"); strings.TrimSpace(out) != "" {
		t.Fatalf("ingress qdiscs left:\n%s", out)
	}
}
