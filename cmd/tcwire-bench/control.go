package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
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

// straceSendmsgs runs a command under strace and counts its sendmsg and
// sendto calls on netlink sockets (iproute2 sends dumps with sendto).
func straceSendmsgs(name string, args ...string) (float64, error) {
	out, err := os.CreateTemp("", "tcwire-bench-strace")
	if err != nil {
		return 0, err
	}
	out.Close()
	defer os.Remove(out.Name())
	argv := append([]string{"-f", "-qq", "-e", "trace=sendmsg,sendto", "-e", "signal=none", "-o", out.Name(), name}, args...)
	if err := run("strace", argv...); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "nlmsg_len") {
			n++
		}
	}
	return float64(n), nil
}

const cpFloorName = "netlink-floor"

// makePairs creates n veth pairs (vethN–vpeerN) and n persistent taps
// (tapN) in ns, all up when up is set, and returns them with their indexes.
func makePairs(ns string, n int, up bool) ([]cpPair, error) {
	c, err := dial(ns)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var reqs []nl.Request
	flush := func() error {
		if len(reqs) == 0 {
			return nil
		}
		err := errors.Join(c.Do(reqs...)...)
		reqs = reqs[:0]
		return err
	}
	for i := range n {
		reqs = append(reqs, link.AddVethRequest(link.Veth{Name: fmt.Sprintf("veth%d", i), Peer: fmt.Sprintf("vpeer%d", i)}, -1))
		if len(reqs) == 200 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	err = netns.Do(ns, func() error {
		for i := range n {
			t, err := tuntap.Create(tuntap.Config{Name: fmt.Sprintf("tap%d", i), Persist: true})
			if err != nil {
				return err
			}
			t.Close()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	links, err := link.List(c)
	if err != nil {
		return nil, err
	}
	idx := map[string]int32{}
	for _, l := range links {
		idx[l.Name] = l.Index
	}
	pairs := make([]cpPair, n)
	for i := range n {
		v, t := fmt.Sprintf("veth%d", i), fmt.Sprintf("tap%d", i)
		pairs[i] = cpPair{tc.Dev{Name: v, Index: idx[v]}, tc.Dev{Name: t, Index: idx[t]}}
		if up {
			reqs = append(reqs, link.SetUpRequest(idx[v], v), link.SetUpRequest(idx[fmt.Sprintf("vpeer%d", i)], ""), link.SetUpRequest(idx[t], t))
			if len(reqs) >= 200 {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	return pairs, flush()
}

// detachAll deletes the ingress qdiscs of every pair, which takes their
// filters with them.
func detachAll(ns string, pairs []cpPair) error {
	c, err := dial(ns)
	if err != nil {
		return err
	}
	defer c.Close()
	var reqs []nl.Request
	var errs []error
	for i, p := range pairs {
		reqs = append(reqs, tc.DelQdiscRequest(tc.Ingress(p.veth.Index, p.veth.Name)), tc.DelQdiscRequest(tc.Ingress(p.tap.Index, p.tap.Name)))
		if len(reqs) >= 200 || i == len(pairs)-1 {
			errs = append(errs, c.Do(reqs...)...)
			reqs = reqs[:0]
		}
	}
	return errors.Join(errs...)
}

// verifyWired checks that a pair redirects both ways, as tcwire installs.
func verifyWired(ns string, p cpPair) error {
	c, err := dial(ns)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, d := range [][2]tc.Dev{{p.veth, p.tap}, {p.tap, p.veth}} {
		h, err := tc.ReadHook(c, d[0])
		if err != nil {
			return err
		}
		rs := h.Redirects()
		if len(rs) != 1 || !rs[0].IsWire() || rs[0].TargetIfindex != d[1].Index {
			return fmt.Errorf("%s: redirects %+v, want one wire to %s", d[0], rs, d[1])
		}
	}
	return nil
}

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

// attachFloor sends the four requests tcwire sends (PlanWire on empty
// hooks), encoded before the clock starts, on a raw netlink socket.
func attachFloor(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	fl, err := newFloor(ns, pairs)
	if err != nil {
		return attachResult{}, err
	}
	defer fl.close()
	m0, b0 := memStats()
	start := time.Now()
	if err := fl.attach(); err != nil {
		return attachResult{}, err
	}
	total := time.Since(start)
	m1, b1 := memStats()
	return attachResult{total: total, allocs: perAttach(m1-m0, len(pairs)), bytes: perAttach(b1-b0, len(pairs))}, nil
}

// floor is a raw NETLINK_ROUTE socket in a namespace and the pre-encoded
// requests of each pair's attach.
type floor struct {
	fd   int
	bufs [][]byte
	rbuf []byte
}

func newFloor(ns string, pairs []cpPair) (*floor, error) {
	fl := &floor{fd: -1, bufs: make([][]byte, len(pairs)), rbuf: make([]byte, 8192)}
	seq := uint32(1)
	for i, p := range pairs {
		plan, err := tc.PlanWire(tc.Hook{Dev: p.veth}, tc.Hook{Dev: p.tap}, tc.WireOptions{})
		if err != nil {
			return nil, err
		}
		for _, r := range plan.Requests {
			b, err := r.MarshalBinary()
			if err != nil {
				return nil, err
			}
			binary.NativeEndian.PutUint32(b[8:], seq)
			seq++
			fl.bufs[i] = append(fl.bufs[i], b...)
		}
	}
	err := netns.Do(ns, func() error {
		var err error
		fl.fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		return unix.Bind(fl.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	})
	if err != nil {
		fl.close()
		return nil, err
	}
	return fl, nil
}

func (fl *floor) close() {
	if fl.fd >= 0 {
		unix.Close(fl.fd)
	}
}

// attach sends each pair's four requests in one write(2) and reads the
// four acknowledgements.
func (fl *floor) attach() error {
	for _, b := range fl.bufs {
		if _, err := unix.Write(fl.fd, b); err != nil {
			return err
		}
		for acks := 0; acks < 4; {
			n, err := unix.Read(fl.fd, fl.rbuf)
			if err != nil {
				return err
			}
			for off := 0; off+16 <= n; {
				l := int(binary.NativeEndian.Uint32(fl.rbuf[off:]))
				typ := binary.NativeEndian.Uint16(fl.rbuf[off+4:])
				if typ == unix.NLMSG_ERROR {
					if e := int32(binary.NativeEndian.Uint32(fl.rbuf[off+16:])); e != 0 {
						return fmt.Errorf("netlink: %w", unix.Errno(-e))
					}
					acks++
				}
				if l < 16 {
					break
				}
				off += (l + 3) &^ 3
			}
		}
	}
	return nil
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func attachTcwireCLI(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	if h.tcwireBin == "" {
		return attachResult{}, errors.New("no tcwire binary (--tcwire)")
	}
	start := time.Now()
	for _, p := range pairs {
		if err := run(h.tcwireBin, "--netns", ns, "attach", p.veth.Name, p.tap.Name); err != nil {
			return attachResult{}, err
		}
	}
	return attachResult{total: time.Since(start)}, nil
}

func tcCommands(p cpPair) [][]string {
	return [][]string{
		{"qdisc", "add", "dev", p.veth.Name, "ingress"},
		{"filter", "add", "dev", p.veth.Name, "parent", "ffff:", "protocol", "all", "u32", "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", p.tap.Name},
		{"qdisc", "add", "dev", p.tap.Name, "ingress"},
		{"filter", "add", "dev", p.tap.Name, "parent", "ffff:", "protocol", "all", "u32", "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", p.veth.Name},
	}
}

func attachTcCLI(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	start := time.Now()
	for _, p := range pairs {
		for _, args := range tcCommands(p) {
			if err := run("tc", append([]string{"-n", ns}, args...)...); err != nil {
				return attachResult{}, err
			}
		}
	}
	return attachResult{total: time.Since(start)}, nil
}

func attachTcBatch(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	dir, err := os.MkdirTemp("", "tcwire-bench-batch")
	if err != nil {
		return attachResult{}, err
	}
	defer os.RemoveAll(dir)
	files := make([]string, len(pairs))
	for i, p := range pairs {
		var b strings.Builder
		for _, args := range tcCommands(p) {
			b.WriteString(strings.Join(args, " ") + "\n")
		}
		files[i] = filepath.Join(dir, fmt.Sprintf("attach%d", i))
		if err := os.WriteFile(files[i], []byte(b.String()), 0o600); err != nil {
			return attachResult{}, err
		}
	}
	start := time.Now()
	for _, f := range files {
		if err := run("tc", "-n", ns, "-batch", f); err != nil {
			return attachResult{}, err
		}
	}
	return attachResult{total: time.Since(start)}, nil
}

// vishvanandaOut is what bench/vishvananda prints.
type vishvanandaOut struct {
	Attaches int     `json:"attaches"`
	TotalNs  int64   `json:"total_ns"`
	Allocs   float64 `json:"allocs_per_attach"`
	Bytes    float64 `json:"bytes_per_attach"`
}

func attachVishvananda(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	if h.vishBin == "" {
		return attachResult{}, errors.New("no bench/vishvananda binary (--vishvananda)")
	}
	var spec []string
	for _, p := range pairs {
		spec = append(spec, fmt.Sprintf("%d:%d", p.veth.Index, p.tap.Index))
	}
	cmd := exec.Command(h.vishBin, "-netns", netns.Dir+"/"+ns, "-pairs", strings.Join(spec, ","))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return attachResult{}, fmt.Errorf("%s: %w", h.vishBin, err)
	}
	var v vishvanandaOut
	if err := json.Unmarshal(out, &v); err != nil {
		return attachResult{}, fmt.Errorf("%s: output %q: %w", h.vishBin, out, err)
	}
	if v.Attaches != len(pairs) {
		return attachResult{}, fmt.Errorf("%s: %d attaches, want %d", h.vishBin, v.Attaches, len(pairs))
	}
	return attachResult{total: time.Duration(v.TotalNs), allocs: &v.Allocs, bytes: &v.Bytes}, nil
}
