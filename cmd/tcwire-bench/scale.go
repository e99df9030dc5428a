package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/tc"
)

// runScale puts n veth+tap pairs in one namespace, wires all but the last
// few with the raw-netlink floor, times tcwire's library on the last few,
// then times `tcwire show`.
func (h *harness) runScale() []bench.Scale {
	var out []bench.Scale
	for _, n := range h.scale {
		s, err := h.scaleOne(n)
		if err != nil {
			h.fail("scale %d: %v", n, err)
			continue
		}
		h.progress("scale %5d pairs: %.1f µs/attach (floor %.1f), show %s (%d rows, %d KiB), show DEV %.1f ms, %.0f kernel bytes/pair, set-up %.1fs",
			n, s.UsPerAttach, s.FloorUsPerAttach, showText(s), s.ShowRows, s.ShowMaxRSS, s.ShowOneMs, s.KernelBytesPerPair, s.SetupS)
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

// scaleTimed is how many attaches at the end are made (and timed) with
// tcwire's library.
const scaleTimed = 20

func (h *harness) scaleOne(n int) (bench.Scale, error) {
	s := bench.Scale{Pairs: n}
	ns, err := newNS("scale")
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
	k := min(n, scaleTimed)
	bulk, timed := pairs[:n-k], pairs[n-k:]
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
	var per []float64
	for _, p := range timed {
		start := time.Now()
		if err := tc.Wire(c, p.veth, p.tap, tc.WireOptions{}); err != nil {
			return s, err
		}
		per = append(per, time.Since(start).Seconds()*1e6)
	}
	slab1 := slabUnreclaim()
	s.UsPerAttach, s.TimedAttaches = median(per), len(per)
	s.KernelBytesPerPair = float64(slab1-slab0) / float64(n)
	for _, p := range []cpPair{pairs[0], pairs[n-1]} {
		if err := verifyWired(ns, p); err != nil {
			return s, err
		}
	}
	if h.tcwireBin == "" {
		return s, fmt.Errorf("no tcwire binary for show (--tcwire)")
	}
	// One device.
	t1 := time.Now()
	if err := run(h.tcwireBin, "--netns", ns, "show", pairs[0].veth.Name); err != nil {
		return s, err
	}
	s.ShowOneMs = float64(time.Since(t1).Microseconds()) / 1e3
	// Everything, within a limit.
	s.ShowLimitS = h.showLimit.Seconds()
	ctx, cancel := context.WithTimeout(context.Background(), h.showLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.tcwireBin, "--netns", ns, "show")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t2 := time.Now()
	err = cmd.Run()
	el := time.Since(t2)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.ShowMaxRSS = ru.Maxrss
	}
	if ctx.Err() != nil {
		return s, nil // show_ms null: it did not finish
	}
	if err != nil {
		return s, fmt.Errorf("tcwire show: %v: %s", err, stderr.String())
	}
	s.ShowMs = ptr(float64(el.Microseconds()) / 1e3)
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		s.ShowRows++
	}
	s.ShowRows-- // the header
	if s.ShowRows != 2*n {
		return s, fmt.Errorf("tcwire show listed %d redirects, want %d", s.ShowRows, 2*n)
	}
	return s, nil
}
