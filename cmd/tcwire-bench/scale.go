package main

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/tc"
)

// runScale puts n veth+tap pairs in one namespace, wires all but the last
// with the raw-netlink floor, times tcwire's library on the last one
// (attach–detach cycles: the attach alone and the whole cycle), then times
// `tcwire show`.
func (h *harness) runScale() []bench.Scale {
	var out []bench.Scale
	for _, n := range h.scale {
		s, err := h.scaleOne(n)
		if err != nil {
			h.fail("scale %d: %v", n, err)
			continue
		}
		kb := "-"
		if s.KernelBytesPerPair != nil {
			kb = fmt.Sprintf("%.0f", *s.KernelBytesPerPair)
		}
		h.progress("scale %5d pairs: %.1f µs/attach, %.1f µs/attach+detach (floor: %.1f the same pair, %.1f on average), show %s (%d rows, %d KiB), show DEV %.1f ms, %s kernel bytes/pair, set-up %.1fs",
			n, s.UsPerAttach, s.UsPerAttachDetach, s.FloorLastUs, s.FloorUsPerAttach, showText(s), s.ShowRows, s.ShowMaxRSS, s.ShowOneMs, kb, s.SetupS)
		out = append(out, s)
	}
	return out
}

func showText(s bench.Scale) string {
	if s.ShowMs == nil {
		return fmt.Sprintf("stopped after %.0fs", s.ShowLimitS)
	}
	return fmt.Sprintf("%.1f ms", *s.ShowMs)
}

// Timed attaches of the last pair at each scale: at most scaleTimed, and
// no more once scaleTimeCap is spent.
const (
	scaleTimed   = 20
	scaleTimeCap = 20 * time.Second
)

// settle waits (up to 10 s) until the kernel's unreclaimable slab stops
// shrinking: a namespace deleted just before is freed asynchronously and
// holds the RTNL lock meanwhile.
func settle() {
	deadline := time.Now().Add(10 * time.Second)
	prev := slabUnreclaim()
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		cur := slabUnreclaim()
		if cur >= prev-64<<10 {
			return
		}
		prev = cur
	}
}

func (h *harness) scaleOne(n int) (bench.Scale, error) {
	s := bench.Scale{Pairs: n}
	settle()
	ns, err := newNS("scale", false)
	if err != nil {
		return s, err
	}
	defer delNS(ns)
	t0 := time.Now()
	pairs, err := makePairs(ns, n, false)
	if err != nil {
		return s, err
	}
	s.SetupS = time.Since(t0).Seconds()
	bulk, last := pairs[:n-1], pairs[n-1]
	c, err := dial(ns)
	if err != nil {
		return s, err
	}
	defer c.Close()
	restore := gcOff()
	defer restore()
	slab0 := slabUnreclaim()
	if len(bulk) > 0 {
		fl, err := newFloor(ns, bulk)
		if err != nil {
			return s, err
		}
		start := time.Now()
		err = fl.attach()
		s.FloorUsPerAttach = time.Since(start).Seconds() * 1e6 / float64(len(bulk))
		fl.close()
		if err != nil {
			return s, err
		}
	}
	lastFloor, err := newFloor(ns, []cpPair{last})
	if err != nil {
		return s, err
	}
	defer lastFloor.close()
	var per, cycle, floorPer []float64
	spent := time.Duration(0)
	for i := 0; i < scaleTimed && (i == 0 || spent < scaleTimeCap); i++ {
		// The floor's attach of the same pair, then tcwire's: the
		// kernel's cost at this size beside tcwire's.
		start := time.Now()
		if err := lastFloor.attach(); err != nil {
			return s, err
		}
		floorPer = append(floorPer, time.Since(start).Seconds()*1e6)
		if err := tc.Unwire(c, last.veth, last.tap); err != nil {
			return s, err
		}
		start = time.Now()
		if err := tc.Wire(c, last.veth, last.tap, tc.WireOptions{}); err != nil {
			return s, err
		}
		el := time.Since(start)
		per = append(per, el.Seconds()*1e6)
		if err := tc.Unwire(c, last.veth, last.tap); err != nil {
			return s, err
		}
		el = time.Since(start)
		spent += el
		cycle = append(cycle, el.Seconds()*1e6)
	}
	// The last pair stays wired, for the checks and show below.
	if err := tc.Wire(c, last.veth, last.tap, tc.WireOptions{}); err != nil {
		return s, err
	}
	slab1 := slabUnreclaim()
	s.UsPerAttach, s.TimedAttaches, s.UsPerAttachDetach, s.FloorLastUs = median(per), len(per), median(cycle), median(floorPer)
	if n >= 100 {
		s.KernelBytesPerPair = ptr(float64(slab1-slab0) / float64(n))
	}
	for _, p := range []cpPair{pairs[0], pairs[n-1]} {
		if err := verifyWired(ns, p); err != nil {
			return s, err
		}
	}
	if h.tcwireBin == "" {
		return s, fmt.Errorf("no tcwire binary for show (--tcwire)")
	}
	// One device.
	var one strings.Builder
	m1, err := runMeasured(h.showLimit, &one, h.tcwireBin, "--netns", ns, "show", pairs[0].veth.Name)
	if err != nil {
		return s, err
	}
	s.ShowOneMs = float64(m1.elapsed.Microseconds()) / 1e3
	// Everything, within a limit.
	s.ShowLimitS = h.showLimit.Seconds()
	var stdout strings.Builder
	m, err := runMeasured(h.showLimit, &stdout, h.tcwireBin, "--netns", ns, "show")
	if err != nil {
		return s, err
	}
	s.ShowMaxRSS = m.maxRSSKB
	if m.timedOut {
		return s, nil // show_ms null: it did not finish
	}
	el := m.elapsed
	s.ShowMs = ptr(float64(el.Microseconds()) / 1e3)
	sc := bufio.NewScanner(strings.NewReader(stdout.String()))
	for sc.Scan() {
		s.ShowRows++
	}
	s.ShowRows-- // the header
	if s.ShowRows != 2*n {
		return s, fmt.Errorf("tcwire show listed %d redirects, want %d", s.ShowRows, 2*n)
	}
	return s, nil
}
