package tc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tuntap"
)

// wirePair is a veth and a tap to wire together.
type wirePair struct {
	veth, tap Dev
}

// stressNS makes n veth/tap pairs in a fresh namespace: the veths v0…
// (peers p0…) in one `ip -batch`, the persistent taps t0… with
// tuntap.Create from a few goroutines.
func stressNS(t testing.TB, n int) (*nstest.NS, []wirePair) {
	t.Helper()
	ns := nstest.New(t)
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "link add v%d type veth peer name p%d\n", i, i)
	}
	batch := filepath.Join(t.TempDir(), "veths")
	if err := os.WriteFile(batch, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := nstestIP(ns, "-batch", batch); err != nil {
		t.Fatalf("ip -batch: %v\n%s", err, out)
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, n)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				tap, err := tuntap.Create(tuntap.Config{Name: fmt.Sprintf("t%d", i), Persist: true, NetNS: ns.Name})
				if err == nil {
					err = tap.Close()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c, err := nl.Dial(&nl.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	links, err := link.List(c)
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]int32{}
	for _, l := range links {
		index[l.Name] = l.Index
	}
	pairs := make([]wirePair, n)
	for i := range pairs {
		v, tp := fmt.Sprintf("v%d", i), fmt.Sprintf("t%d", i)
		if index[v] == 0 || index[tp] == 0 {
			t.Fatalf("%s or %s missing", v, tp)
		}
		pairs[i] = wirePair{Dev{v, index[v]}, Dev{tp, index[tp]}}
	}
	return ns, pairs
}

// nstestIP runs `ip -n NS args…`.
func nstestIP(ns *nstest.NS, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput()
	return string(out), err
}

// openFDs counts the process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// settleGoroutines waits up to 5 s for the number of goroutines to come
// back to at most want, and returns the last count.
func settleGoroutines(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// op is Wire or Unwire of a pair, either way round.
type op struct {
	wire     bool
	reversed bool // tap first
}

func (o op) run(c *nl.Conn, p wirePair) error {
	a, b := p.veth, p.tap
	if o.reversed {
		a, b = b, a
	}
	if o.wire {
		return Wire(c, a, b, WireOptions{})
	}
	return Unwire(c, a, b)
}

var (
	wire     = op{wire: true}
	wireRev  = op{wire: true, reversed: true}
	unwire   = op{}
	unwireRv = op{reversed: true}
)

// runOps runs each pair's ops, in order, on workers goroutines that take
// pairs from a common counter; conn gives each worker its Conn.
func runOps(t *testing.T, pairs []wirePair, workers int, conn func() *nl.Conn, ops func(i int) []op) {
	t.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	var failed atomic.Bool
	for range workers {
		wg.Go(func() {
			c := conn()
			if c == nil {
				failed.Store(true)
				return
			}
			for i := int(next.Add(1)) - 1; i < len(pairs) && !failed.Load(); i = int(next.Add(1)) - 1 {
				for k, o := range ops(i) {
					if err := o.run(c, pairs[i]); err != nil {
						t.Errorf("pair %d (%s, %s), op %d %+v: %v", i, pairs[i].veth, pairs[i].tap, k, o, err)
						failed.Store(true)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		t.FailNow()
	}
}

// checkWired dumps every device's ingress hook (a qdisc dump for all, a
// filter dump per device) and checks it against wired: both halves of a
// wired pair hold an ingress qdisc with exactly one filter, the wire to the
// other; an unwired pair's devices have no qdisc and no filter. tc's own
// count of the mirred actions in the namespace must agree.
func checkWired(t *testing.T, ns *nstest.NS, pairs []wirePair, wired func(i int) bool) {
	t.Helper()
	c, err := nl.Dial(&nl.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	qs, err := Qdiscs(c, 0)
	if err != nil {
		t.Fatal(err)
	}
	ingress := map[int32]int{}
	for _, q := range qs {
		if q.Parent == TC_H_INGRESS {
			ingress[q.Ifindex]++
		}
	}
	n, bad := 0, 0
	for i, p := range pairs {
		want := wired(i)
		if want {
			n++
		}
		for _, d := range [2][2]Dev{{p.veth, p.tap}, {p.tap, p.veth}} {
			h, err := ReadHook(c, d[0])
			if err != nil {
				t.Fatal(err)
			}
			if !want && d[0] == p.veth && len(h.Filters) == 0 && h.Qdisc == "" {
				// Also ask the kernel for filters where there is no
				// qdisc: the dump must be empty, not an error.
				if fs, err := Filters(c, d[0].Index, IngressHandle); err != nil || len(fs) != 0 {
					t.Errorf("%s: filters without a qdisc: %d, %v", d[0], len(fs), err)
				}
			}
			rs := h.Redirects()
			ok := ingress[d[0].Index] == btoi(want) && (want && h.Qdisc == KindIngress && keyNodes(h) == 1 && len(rs) == 1 &&
				rs[0].IsWire() && rs[0].TargetIfindex == d[1].Index ||
				!want && h.Qdisc == "" && len(h.Filters) == 0)
			if !ok {
				if bad++; bad <= 10 {
					t.Errorf("pair %d, %s: want wired=%v, got %d ingress qdiscs, qdisc %q, %d filters, redirects %+v", i, d[0], want, ingress[d[0].Index], h.Qdisc, keyNodes(h), rs)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d devices in the wrong state", bad)
	}
	if got := len(qsOfKind(qs, KindIngress)); got != 2*n {
		t.Fatalf("%d ingress qdiscs in the namespace, want %d", got, 2*n)
	}
	waitMirredActions(t, ns, 2*n)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func qsOfKind(qs []Qdisc, kind string) []Qdisc {
	var out []Qdisc
	for _, q := range qs {
		if q.Kind == kind {
			out = append(out, q)
		}
	}
	return out
}

// TestConcurrentWire: many goroutines wire and unwire distinct veth/tap
// pairs of one namespace through the library, first each on its own Conn,
// then all on one shared Conn, then unwire everything; after each phase
// every device's filters are dumped and checked. Nothing leaks: the
// process has as many file descriptors and, once settled, no more
// goroutines than before. 100 pairs; 1000 with TCWIRE_LONG=1.
func TestConcurrentWire(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip")
	nstest.RequireTool(t, "tc")
	n, workers := 100, 16
	if nstest.Long() {
		n, workers = 1000, 32
	}
	fds, goroutines := openFDs(t), runtime.NumGoroutine()
	start := time.Now()
	ns, pairs := stressNS(t, n)
	t.Logf("%d veth/tap pairs made in %v", n, time.Since(start))

	phase := func(name string, conn func() *nl.Conn, ops func(i int) []op, wired func(i int) bool) {
		t.Helper()
		start := time.Now()
		runOps(t, pairs, workers, conn, ops)
		took := time.Since(start)
		calls := 0
		for i := range pairs {
			calls += len(ops(i))
		}
		start = time.Now()
		checkWired(t, ns, pairs, wired)
		t.Logf("%s: %d Wire/Unwire calls on %d pairs by %d goroutines in %v (%.0f/s); checked in %v",
			name, calls, n, workers, took.Round(time.Millisecond), float64(calls)/took.Seconds(), time.Since(start).Round(time.Millisecond))
	}

	// Phase 1: a Conn per goroutine. The pairs end wired when i%4 is 0
	// or 2, after one to four calls, some of them no-ops.
	var mu sync.Mutex
	var conns []*nl.Conn
	own := func() *nl.Conn {
		c, err := nl.Dial(&nl.Config{NetNS: ns.Name})
		if err != nil {
			t.Error(err)
			return nil
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		return c
	}
	phase("separate Conns", own, func(i int) []op {
		return [][]op{{wire}, {wire, unwire}, {wire, unwireRv, wireRev, wire}, {unwire}}[i%4]
	}, func(i int) bool { return i%4 == 0 || i%4 == 2 })
	for _, c := range conns {
		c.Close()
	}

	// Phase 2: one Conn for all. Each pair flips: the wired ones are
	// unwired (twice), the others wired (either way round).
	shared, err := nl.Dial(&nl.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	phase("one shared Conn", func() *nl.Conn { return shared }, func(i int) []op {
		return [][]op{{unwire, unwire}, {wireRev}, {unwireRv, unwire}, {wire, wireRev}}[i%4]
	}, func(i int) bool { return i%4 == 1 || i%4 == 3 })

	// Phase 3: everything unwired, on the shared Conn again.
	phase("unwire all", func() *nl.Conn { return shared }, func(i int) []op {
		return []op{unwire}
	}, func(int) bool { return false })
	shared.Close()

	if after := openFDs(t); after != fds {
		t.Errorf("%d open file descriptors after, %d before", after, fds)
	}
	if after := settleGoroutines(goroutines); after > goroutines {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after, %d before:\n%s", after, goroutines, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("file descriptors: %d before and after; goroutines: %d before, %d after", fds, goroutines, runtime.NumGoroutine())
}
