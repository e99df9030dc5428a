package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/tc"
)

// cpPair is an existing veth end and an existing persistent tap.
type cpPair struct{ veth, tap tc.Dev }

// attachResult is one contender's round: total time for len(pairs)
// attaches and, for in-process contenders, heap allocations.
type attachResult struct {
	total         time.Duration
	allocs, bytes *float64
	// roundTrips is sendmsg calls per attach, when the contender counts
	// them.
	roundTrips *float64
}

type contender struct {
	name, desc string
	run        func(h *harness, ns string, pairs []cpPair) (attachResult, error)
	// trips counts the sendmsg calls of one attach of p under strace, for
	// the contenders that are processes; fixed is the count of those
	// whose request sequence is fixed by construction.
	trips func(h *harness, ns string, p cpPair) (float64, error)
	fixed float64
}

var contenders = []contender{
	{name: "netlink-floor", desc: "the same four requests pre-encoded, one write(2) on a raw NETLINK_ROUTE socket, four acks read", run: attachFloor, fixed: 1},
	{name: "tcwire", desc: "tc.Wire in process: probes both hooks in one sendmsg (no dump on fresh devices), plans, sends the four requests in one sendmsg", run: attachTcwire},
	{name: "tcwire-attach", desc: "tcwire.Attach in process, one call a pair (each opens and closes a Handle: socket, namespace thread, lock)", run: attachOneShot},
	{name: "tcwire-attachall", desc: "Handle.AttachAll in process: every pair in one call on one Handle (lookups, probes and wiring batched)", run: attachAll},
	{name: "vishvananda", desc: "vishvananda/netlink in process (bench/vishvananda): QdiscAdd ×2, FilterAdd ×2 (U32 + MirredAction), one request each", run: attachVishvananda, fixed: 4},
	{name: "tcwire-cli", desc: "one `tcwire --netns NS attach VETH TAP` process per attach", run: attachTcwireCLI, trips: func(h *harness, ns string, p cpPair) (float64, error) {
		return straceSendmsgs(h.tcwireBin, "--netns", ns, "attach", p.veth.Name, p.tap.Name)
	}},
	{name: "tc-cli", desc: "four `tc -n NS …` processes per attach (qdisc ×2, filter ×2)", run: attachTcCLI, trips: func(h *harness, ns string, p cpPair) (float64, error) {
		n := 0.0
		for _, args := range tcCommands(p) {
			k, err := straceSendmsgs("tc", append([]string{"-n", ns}, args...)...)
			if err != nil {
				return 0, err
			}
			n += k
		}
		return n, nil
	}},
	{name: "tc-batch", desc: "one `tc -n NS -batch FILE` process per attach, the four commands in FILE", run: attachTcBatch, trips: func(h *harness, ns string, p cpPair) (float64, error) {
		f, err := os.CreateTemp("", "tcwire-bench-batch")
		if err != nil {
			return 0, err
		}
		defer os.Remove(f.Name())
		for _, args := range tcCommands(p) {
			fmt.Fprintln(f, strings.Join(args, " "))
		}
		if err := f.Close(); err != nil {
			return 0, err
		}
		return straceSendmsgs("tc", "-n", ns, "-batch", f.Name())
	}},
}

const cpFloorName = "netlink-floor"

// runControl measures the control plane: the attach table, then the CNI
// contenders (reported beside it).
func (h *harness) runControl() []bench.Control {
	out := h.controlTable()
	h.report.CNI = h.runCNI()
	return out
}

func (h *harness) controlTable() []bench.Control {
	ns, err := newNS("cp", false)
	if err != nil {
		h.fail("control plane: %v", err)
		return nil
	}
	defer delNS(ns)
	pairs, err := makePairs(ns, h.pairs, true)
	if err != nil {
		h.fail("control plane: set-up: %v", err)
		return nil
	}
	type acc struct {
		per           []float64
		ratio         []float64
		allocs, bytes []float64
		failed        bool
	}
	accs := map[string]*acc{}
	for _, c := range contenders {
		accs[c.name] = &acc{}
	}
	one := func(c contender, ps []cpPair) (attachResult, error) {
		restore := gcOff()
		r, err := c.run(h, ns, ps)
		restore()
		if err == nil {
			err = verifyWired(ns, ps[len(ps)-1])
		}
		if derr := detachAll(ns, ps); derr != nil && err == nil {
			err = fmt.Errorf("detach: %w", derr)
		}
		return r, err
	}
	h.progress("control plane: warm-up")
	trips := map[string]float64{}
	for _, c := range contenders {
		if _, err := one(c, pairs[:min(2, len(pairs))]); err != nil {
			h.fail("control plane %s: %v", c.name, err)
			accs[c.name].failed = true
			continue
		}
		switch {
		case c.fixed > 0:
			trips[c.name] = c.fixed
		case c.trips != nil:
			if _, err := exec.LookPath("strace"); err != nil {
				h.progress("control plane %s: no strace, round trips not counted", c.name)
				continue
			}
			n, err := c.trips(h, ns, pairs[0])
			if derr := detachAll(ns, pairs[:1]); err == nil {
				err = derr
			}
			if err != nil {
				h.fail("control plane %s: counting round trips: %v", c.name, err)
				continue
			}
			trips[c.name] = n
		}
	}
	for round := range h.rounds {
		floor := 0.0
		got := map[string]float64{}
		for _, c := range rotate(contenders, round) {
			a := accs[c.name]
			if a.failed {
				continue
			}
			r, err := one(c, pairs)
			if err != nil {
				h.fail("control plane %s: %v", c.name, err)
				a.failed = true
				continue
			}
			us := float64(r.total.Microseconds()) / float64(len(pairs))
			us = r.total.Seconds() * 1e6 / float64(len(pairs))
			a.per = append(a.per, us)
			got[c.name] = us
			if r.allocs != nil {
				a.allocs = append(a.allocs, *r.allocs)
			}
			if r.bytes != nil {
				a.bytes = append(a.bytes, *r.bytes)
			}
			if r.roundTrips != nil {
				trips[c.name] = *r.roundTrips
			}
			if c.name == cpFloorName {
				floor = us
			}
		}
		if floor > 0 {
			for n, v := range got {
				accs[n].ratio = append(accs[n].ratio, v/floor)
			}
		}
		h.progress("control plane: round %d/%d done", round+1, h.rounds)
	}
	var out []bench.Control
	for _, c := range contenders {
		a := accs[c.name]
		if len(a.per) == 0 {
			continue
		}
		ctl := bench.Control{Name: c.name, Description: c.desc, UsPerAttach: median(a.per), UsMin: slices.Min(a.per), UsMax: slices.Max(a.per),
			Ratio: median(a.ratio), Attaches: len(a.per) * len(pairs)}
		if len(a.allocs) > 0 {
			ctl.AllocsPerAttach = ptr(median(a.allocs))
		}
		if len(a.bytes) > 0 {
			ctl.BytesPerAttach = ptr(median(a.bytes))
		}
		if n, ok := trips[c.name]; ok {
			ctl.RoundTrips = ptr(n)
		}
		out = append(out, ctl)
	}
	return out
}

func memStats() (mallocs, bytes uint64) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs, m.TotalAlloc
}

func perAttach(v uint64, n int) *float64 { f := float64(v) / float64(n); return &f }

func attachTcwire(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	c, err := dial(ns)
	if err != nil {
		return attachResult{}, err
	}
	defer c.Close()
	m0, b0 := memStats()
	s0 := c.Sendmsgs()
	start := time.Now()
	for _, p := range pairs {
		if err := tc.Wire(c, p.veth, p.tap, tc.WireOptions{}); err != nil {
			return attachResult{}, err
		}
	}
	total := time.Since(start)
	m1, b1 := memStats()
	return attachResult{total: total, allocs: perAttach(m1-m0, len(pairs)), bytes: perAttach(b1-b0, len(pairs)),
		roundTrips: perAttach(c.Sendmsgs()-s0, len(pairs))}, nil
}
