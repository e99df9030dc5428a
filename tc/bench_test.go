package tc

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
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
// in a namespace: probe both hooks, one batch of four requests, probe and
// dump both hooks, one batch of two qdisc deletes.
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

// BenchmarkAttach compares, side by side in one run, one bidirectional
// attach of existing, fresh devices (fresh), the same attach again on
// devices already wired (repeat), and the four requests alone sent with
// Conn.Do (floor). It cycles through 100 pairs, as tcwire-bench does; the
// detach of all of them between cycles is not timed.
func BenchmarkAttach(b *testing.B) {
	nstest.RequireRoot(b)
	ns, pairs := stressNS(b, 100)
	c := dial(b, ns)
	detachAll := func(b *testing.B) {
		b.StopTimer()
		var reqs []nl.Request
		for _, p := range pairs {
			reqs = append(reqs, DelQdiscRequest(Ingress(p.veth.Index, p.veth.Name)), DelQdiscRequest(Ingress(p.tap.Index, p.tap.Name)))
		}
		for _, err := range c.Do(reqs...) {
			if err != nil && !isGone(err) {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	wire := func(b *testing.B, p wirePair) {
		if err := Wire(c, p.veth, p.tap, WireOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	floor := make([][]nl.Request, len(pairs))
	for i, p := range pairs {
		plan, err := PlanWire(Hook{Dev: p.veth}, Hook{Dev: p.tap}, WireOptions{})
		if err != nil {
			b.Fatal(err)
		}
		floor[i] = plan.Requests
	}
	b.Run("fresh-vs-floor", func(b *testing.B) {
		// Alternately one pair wired by Wire and the next by the floor's
		// requests, each timed on its own: the ratio of the two totals
		// is side by side, whatever the host's load does meanwhile.
		detachAll(b)
		var wired, floored time.Duration
		n := 0
		b.ResetTimer()
		for i := range b.N {
			k := i % (len(pairs) / 2)
			if i > 0 && k == 0 {
				detachAll(b)
			}
			w, f := 2*k, 2*k+1
			if i%2 == 1 {
				w, f = f, w
			}
			start := time.Now()
			wire(b, pairs[w])
			mid := time.Now()
			for _, err := range c.Do(floor[f]...) {
				if err != nil {
					b.Fatal(err)
				}
			}
			wired, floored, n = wired+mid.Sub(start), floored+time.Since(mid), n+1
		}
		b.ReportMetric(float64(wired.Microseconds())/float64(n), "wire-µs/op")
		b.ReportMetric(float64(floored.Microseconds())/float64(n), "floor-µs/op")
		b.ReportMetric(float64(wired)/float64(floored), "wire/floor")
	})
	for _, bc := range []struct {
		name   string
		attach func(b *testing.B, i int)
		detach bool // between cycles
	}{
		{"fresh", func(b *testing.B, i int) { wire(b, pairs[i]) }, true},
		{"repeat", func(b *testing.B, i int) { wire(b, pairs[i]) }, false},
		{"floor", func(b *testing.B, i int) {
			for _, err := range c.Do(floor[i]...) {
				if err != nil {
					b.Fatal(err)
				}
			}
		}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			detachAll(b)
			if !bc.detach {
				for _, p := range pairs {
					wire(b, p)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			var user, sys time.Duration
			for i := range b.N {
				if i > 0 && i%len(pairs) == 0 && bc.detach {
					detachAll(b)
				}
				u0, s0 := cpuTimes(b)
				bc.attach(b, i%len(pairs))
				u1, s1 := cpuTimes(b)
				user, sys = user+u1-u0, sys+s1-s0
			}
			// CPU time is steadier than wall time on a shared host, where
			// the attach waits for the RTNL lock behind others' work.
			b.ReportMetric(float64(user.Microseconds())/float64(b.N), "user-µs/op")
			b.ReportMetric(float64(sys.Microseconds())/float64(b.N), "sys-µs/op")
		})
	}
}

// cpuTimes is the process's user and system CPU time so far.
func cpuTimes(b *testing.B) (user, sys time.Duration) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
