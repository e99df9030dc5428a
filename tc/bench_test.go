package tc

import (
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

func BenchmarkAddFilterRequest(b *testing.B) {
	f := WireFilter(Dev{"eth0", 3}, Dev{"tap0", 4}, IngressHandle, WireOptions{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AddFilterRequest(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlanWire(b *testing.B) {
	ha, hb := Hook{Dev: Dev{"eth0", 3}}, Hook{Dev: Dev{"tap0", 4}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PlanWire(ha, hb, WireOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWire is one bidirectional attach and detach per iteration, live,
// in a namespace: read both hooks, one batch of four requests, read again,
// one batch of two qdisc deletes.
func BenchmarkWire(b *testing.B) {
	nstest.RequireRoot(b)
	ns := newWireNS(b)
	c := dial(b, ns)
	eth0, tap0 := dev(b, ns, "eth0"), dev(b, ns, "tap0")
	b.ReportAllocs()
	for b.Loop() {
		if err := Wire(c, eth0, tap0, WireOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := Unwire(c, eth0, tap0); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if h := readHook(b, c, eth0); h.Qdisc != "" {
		b.Errorf("eth0 still has a %s qdisc", h.Qdisc)
	}
}
