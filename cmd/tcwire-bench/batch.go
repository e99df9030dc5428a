package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/tc"
)

// The batch section: many pairs wired at once, the taps created, by
// `tcwire -batch`, by `ip -batch` then `tc -batch`, by one `tcwire attach`
// process a pair, and by the floor.

// batchShape is how many namespaces, of how many pairs each.
type batchShape struct{ namespaces, perNS int }

func (s batchShape) String() string {
	if s.namespaces == 1 {
		return fmt.Sprint(s.perNS)
	}
	return fmt.Sprintf("%dx%d", s.namespaces, s.perNS)
}

var batchShapes = []batchShape{{1, 100}, {1, 1000}, {100, 10}}

// Names of the batch rows the goals compare.
const (
	batchFloorName   = "floor"
	batchTcwireName  = "tcwire-batch"
	batchIPTCName    = "ip+tc-batch"
	batchPerPairName = "tcwire-per-pair"
)

// batchWorld is a shape's namespaces, each with veth pairs eI–pI (up) and
// the files the contenders read.
type batchWorld struct {
	shape batchShape
	ns    []string
	dir   string
	// tcwire is the -batch file of all pairs; ip and tc the per
	// namespace files of ip -batch and tc -batch.
	tcwire  string
	ip, tcb []string
	// veths are the eI's indexes, per namespace.
	veths [][]int32
}

// batchRun is one contender's run: its wall time and the largest resident
// set of its processes (KiB, -1 for none or not measured).
type batchRun struct {
	d      time.Duration
	maxRSS float64
}

type batchContender struct {
	name, desc string
	// run runs the contender once; with rss, its processes run under GNU
	// time for their resident sets (the warm-up run: the timed runs
	// start them directly).
	run func(h *harness, w *batchWorld, rss bool) (batchRun, error)
}

var batchContenders = []batchContender{
	{batchFloorName, "the same objects in one process: TUNSETIFF + TUNSETOWNER + TUNSETPERSIST per tap, ifindex by SIOCGIFINDEX, the setup, tc and up requests pre-encoded and written 128 a write on a raw NETLINK_ROUTE socket", batchFloor},
	{batchTcwireName, "one `tcwire -batch FILE` process (a line a pair; per-line --netns across namespaces)", batchTcwire},
	{batchIPTCName, "per namespace `ip -batch` (tuntap add … vnet_hdr, link set up) then `tc -batch` (4 lines a pair); sets no noqueue, alias or addrgenmode", batchIPTC},
	{batchPerPairName, "one `tcwire --netns NS attach eI tI` process a pair", batchPerPair},
}

func (h *harness) runBatch() []bench.Batch {
	h.report.Floors.Batch, h.report.Floors.BatchTcwire = batchFloorName, batchTcwireName
	h.report.Floors.BatchIPTC, h.report.Floors.BatchPerPair = batchIPTCName, batchPerPairName
	var out []bench.Batch
	for _, s := range batchShapes {
		rows, err := h.batchShape(s)
		if err != nil {
			h.fail("batch %s: %v", s, err)
		}
		out = append(out, rows...)
	}
	return out
}

func (h *harness) batchShape(s batchShape) ([]bench.Batch, error) {
	settle()
	w, err := newBatchWorld(s)
	defer w.close()
	if err != nil {
		return nil, err
	}
	type acc struct {
		ms, ratio, rss []float64
		failed         bool
	}
	accs := map[string]*acc{}
	for _, c := range batchContenders {
		accs[c.name] = &acc{}
	}
	one := func(c batchContender, rss bool) (batchRun, error) {
		restore := gcOff()
		r, err := c.run(h, w, rss)
		restore()
		if err == nil {
			err = w.verify()
		}
		if rerr := w.reset(); rerr != nil && err == nil {
			err = fmt.Errorf("reset: %w", rerr)
		}
		return r, err
	}
	for round := -1; round < h.rounds; round++ { // round -1 warms up
		got := map[string]float64{}
		for _, c := range rotate(batchContenders, max(round, 0)) {
			a := accs[c.name]
			if a.failed {
				continue
			}
			r, err := one(c, round < 0)
			if err != nil {
				h.fail("batch %s %s: %v", s, c.name, err)
				a.failed = true
				continue
			}
			if round < 0 {
				if r.maxRSS >= 0 {
					a.rss = append(a.rss, r.maxRSS)
				}
				continue
			}
			ms := r.d.Seconds() * 1e3
			a.ms = append(a.ms, ms)
			got[c.name] = ms
		}
		if f := got[batchFloorName]; f > 0 {
			for n, v := range got {
				accs[n].ratio = append(accs[n].ratio, v/f)
			}
		}
		if round >= 0 {
			h.progress("batch %s: round %d/%d done", s, round+1, h.rounds)
		}
	}
	pairs := s.namespaces * s.perNS
	var out []bench.Batch
	for _, c := range batchContenders {
		a := accs[c.name]
		if len(a.ms) == 0 {
			continue
		}
		b := bench.Batch{Name: c.name, Description: c.desc, Shape: s.String(), Pairs: pairs, Namespaces: s.namespaces,
			Ms: median(a.ms), MsMin: slices.Min(a.ms), MsMax: slices.Max(a.ms), Ratio: median(a.ratio), Runs: len(a.ms)}
		b.UsPerPair = b.Ms * 1e3 / float64(pairs)
		if len(a.rss) > 0 {
			b.MaxRSSKiB = ptr(slices.Max(a.rss))
		}
		h.progress("batch %s %s: %.1f ms (%.1f µs/pair), ×floor %.2f, max RSS %s MiB", b.Shape, b.Name, b.Ms, b.UsPerPair, b.Ratio, rssText(b.MaxRSSKiB))
		out = append(out, b)
	}
	return out, nil
}

func rssText(kib *float64) string {
	if kib == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f", *kib/1024)
}

func newBatchWorld(s batchShape) (*batchWorld, error) {
	w := &batchWorld{shape: s}
	var err error
	if w.dir, err = os.MkdirTemp("", "tcwire-bench-batch"); err != nil {
		return w, err
	}
	var all strings.Builder
	for n := range s.namespaces {
		ns, err := newNS(fmt.Sprintf("batch%d", n), false)
		if err != nil {
			return w, err
		}
		w.ns = append(w.ns, ns)
		var mk, ip, tcb strings.Builder
		for i := range s.perNS {
			fmt.Fprintf(&mk, "link add e%d type veth peer name p%d\nlink set e%d up\nlink set p%d up\n", i, i, i, i)
			fmt.Fprintf(&all, "--netns %s attach e%d t%d\n", ns, i, i)
			fmt.Fprintf(&ip, "tuntap add dev t%d mode tap vnet_hdr\nlink set dev t%d up\n", i, i)
			for _, args := range tcCommands(cpPair{tc.Dev{Name: fmt.Sprintf("e%d", i)}, tc.Dev{Name: fmt.Sprintf("t%d", i)}}) {
				fmt.Fprintln(&tcb, strings.Join(args, " "))
			}
		}
		if err := runInput(mk.String(), "ip", "-n", ns, "-batch", "-"); err != nil {
			return w, err
		}
		files := []*[]string{&w.ip, &w.tcb}
		for k, text := range []string{ip.String(), tcb.String()} {
			f := filepath.Join(w.dir, fmt.Sprintf("%d.%d", n, k))
			if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
				return w, err
			}
			*files[k] = append(*files[k], f)
		}
		c, err := dial(ns)
		if err != nil {
			return w, err
		}
		names := make([]string, s.perNS)
		for i := range names {
			names[i] = fmt.Sprintf("e%d", i)
		}
		ls, errs := link.LookupNames(c, names...)
		c.Close()
		if err := errors.Join(errs...); err != nil {
			return w, err
		}
		idx := make([]int32, len(ls))
		for i, l := range ls {
			idx[i] = l.Index
		}
		w.veths = append(w.veths, idx)
	}
	w.tcwire = filepath.Join(w.dir, "tcwire.batch")
	return w, os.WriteFile(w.tcwire, []byte(all.String()), 0o644)
}

func (w *batchWorld) close() {
	for _, ns := range w.ns {
		delNS(ns)
	}
	if w.dir != "" {
		os.RemoveAll(w.dir)
	}
}

// verify checks the first and the last pair of every namespace.
func (w *batchWorld) verify() error {
	for _, ns := range w.ns {
		c, err := dial(ns)
		if err != nil {
			return err
		}
		last := w.shape.perNS - 1
		ls, errs := link.LookupNames(c, "e0", "t0", fmt.Sprintf("e%d", last), fmt.Sprintf("t%d", last))
		c.Close()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		for _, k := range []int{0, 2} {
			if err := verifyWired(ns, cpPair{tc.Dev{Name: ls[k].Name, Index: ls[k].Index}, tc.Dev{Name: ls[k+1].Name, Index: ls[k+1].Index}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// reset deletes the taps (in one unregistration: by device group, as
// deleting them one by one costs an RCU grace period each) and the veths'
// ingress qdiscs.
func (w *batchWorld) reset() error {
	const group = 4242
	var errs []error
	for _, ns := range w.ns {
		var ip, q strings.Builder
		for i := range w.shape.perNS {
			fmt.Fprintf(&ip, "link set dev t%d group %d\n", i, group)
			fmt.Fprintf(&q, "qdisc del dev e%d ingress\n", i)
		}
		fmt.Fprintf(&ip, "link del group %d\n", group)
		errs = append(errs, runInput(ip.String(), "ip", "-n", ns, "-force", "-batch", "-"), runInput(q.String(), "tc", "-n", ns, "-force", "-batch", "-"))
	}
	return errors.Join(errs...)
}

// runInput runs a command with input on its stdin.
func runInput(input, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(input)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %.300s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// gnuTime is GNU time, which reports a child's resident set truly: the
// harness's own children are started by vfork and the kernel counts the
// harness's resident set as theirs (exec records the old mm's high-water
// mark).
const gnuTime = "/usr/bin/time"

// timed runs processes (name and arguments each) one after another and
// returns their wall time and, with rss, their largest resident set.
func timed(rss bool, argvs ...[]string) (batchRun, error) {
	r := batchRun{maxRSS: -1}
	out := filepath.Join(os.TempDir(), fmt.Sprintf("tcwire-bench-rss-%d", os.Getpid()))
	defer os.Remove(out)
	if rss && !fileExists(gnuTime) {
		rss = false
	}
	start := time.Now()
	for _, argv := range argvs {
		if rss {
			argv = append([]string{gnuTime, "-f", "%M", "-o", out}, argv...)
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = io.Discard, &stderr
		if err := cmd.Run(); err != nil {
			return r, fmt.Errorf("%s: %v: %.300s", strings.Join(argv, " "), err, stderr.String())
		}
		if rss {
			var kib float64
			if b, err := os.ReadFile(out); err == nil {
				fmt.Sscan(string(b), &kib)
			}
			r.maxRSS = max(r.maxRSS, kib)
		}
	}
	r.d = time.Since(start)
	return r, nil
}

func batchTcwire(h *harness, w *batchWorld, rss bool) (batchRun, error) {
	if h.tcwireBin == "" {
		return batchRun{}, errors.New("no tcwire binary (--tcwire)")
	}
	return timed(rss, []string{h.tcwireBin, "-batch", w.tcwire})
}

func batchIPTC(h *harness, w *batchWorld, rss bool) (batchRun, error) {
	var argvs [][]string
	for n, ns := range w.ns {
		argvs = append(argvs, []string{"ip", "-n", ns, "-batch", w.ip[n]}, []string{"tc", "-n", ns, "-batch", w.tcb[n]})
	}
	return timed(rss, argvs...)
}

func batchPerPair(h *harness, w *batchWorld, rss bool) (batchRun, error) {
	if h.tcwireBin == "" {
		return batchRun{}, errors.New("no tcwire binary (--tcwire)")
	}
	var argvs [][]string
	for _, ns := range w.ns {
		for i := range w.shape.perNS {
			argvs = append(argvs, []string{h.tcwireBin, "--netns", ns, "attach", fmt.Sprintf("e%d", i), fmt.Sprintf("t%d", i)})
		}
	}
	return timed(rss, argvs...)
}
