package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

const (
	dirTapToVeth = bench.TapToVeth
	dirVethToTap = bench.VethToTap
	smallFrame   = 60   // 64 bytes on the wire with the FCS
	largeFrame   = 1500 // the whole Ethernet frame, header included
)

// trial is one measurement of one direction at one frame size.
type trial struct {
	send                         sendResult
	got, sockDrops, devDrops, sn uint64
	secs                         float64
}

func (tr trial) pps() float64 { return float64(tr.got) / tr.secs }

// ends returns the sending and receiving endpoints of a direction.
func (t *topo) ends(dir string) (tx, rx *endpoint, dst, src []byte) {
	if dir == dirTapToVeth {
		return t.vm, t.far, t.farMAC, vmMAC
	}
	return t.far, t.vm, vmMAC, t.farMAC
}

// gcOff stops the collector for a trial; the returned func restores it.
func gcOff() func() {
	runtime.GC()
	old := debug.SetGCPercent(-1)
	return func() { debug.SetGCPercent(old) }
}

// trialOpts changes a flood trial: rate > 0 paces the sender and lets the
// reader wake every millisecond (the CPU trial); slow makes the reader
// take at most slowReaderPPS frames a second.
type trialOpts struct {
	rate float64
	slow bool
}

// slowReaderPPS is the slow reader's rate: slowBatch frames per
// millisecond's sleep.
const (
	slowBatch     = 20
	slowReaderPPS = slowBatch * 1000
)

// floodTrial sends as fast as the sender can (or at opts.rate) for dur and
// counts what the receiver reads.
func (h *harness) floodTrial(t *topo, dir string, size int, dur time.Duration, opts trialOpts) trial {
	rate := opts.rate
	tx, rx, dst, src := t.ends(dir)
	frame := buildFrame(tx.hdr, size, dst, src, kindData)
	var tr trial
	if rx != nil {
		flush(rx.fd, h.rbuf)
	}
	if rx != nil && rx.kind == "packet" {
		unix.GetsockoptTpacketStats(rx.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS) // resets
	}
	restore := gcOff()
	defer restore()
	d0, sn0 := t.drops(), softnetDrops()
	var rd *reader
	if rx != nil {
		var sleep time.Duration
		batch := 0
		switch {
		case opts.slow:
			sleep, batch = time.Millisecond, slowBatch
		case rate > 0:
			// The CPU trial: wake up every millisecond rather than once
			// per frame, as a VMM's interrupt moderation would (at 100 000
			// frames/s, 100 frames a wake-up: far below the queues' sizes).
			sleep = time.Millisecond
		case h.Reader == "sleep":
			sleep = 50 * time.Microsecond
		}
		rd = startReader(rx.fd, rx.hdr, h.readerCPU, h.Reader != "spin", sleep, batch, h.rbuf)
	}
	done := make(chan sendResult)
	go func() { done <- flood(tx.fd, frame, dur, rate, h.senderCPU) }()
	tr.send = <-done
	if rd != nil {
		tr.got = rd.finish()
	} else {
		tr.got = tr.send.sent // a ceiling: what the sender got rid of
	}
	if rx != nil && rx.kind == "packet" {
		if st, err := unix.GetsockoptTpacketStats(rx.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			tr.sockDrops = uint64(st.Drops)
		}
	}
	tr.devDrops = t.drops() - d0
	tr.sn = softnetDrops() - sn0
	tr.secs = tr.send.dur.Seconds()
	return tr
}

type cell struct {
	dir  string
	size int
}

type dpResult struct {
	t      *topo
	trials map[cell][]trial
	ratios map[cell][]float64
	cpu    map[string][]cpuSample
	rtt    []int64
	lost   int
	l2     *bench.L2
	slow   *bench.SlowReader
}

type cpuSample struct{ all, proc, delivered float64 }

func rotate[T any](s []T, k int) []T {
	if len(s) == 0 {
		return s
	}
	k %= len(s)
	return append(slices.Clone(s[k:]), s[:k]...)
}

// runDatapaths builds every topology, then measures them in interleaved
// rounds.
func (h *harness) runDatapaths() []bench.Datapath {
	var res []*dpResult
	for _, s := range datapathSpecs {
		if h.Datapaths != nil && !slices.Contains(h.Datapaths, s.name) {
			continue
		}
		h.progress("build %s", s.name)
		t, err := buildTopo(s)
		if err != nil {
			h.fail("datapath %v", err)
			continue
		}
		defer t.close()
		res = append(res, &dpResult{t: t, trials: map[cell][]trial{}, ratios: map[cell][]float64{}, cpu: map[string][]cpuSample{}})
	}
	// L2 transparency, once per datapath (not timed): all at once, since
	// each watches its VM side for l2Window.
	l2errs := make([]error, len(res))
	var wg sync.WaitGroup
	for i, r := range res {
		if r.t.ceiling {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.l2, l2errs[i] = l2Test(r.t)
		}()
	}
	wg.Wait()
	for i, r := range res {
		if l2errs[i] != nil {
			h.fail("%s: L2 test: %v", r.t.name, l2errs[i])
		} else if r.l2 != nil {
			h.progress("L2 %-26s %s", r.t.name, bench.L2String(r.l2))
		}
	}
	cells := []cell{{dirTapToVeth, smallFrame}, {dirVethToTap, smallFrame}, {dirTapToVeth, largeFrame}, {dirVethToTap, largeFrame}}
	// Warm-up: a short trial of each datapath and direction.
	h.progress("warm-up")
	for _, r := range res {
		for _, d := range r.t.dirs {
			h.floodTrial(r.t, d, smallFrame, h.budget/4+10*time.Millisecond, trialOpts{})
		}
	}
	cpuDur := h.budget
	for round := 0; round < h.rounds; round++ {
		order := rotate(res, round)
		floor := map[cell]float64{}
		got := map[*dpResult]map[cell]float64{}
		for _, c := range cells {
			for _, r := range order {
				if !slices.Contains(r.t.dirs, c.dir) {
					continue
				}
				tr := h.floodTrial(r.t, c.dir, c.size, h.budget, trialOpts{})
				r.trials[c] = append(r.trials[c], tr)
				if got[r] == nil {
					got[r] = map[cell]float64{}
				}
				got[r][c] = tr.pps()
				if r.t.name == floorName {
					floor[c] = tr.pps()
				}
			}
		}
		for r, m := range got {
			for c, v := range m {
				if f := floor[c]; f > 0 {
					r.ratios[c] = append(r.ratios[c], v/f)
				}
			}
		}
		// CPU per delivered frame at a fixed offered rate.
		for _, dir := range []string{dirTapToVeth, dirVethToTap} {
			for _, r := range order {
				if r.t.ceiling || !slices.Contains(r.t.dirs, dir) {
					continue
				}
				a0, p0 := cpuBusy(), harnessCPU()
				tr := h.floodTrial(r.t, dir, smallFrame, cpuDur, trialOpts{rate: h.cpuRate})
				a1, p1 := cpuBusy(), harnessCPU()
				if tr.got > 0 {
					r.cpu[dir] = append(r.cpu[dir], cpuSample{
						all:       float64(a1-a0) / float64(tr.got),
						proc:      float64(p1-p0) / float64(tr.got),
						delivered: float64(tr.got) / float64(max(tr.send.sent, 1)),
					})
				}
			}
		}
		// Round trips.
		for _, r := range order {
			if r.t.ceiling {
				continue
			}
			flush(r.t.vm.fd, h.rbuf)
			flush(r.t.far.fd, h.rbuf)
			restore := gcOff()
			minSamples := 20
			if h.quick {
				minSamples = 5
			}
			s, lost := rttRun(r.t.vm.fd, r.t.vm.hdr, r.t.far.fd, r.t.farMAC, vmMAC, h.budget, minSamples, 200000, h.senderCPU, h.readerCPU)
			restore()
			r.rtt = append(r.rtt, s...)
			r.lost += lost
		}
		h.progress("round %d/%d done", round+1, h.rounds)
	}
	// A VM side that reads slowly: where do the frames it cannot take go?
	for _, r := range res {
		if r.t.ceiling || !slices.Contains(r.t.dirs, dirVethToTap) {
			continue
		}
		r.slow = &bench.SlowReader{Socket: slowTrial(h.floodTrial(r.t, dirVethToTap, smallFrame, h.budget, trialOpts{slow: true}))}
		if fwd, err := h.forwardedSlowTrial(r.t); err != nil {
			h.fail("%s: slow reader, forwarded frames: %v", r.t.name, err)
		} else {
			r.slow.Forwarded = &fwd
		}
		for _, x := range []struct {
			kind string
			s    *bench.SlowTrial
		}{{"socket", &r.slow.Socket}, {"forwarded", r.slow.Forwarded}} {
			if x.s != nil {
				h.progress("slow reader %-26s %-9s delivered %.0f/s, sent %.0f/s, EAGAIN %.0f/s, device drops %.0f/s", r.t.name, x.kind,
					x.s.DeliveredPPS, x.s.SentPPS, x.s.EAGAINps, x.s.DevDropsps)
			}
		}
	}
	var out []bench.Datapath
	for _, r := range res {
		out = append(out, r.summary(h, cells))
	}
	return out
}

func slowTrial(tr trial) bench.SlowTrial {
	return bench.SlowTrial{DeliveredPPS: tr.pps(), SentPPS: float64(tr.send.sent) / tr.secs,
		EAGAINps: float64(tr.send.eagain) / tr.secs, ENOBUFSps: float64(tr.send.enobufs) / tr.secs, DevDropsps: float64(tr.devDrops) / tr.secs}
}

// forwardedSlowTrial is the slow-reader trial with frames that no send
// buffer holds back, as frames forwarded from a NIC: the far side writes
// them into a tap, fwd0, whose ingress redirects them out of peer0 (one
// direction only). The tap stays until t is closed.
func (h *harness) forwardedSlowTrial(t *topo) (bench.SlowTrial, error) {
	cfar := t.conns[1]
	ep, src, err := tapEndpoint(cfar, t.farNS, "fwd0", jumboMTU)
	if err != nil {
		return bench.SlowTrial{}, err
	}
	t.cleanups = append(t.cleanups, ep.close)
	peer, err := link.Lookup(cfar, "peer0")
	if err != nil {
		return bench.SlowTrial{}, err
	}
	from, to := tc.Dev{Name: src.Name, Index: src.Index}, tc.Dev{Name: peer.Name, Index: peer.Index}
	f, err := tc.AddFilterRequest(tc.WireFilter(from, to, tc.IngressHandle, tc.WireOptions{}))
	if err != nil {
		return bench.SlowTrial{}, err
	}
	for _, req := range []nl.Request{tc.AddQdiscRequest(tc.Ingress(src.Index, src.Name)), f} {
		if err := cfar.Exec(req); err != nil {
			return bench.SlowTrial{}, err
		}
	}
	sock := t.far
	t.far = ep
	defer func() { t.far = sock }()
	return slowTrial(h.floodTrial(t, dirVethToTap, smallFrame, h.budget, trialOpts{slow: true})), nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func percentile(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / 1e3
}

func (r *dpResult) summary(h *harness, cells []cell) bench.Datapath {
	d := bench.Datapath{Name: r.t.name, Description: r.t.desc, SharedSegment: r.t.shared, L2: r.l2, SlowReader: r.slow, Flows: []bench.Flow{}}
	if r.t.vm != nil {
		d.VMSide = r.t.vm.kind
	}
	for _, c := range cells {
		ts := r.trials[c]
		if len(ts) == 0 {
			continue
		}
		var pps []float64
		f := bench.Flow{Direction: c.dir, Frame: c.size, Rounds: len(ts)}
		var secs float64
		for _, tr := range ts {
			pps = append(pps, tr.pps())
			secs += tr.secs
			f.SentPPS += float64(tr.send.sent)
			f.EAGAINps += float64(tr.send.eagain)
			f.ENOBUFSps += float64(tr.send.enobufs)
			f.OtherErrps += float64(tr.send.other)
			f.SockDropsps += float64(tr.sockDrops)
			f.DevDropsps += float64(tr.devDrops)
			f.Softnetps += float64(tr.sn)
			if tr.send.sent > tr.got {
				f.Lostps += float64(tr.send.sent - tr.got)
			}
		}
		for _, p := range []*float64{&f.SentPPS, &f.EAGAINps, &f.ENOBUFSps, &f.OtherErrps, &f.SockDropsps, &f.DevDropsps, &f.Softnetps, &f.Lostps} {
			*p /= secs
		}
		f.PPS = median(pps)
		f.PPSMin, f.PPSMax = slices.Min(pps), slices.Max(pps)
		if len(r.ratios[c]) > 0 {
			f.Ratio = ptr(median(r.ratios[c]))
		}
		d.Flows = append(d.Flows, f)
		switch c {
		case cell{dirTapToVeth, smallFrame}:
			d.TapToVethPPS = ptr(f.PPS)
		case cell{dirVethToTap, smallFrame}:
			d.VethToTapPPS = ptr(f.PPS)
		case cell{dirTapToVeth, largeFrame}:
			d.TapToVethPPS1500 = ptr(f.PPS)
		case cell{dirVethToTap, largeFrame}:
			d.VethToTapPPS1500 = ptr(f.PPS)
		}
	}
	if len(r.rtt) > 0 {
		s := slices.Clone(r.rtt)
		slices.Sort(s)
		rt := &bench.RTT{Count: len(s), Lost: r.lost, MinUs: float64(s[0]) / 1e3, P50us: percentile(s, 0.5),
			P99us: percentile(s, 0.99), P999us: percentile(s, 0.999), MaxUs: float64(s[len(s)-1]) / 1e3}
		d.RTT = rt
		d.RTTP50us, d.RTTP99us, d.RTTP999us = ptr(rt.P50us), ptr(rt.P99us), ptr(rt.P999us)
	}
	var all []float64
	for _, dir := range []string{dirTapToVeth, dirVethToTap} {
		ss := r.cpu[dir]
		if len(ss) == 0 {
			continue
		}
		var a, p, dl []float64
		for _, s := range ss {
			a, p, dl = append(a, s.all), append(p, s.proc), append(dl, s.delivered)
		}
		d.CPU = append(d.CPU, bench.CPU{Direction: dir, RatePPS: h.cpuRate, NsPerPkt: median(p), NsPerPktMin: slices.Min(p),
			NsPerPktMax: slices.Max(p), SystemNsPerPkt: median(a), Delivered: median(dl)})
		all = append(all, median(p))
	}
	if len(all) > 0 {
		// The headline: the mean of the two directions' medians.
		d.CPUNsPerPkt = ptr((all[0] + all[len(all)-1]) / 2)
	}
	return d
}
