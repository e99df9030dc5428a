// Command tcwire-bench measures the datapaths a container's veth and a VM's
// tap can be joined with (tc redirect as tc-redirect-tap and tcwire set it
// up, bridges, macvtaps, and a plain veth as the floor) — packet rate,
// latency, CPU, L2 transparency and bulk TCP with offloads (iperf3 to a
// guest namespace behind a virtio-net-style relay) —, the control plane
// of one attach (tcwire as a library and as a command, vishvananda/netlink,
// tc, tc -batch, raw netlink), and tcwire at scale.
//
// Every topology is built in throwaway network namespaces with tcwire's own
// packages (link, tuntap, tc); nothing touches the root namespace's
// devices. The VM side is emulated as a VMM does it: it reads and writes
// the tap's (or macvtap's) file with the virtio-net header on. The far side
// is an AF_PACKET socket on the veth's peer in another namespace.
//
//	tcwire-bench [--quick] [--json] [--svg FILE] [--results FILE]
//	             [--tcwire PATH] [--vishvananda PATH] [--trafgen PATH] [--tc-redirect-tap PATH]
//	             [--only datapath,bulk,control,watch,scale,trafgen] [--rounds N] [--scale 1,100,…]
//
// Progress goes to standard error; the report (a table, or JSON with
// --json) to standard output. See bench/README.md for the JSON schema.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tcwire/tcwire/bench"
)

type config struct {
	JSON        bool
	SVG         string
	Results     string // Markdown page
	Quick       bool
	Budget      time.Duration
	Rounds      int
	Pairs       int
	Scale       []int
	Only        map[string]bool
	Tcwire      string
	Vishvananda string
	Trafgen     string
	// TcRedirectTap is awslabs/tc-redirect-tap's binary for the CNI row
	// (not on the Go module proxy; the row is skipped without it).
	TcRedirectTap string
	CPURate       float64
	Datapaths     []string // only these datapaths (hidden, for debugging)
	Reader        string   // hidden: how a throughput receiver waits: sleep (default), poll, spin
	FromJSON      string   // render a saved --json report instead of measuring
}

type harness struct {
	config
	quick                bool
	budget               time.Duration
	rounds, pairs        int
	bulkSecs, bulkRounds int
	scale                []int
	cpuRate              float64
	tcwireBin, vishBin   string
	senderCPU, readerCPU int
	rbuf                 []byte
	errOut               io.Writer
	report               *bench.Report
	showLimit            time.Duration
}

func (h *harness) progress(format string, args ...any) {
	fmt.Fprintf(h.errOut, "tcwire-bench: "+format+"\n", args...)
}

func (h *harness) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.report.Errors = append(h.report.Errors, msg)
	fmt.Fprintf(h.errOut, "tcwire-bench: ERROR: %s\n", msg)
}

const usage = `usage: tcwire-bench [flags]

Measures tc redirect, bridge and macvtap datapaths between a veth and a VM's
tap, the control plane of one attach, and tcwire at scale, in throwaway
network namespaces (root needed). Progress on stderr, report on stdout.

  --quick             a short run (under 2 minutes): fewer rounds, shorter
                      trials, scale up to 1000 pairs
  --json              print the report as JSON (schema: bench/README.md)
  --svg FILE          write a bar chart
  --results FILE      write a Markdown page (bench/RESULTS.md)
  --tcwire PATH       the tcwire binary (tcwire-cli contender, show at scale);
                      default: tcwire next to this program, or bin/tcwire
  --vishvananda PATH  the bench/vishvananda program; default as --tcwire
  --tc-redirect-tap PATH  awslabs/tc-redirect-tap's binary, for the CNI contender
                      (default $TCWIRE_BENCH_TC_REDIRECT_TAP; skipped without it)
  --trafgen PATH      netsniff-ng's trafgen for the harness check (default:
                      from PATH; "none" skips it)
  --only LIST         datapath,bulk,control,watch,batch,scale,trafgen (default: all)
  --from-json FILE    measure nothing: render a report saved with --json
  --rounds N          rounds per contender (default 7, quick 3)
  --pairs N           attaches per control-plane round (default 100, quick 10)
  --scale LIST        pair counts (default 1,100,1000,10000; quick 1,100)
`

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("tcwire-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	fs.BoolVar(&c.JSON, "json", false, "")
	fs.StringVar(&c.SVG, "svg", "", "")
	fs.StringVar(&c.Results, "results", "", "")
	fs.BoolVar(&c.Quick, "quick", false, "")
	// Hidden: the trial length, for the smoke test.
	fs.DurationVar(&c.Budget, "budget", 0, "")
	fs.IntVar(&c.Rounds, "rounds", 0, "")
	fs.IntVar(&c.Pairs, "pairs", 0, "")
	scale := fs.String("scale", "", "")
	only := fs.String("only", "", "")
	fs.StringVar(&c.Tcwire, "tcwire", "", "")
	fs.StringVar(&c.Vishvananda, "vishvananda", "", "")
	fs.StringVar(&c.TcRedirectTap, "tc-redirect-tap", os.Getenv(envTcRedirectTap), "")
	fs.StringVar(&c.Trafgen, "trafgen", "", "")
	fs.Float64Var(&c.CPURate, "cpu-rate", 0, "")
	dps := fs.String("datapaths", "", "")
	fs.StringVar(&c.Reader, "reader", "sleep", "")
	fs.StringVar(&c.FromJSON, "from-json", "", "")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *scale != "" {
		for _, f := range strings.Split(*scale, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				return c, fmt.Errorf("--scale: %q is not a positive number", f)
			}
			c.Scale = append(c.Scale, n)
		}
	}
	switch c.Reader {
	case "sleep", "poll", "spin":
	default:
		return c, fmt.Errorf("--reader: %q: want sleep, poll or spin", c.Reader)
	}
	if *dps != "" {
		c.Datapaths = strings.Split(*dps, ",")
	}
	if *only != "" {
		c.Only = map[string]bool{}
		for _, f := range strings.Split(*only, ",") {
			switch f {
			case "datapath", "bulk", "control", "watch", "batch", "scale", "trafgen":
				c.Only[f] = true
			default:
				return c, fmt.Errorf("--only: unknown part %q (datapath, bulk, control, watch, batch, scale, trafgen)", f)
			}
		}
	}
	return c, nil
}

// findBin resolves a helper binary: the flag, else name next to this
// program, else bin/name.
func findBin(flagVal, name string) string {
	if flagVal == "none" {
		return ""
	}
	if flagVal != "" {
		if p, err := filepath.Abs(flagVal); err == nil {
			return p
		}
		return flagVal
	}
	if exe, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(exe), name); fileExists(p) {
			return p
		}
	}
	if p, err := filepath.Abs(filepath.Join("bin", name)); err == nil && fileExists(p) {
		return p
	}
	return ""
}

func fileExists(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }

// Run measures what cfg asks for and returns the report.
func Run(ctx context.Context, cfg config, stderr io.Writer) (*bench.Report, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) to create network namespaces")
	}
	h := &harness{config: cfg, errOut: stderr, rbuf: make([]byte, 65536)}
	h.quick = cfg.Quick
	h.budget, h.rounds, h.pairs, h.scale, h.cpuRate = 700*time.Millisecond, 7, 100, []int{1, 100, 1000, 10000}, 100_000
	h.showLimit = 120 * time.Second
	h.bulkSecs, h.bulkRounds = 2, 5
	if cfg.Quick {
		h.budget, h.rounds, h.pairs, h.scale = 200*time.Millisecond, 3, 10, []int{1, 100}
		h.showLimit = 10 * time.Second
		h.bulkSecs, h.bulkRounds = 1, 2
	}
	if cfg.Budget > 0 {
		h.budget = cfg.Budget
	}
	if cfg.Rounds > 0 {
		h.rounds = cfg.Rounds
		h.bulkRounds = min(h.bulkRounds, cfg.Rounds)
	}
	if cfg.Pairs > 0 {
		h.pairs = cfg.Pairs
	}
	if cfg.Scale != nil {
		h.scale = cfg.Scale
	}
	if cfg.CPURate > 0 {
		h.cpuRate = cfg.CPURate
	}
	h.tcwireBin = findBin(cfg.Tcwire, "tcwire")
	h.vishBin = findBin(cfg.Vishvananda, "tcwire-bench-vishvananda")
	h.senderCPU, h.readerCPU = -1, -1
	if runtime.NumCPU() >= 2 {
		h.senderCPU, h.readerCPU = 0, 1
	}
	var rb [4]byte
	if f, err := os.Open("/dev/urandom"); err == nil {
		io.ReadFull(f, rb[:])
		f.Close()
	}
	runID = uint32(rb[0])<<24 | uint32(rb[1])<<16 | uint32(rb[2])<<8 | uint32(rb[3])

	r := &bench.Report{Schema: bench.SchemaVersion, Host: hostFacts(), Datapaths: []bench.Datapath{}, ControlPlane: []bench.Control{}, Scale: []bench.Scale{}, Bulk: []bench.Bulk{}}
	r.Host.SenderCPU, r.Host.ReaderCPU = h.senderCPU, h.readerCPU
	r.Floors = bench.FloorsNames{Datapath: floorName, ControlPlane: cpFloorName, Watch: watchFloorName}
	for _, s := range datapathSpecs {
		if s.ceiling {
			r.Ceilings = append(r.Ceilings, s.name)
		}
	}
	r.Method = bench.Method{Quick: h.quick, TrialMs: float64(h.budget.Milliseconds()), Rounds: h.rounds, CPURatePPS: h.cpuRate,
		Ethertype: fmt.Sprintf("%#04x", etherBench), SmallFrame: smallFrame, LargeFrame: largeFrame, AttachPairs: h.pairs,
		L2WindowS: l2Window.Seconds(), SlowReaderPPS: slowReaderPPS, BulkSecs: h.bulkSecs, BulkRounds: h.bulkRounds, GuestMTU: guestMTU,
		Notes: methodNotes(h)}
	h.report = r
	r.Host.LoadAvg = loadAvg()
	part := func(p string) bool { return cfg.Only == nil || cfg.Only[p] }
	defer func() {
		killProcs()
		if err := delAllNS(); err != nil {
			h.fail("clean-up: %v", err)
		}
	}()
	start := time.Now()
	if part("datapath") && ctx.Err() == nil {
		r.Datapaths = h.runDatapaths()
		h.progress("datapaths done after %s", fmtDur(time.Since(start)))
	}
	if part("bulk") && ctx.Err() == nil {
		r.Bulk = h.runBulk()
		h.progress("bulk done after %s", fmtDur(time.Since(start)))
	}
	if part("trafgen") && ctx.Err() == nil && cfg.Trafgen != "none" {
		path := cfg.Trafgen
		if path == "" {
			path, _ = exec.LookPath("trafgen")
		}
		if path != "" {
			r.Trafgen = h.runTrafgen(path)
		} else if cfg.Only["trafgen"] {
			h.fail("trafgen not found (Debian package netsniff-ng)")
		}
	}
	if part("control") && ctx.Err() == nil {
		r.ControlPlane = h.runControl()
		h.progress("control plane done after %s", fmtDur(time.Since(start)))
	}
	if part("watch") && ctx.Err() == nil {
		r.Watch = h.runWatch()
		h.progress("watch done after %s", fmtDur(time.Since(start)))
	}
	if part("batch") && ctx.Err() == nil {
		r.Batch = h.runBatch()
		h.progress("batch done after %s", fmtDur(time.Since(start)))
	}
	if part("scale") && ctx.Err() == nil {
		r.Scale = h.runScale()
		h.progress("scale done after %s", fmtDur(time.Since(start)))
	}
	r.Host.LoadAvgEnd = loadAvg()
	if err := ctx.Err(); err != nil {
		return r, err
	}
	return r, nil
}

func methodNotes(h *harness) []string {
	pin := "not pinned (one CPU)"
	if h.senderCPU >= 0 {
		pin = fmt.Sprintf("the sending thread is pinned to CPU %d and the receiving thread to CPU %d (SchedSetaffinity on locked threads); the kernel's softirq work for a frame mostly runs on the sender's CPU", h.senderCPU, h.readerCPU)
	}
	return []string{
		"Delivered = frames of this run read by the receiving process (tap/macvtap file or AF_PACKET socket), per second of sending. One read(2) per frame: the receiver can be the limit, see the ceilings and the drops.",
		"Senders use non-blocking write(2) as fast as they can; refusals (EAGAIN, ENOBUFS) are counted, not retried. Throughput receivers read until EAGAIN, then sleep 50 µs (no wake-ups for the sender's CPU to send, like a VMM's interrupt moderation; a receiver in poll(2) or spinning measured lower).",
		pin + ".",
		"VM side: tap/macvtap file with the 10-byte virtio-net header (zeroed on write). tap-write and packet-send are ceilings: what one sender alone gets rid of.",
		"RTT: one frame in flight, CLOCK_MONOTONIC timestamp and sequence number in the frame, a reflector on the far side swaps the MACs; both ends spin on non-blocking reads.",
		fmt.Sprintf("CPU ns/pkt: CPU time of the harness process (getrusage: its threads run most of the softirq work, which this kernel's tick-based accounting charges to them) plus the ksoftirqd threads' (schedstat) during a trial at %.0f frames/s offered (sender and receiver wake every millisecond rather than once per frame), divided by frames delivered; the headline is the mean of the two directions. It includes the harness's own system calls and wake-ups; all CPUs' busy time (/proc/stat, other processes included) is in the JSON as system_ns_per_pkt.", h.cpuRate),
		fmt.Sprintf("L2: each frame sent three times from the far side; yes = one arrived at the VM's file byte for byte (an AF_PACKET receiver gets the VLAN tag back from PACKET_AUXDATA). All MTUs are 9000. IPv6 is on in the wiring's namespace, as on a host; host frames = what the VM side read in the first %.0f s of the wiring that the harness did not send.", l2Window.Seconds()),
		fmt.Sprintf("Slow VM: the VM side reads %d frames a millisecond (at most %d/s) while the far side floods for one trial, from its AF_PACKET socket and then from a tap whose frames tc redirects out of the veth's peer (forwarded frames, no send buffer to push back on).", slowBatch, slowReaderPPS),
		fmt.Sprintf("Bulk: one iperf3 TCP stream, %d s per trial, %d rounds, rows interleaved and rotated; the guest is a namespace with a tap (MTU %d, csum+TSO4+TSO6 offloads), a relay in the harness copies frames with the virtio-net header between it and the wiring's VM side (offloads on too), as a VMM's backend does; Gbit/s from iperf3's receiver; CPU ms per Gbit from /proc/stat (all CPUs, other work included) over the client's run. Nothing pinned.", h.bulkSecs, h.bulkRounds, guestMTU),
		"Control plane: devices exist and are up; each contender attaches the same pairs in turn and the ingress qdiscs are deleted between contenders; allocations are Go heap allocations in the attaching process (runtime.MemStats).",
	}
}

func main() {
	if os.Getenv(launcherEnv) == "1" {
		os.Exit(launcherMain())
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tcwire-bench:", err)
		os.Exit(2)
	}
	if cfg.FromJSON != "" {
		b, err := os.ReadFile(cfg.FromJSON)
		var r bench.Report
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err == nil {
			err = write(cfg, &r, os.Stdout)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "tcwire-bench:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// A second signal, or the first one while a long trial runs:
		// clean up the namespaces and leave.
		<-ctx.Done()
		time.Sleep(5 * time.Second)
		killProcs()
		delAllNS()
		os.Exit(130)
	}()
	r, err := Run(ctx, cfg, os.Stderr)
	if err != nil && r == nil {
		fmt.Fprintln(os.Stderr, "tcwire-bench:", err)
		os.Exit(1)
	}
	if werr := write(cfg, r, os.Stdout); werr != nil {
		fmt.Fprintln(os.Stderr, "tcwire-bench:", werr)
		os.Exit(1)
	}
	if err != nil || len(r.Errors) > 0 {
		if err != nil {
			fmt.Fprintln(os.Stderr, "tcwire-bench:", err)
		}
		os.Exit(1)
	}
}

// write prints the report and writes the chart and the Markdown page.
func write(cfg config, r *bench.Report, stdout io.Writer) error {
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else if err := bench.Table(stdout, r); err != nil {
		return err
	}
	if cfg.SVG != "" {
		f, err := os.Create(cfg.SVG)
		if err != nil {
			return err
		}
		if err := errors.Join(bench.SVG(f, r), f.Close()); err != nil {
			return err
		}
	}
	if cfg.Results != "" {
		svg := ""
		if cfg.SVG != "" {
			if rel, err := filepath.Rel(filepath.Dir(cfg.Results), cfg.SVG); err == nil {
				svg = rel
			}
		}
		f, err := os.Create(cfg.Results)
		if err != nil {
			return err
		}
		if err := errors.Join(bench.Markdown(f, r, svg), f.Close()); err != nil {
			return err
		}
	}
	return nil
}
