package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tuntap"
)

// Bulk TCP throughput (issue 15). Each wiring is built as for the
// packet-rate rows (buildTopo); then a guest namespace gets a tap standing
// for the guest kernel, a relay copies frames with their virtio-net header
// between that tap's file and the wiring's VM side (as a VMM's virtio-net
// backend does), the veth's peer gets an address, and iperf3 runs between
// the two namespaces. The addresses exist only in these namespaces.

var (
	bulkHostIP  = netip.AddrFrom4([4]byte{10, 99, 0, 1})
	bulkGuestIP = netip.AddrFrom4([4]byte{10, 99, 0, 2})
)

const (
	bulkPrefix = 24
	// guestMTU is the guest's MTU and so its TCP MSS (1460), as on a
	// CNI network; the wirings' devices stay at 9000.
	guestMTU = 1500
	// offloads: what a virtio-net guest with checksum and TSO offloads
	// asks of its backend (TUNSETOFFLOAD).
	offloads = tuntap.TUN_F_CSUM | tuntap.TUN_F_TSO4 | tuntap.TUN_F_TSO6

	relayCeiling = "relay"
	offloadsOff  = "tcwire-offloads-off"
)

type bulkSpec struct {
	name, desc string
	wiring     string // a datapathSpecs entry; "" for the relay's ceiling
	offloads   bool
}

// bulkSpecs are the wirings of the packet-rate rows (not the floor and
// the ceilings, which have no VM side to relay to), tcwire with offloads
// off, and the relay's own ceiling.
func bulkSpecs() []bulkSpec {
	var out []bulkSpec
	for _, s := range datapathSpecs {
		if !s.ceiling && s.name != floorName {
			out = append(out, bulkSpec{s.name, s.desc, s.name, true})
		}
	}
	return append(out,
		bulkSpec{offloadsOff, "tcwire with offloads off on the guest's tap and on the VM's tap: every frame at most 1514 bytes", "tcwire", false},
		bulkSpec{relayCeiling, "ceiling: the relay between the guest's tap and a tap in the host namespace that holds the address; no wiring", "", true})
}

type bulkTrial struct {
	gbps, cpuPerGbit float64
	retransmits      int
	spurious         uint64 // retransmitted segments the receiver had already (DSACK)
	drops            uint64 // rx+tx dropped of every device of the wiring's and the guest's namespaces
}

// bulkTopo is one wiring with its guest: vm is the wiring's VM side, guest
// the guest's tap; hostNS holds the host's address and the iperf3 server.
type bulkTopo struct {
	spec            bulkSpec
	t               *topo
	hostNS, guestNS string
	vm, guest       *endpoint
	trials          map[string][]bulkTrial
	maxFrame        map[string]int
}

func specByName(name string) (dpSpec, bool) {
	for _, s := range datapathSpecs {
		if s.name == name {
			return s, true
		}
	}
	return dpSpec{}, false
}

func buildBulk(s bulkSpec) (*bulkTopo, error) {
	b := &bulkTopo{spec: s, trials: map[string][]bulkTrial{}, maxFrame: map[string]int{}}
	if err := b.build(); err != nil {
		if b.t != nil {
			b.t.close()
		}
		return nil, fmt.Errorf("bulk %s: %w", s.name, err)
	}
	return b, nil
}

func (b *bulkTopo) build() error {
	var (
		hostConn *nl.Conn
		hostDev  string
		guestMAC net.HardwareAddr
	)
	if b.spec.wiring == "" {
		// The relay's ceiling: the VM side is a tap in the host's own
		// namespace, holding the host's address.
		b.t = &topo{name: b.spec.name}
		c, _, err := b.t.namespaces(false)
		if err != nil {
			return err
		}
		if _, err := b.t.vmTap(c); err != nil {
			return err
		}
		b.hostNS, hostConn, hostDev = b.t.vmNS, c, "tap0"
		guestMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	} else {
		ds, ok := specByName(b.spec.wiring)
		if !ok {
			return fmt.Errorf("no datapath %q", b.spec.wiring)
		}
		t, err := buildTopo(ds)
		if err != nil {
			return err
		}
		b.t = t
		cvm := t.conns[0]
		b.hostNS, hostConn, hostDev = t.farNS, t.conns[1], "peer0"
		// The guest answers to the MAC the wiring delivers to: the
		// macvtap's own, else the veth's (as tc-redirect-tap gives the VM
		// the veth's MAC).
		if t.vm.kind == "macvtap" {
			guestMAC = vmMAC
		} else {
			eth, err := link.Lookup(cvm, "eth0")
			if err != nil {
				return err
			}
			guestMAC = eth.MAC
		}
		if t.bridge != "" {
			// The veth's MAC is a local address of its bridge port: without
			// moving it to the tap's port the bridge keeps every frame for
			// the guest to itself.
			if err := link.ReplaceFDB(cvm, "tap0", guestMAC); err != nil {
				return err
			}
		}
	}
	b.vm = b.t.vm
	var off uint32
	if b.spec.offloads {
		off = offloads
	}
	if err := b.vm.setOffload(off); err != nil {
		return err
	}
	if err := link.AddAddr(hostConn, hostDev, netip.PrefixFrom(bulkHostIP, bulkPrefix)); err != nil {
		return err
	}
	var err error
	if b.guestNS, err = newNS("guest", false); err != nil {
		return err
	}
	gns := b.guestNS
	b.t.cleanups = append(b.t.cleanups, func() { delNS(gns) })
	cg, err := dial(gns)
	if err != nil {
		return err
	}
	b.t.cleanups = append(b.t.cleanups, func() { cg.Close() })
	b.t.conns = append(b.t.conns, cg) // the guest's tap's drops count too
	if b.guest, _, err = tapEndpoint(cg, gns, "gtap0", guestMTU); err != nil {
		return err
	}
	b.t.cleanups = append(b.t.cleanups, b.guest.close)
	if err := b.guest.setOffload(off); err != nil {
		return err
	}
	if err := link.SetMAC(cg, "gtap0", guestMAC); err != nil {
		return err
	}
	return link.AddAddr(cg, "gtap0", netip.PrefixFrom(bulkGuestIP, bulkPrefix))
}

// relay copies frames, virtio-net header included, between the guest's
// tap and the VM side, both ways, as a VMM's virtio-net backend does: a
// GSO frame crosses whole. One locked thread per direction; each reads
// until EAGAIN, then waits in poll(2). Index 0 is guest → VM side, 1 the
// other way.
type relay struct {
	stop     atomic.Bool
	wg       sync.WaitGroup
	maxFrame [2]int
	dropped  [2]uint64 // frames the kernel refused to take (write errors)
	err      [2]error
}

func startRelay(guest, vm *endpoint) *relay {
	r := &relay{}
	r.wg.Add(2)
	go r.copy(0, guest, vm)
	go r.copy(1, vm, guest)
	return r
}

func (r *relay) copy(i int, from, to *endpoint) {
	defer r.wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, from.hdr+1<<17) // a GSO frame is at most 64 KB
	in := []unix.PollFd{{Fd: int32(from.fd), Events: unix.POLLIN}}
	out := []unix.PollFd{{Fd: int32(to.fd), Events: unix.POLLOUT}}
	for !r.stop.Load() {
		n, err := unix.Read(from.fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			unix.Poll(in, 20)
			continue
		case err != nil:
			r.err[i] = fmt.Errorf("relay: read %s file: %w", from.kind, err)
			return
		}
		for !r.stop.Load() {
			_, err := unix.Write(to.fd, buf[:n])
			if err == nil {
				break
			}
			// A macvtap's file refuses while its socket's send buffer
			// is full: wait, as a backend does, rather than drop.
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
				unix.Poll(out, 1)
				continue
			}
			r.dropped[i]++
			break
		}
		if n-from.hdr > r.maxFrame[i] {
			r.maxFrame[i] = n - from.hdr
		}
	}
}

func (r *relay) finish() error {
	r.stop.Store(true)
	r.wg.Wait()
	return errors.Join(r.err[0], r.err[1])
}

// The iperf3 processes running, killed on the way out whatever happens.
var procs = struct {
	sync.Mutex
	m map[*os.Process]bool
}{m: map[*os.Process]bool{}}

func startTracked(cmd *exec.Cmd) error {
	procs.Lock()
	defer procs.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	procs.m[cmd.Process] = true
	return nil
}

func untrack(p *os.Process) {
	procs.Lock()
	delete(procs.m, p)
	procs.Unlock()
}

// killProcs kills every process startTracked started that has not been
// waited for.
func killProcs() {
	procs.Lock()
	defer procs.Unlock()
	for p := range procs.m {
		p.Kill()
	}
}

// iperfResult is the part of `iperf3 --json` the harness reads.
type iperfResult struct {
	Error string `json:"error"`
	End   struct {
		SumSent struct {
			Bytes       float64 `json:"bytes"`
			Retransmits int     `json:"retransmits"`
		} `json:"sum_sent"`
		SumReceived struct {
			Bytes         float64 `json:"bytes"`
			Seconds       float64 `json:"seconds"`
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
}

// iperfTrial runs one iperf3 test through b: the server (one test, then
// it exits) in the host namespace, the client in the guest's, reverse mode
// for host → guest. Every process is bounded in time.
func (h *harness) iperfTrial(b *bulkTopo, dir string) (bulkTrial, error) {
	var tr bulkTrial
	flush(b.vm.fd, h.rbuf)
	flush(b.guest.fd, h.rbuf)
	rl := startRelay(b.guest, b.vm)
	srv := exec.Command("ip", "netns", "exec", b.hostNS, "iperf3", "--server", "--one-off", "--bind", bulkHostIP.String(), "--forceflush")
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	stdout, err := srv.StdoutPipe()
	if err != nil {
		rl.finish()
		return tr, err
	}
	if err := startTracked(srv); err != nil {
		rl.finish()
		return tr, fmt.Errorf("iperf3 server: %w", err)
	}
	ready, drained := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stdout)
		listening := false
		for sc.Scan() {
			if !listening && strings.Contains(sc.Text(), "listening") {
				listening = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	defer func() {
		// One-off: the server leaves after its test. Else stop it.
		select {
		case <-drained:
		case <-time.After(3 * time.Second):
			srv.Process.Kill()
			<-drained
		}
		srv.Wait()
		untrack(srv.Process)
	}()
	defer rl.finish()
	select {
	case <-ready:
	case <-drained:
		srv.Wait() // collects its standard error
		return tr, fmt.Errorf("iperf3 server in %s exited: %s", b.hostNS, strings.TrimSpace(srvErr.String()))
	case <-time.After(5 * time.Second):
		return tr, fmt.Errorf("iperf3 server in %s not listening after 5 s", b.hostNS)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(h.bulkSecs)*time.Second+20*time.Second)
	defer cancel()
	args := []string{"netns", "exec", b.guestNS, "iperf3", "--client", bulkHostIP.String(), "--time", strconv.Itoa(h.bulkSecs), "--json", "--connect-timeout", "5000"}
	if dir == bench.HostToGuest {
		args = append(args, "--reverse")
	}
	cli := exec.CommandContext(ctx, "ip", args...)
	var out, cliErr bytes.Buffer
	cli.Stdout, cli.Stderr = &out, &cliErr
	// The sender's namespace: its TCP learns from DSACK which of its
	// retransmissions were needless.
	sendNS := b.guestNS
	if dir == bench.HostToGuest {
		sendNS = b.hostNS
	}
	dsack0, err := tcpExt(sendNS, "TCPDSACKRecvSegs")
	if err != nil {
		return tr, err
	}
	busy0, drops0 := cpuBusy(), b.t.drops()
	if err := startTracked(cli); err != nil {
		return tr, fmt.Errorf("iperf3 client: %w", err)
	}
	err = cli.Wait()
	busy1, drops1 := cpuBusy(), b.t.drops()
	untrack(cli.Process)
	var res iperfResult
	jerr := json.Unmarshal(out.Bytes(), &res)
	switch {
	case res.Error != "":
		return tr, fmt.Errorf("iperf3 client: %s", res.Error)
	case ctx.Err() != nil:
		return tr, fmt.Errorf("iperf3 client: stopped after %v", time.Duration(h.bulkSecs)*time.Second+20*time.Second)
	case err != nil:
		return tr, fmt.Errorf("iperf3 client: %w: %s", err, strings.TrimSpace(cliErr.String()))
	case jerr != nil:
		return tr, fmt.Errorf("iperf3 client: JSON: %w", jerr)
	}
	got := res.End.SumReceived
	if got.Bytes <= 0 || got.Seconds <= 0 {
		return tr, errors.New("iperf3 client: nothing received")
	}
	tr.gbps = got.BitsPerSecond / 1e9
	tr.cpuPerGbit = float64(busy1-busy0) / 1e6 / (got.Bytes * 8 / 1e9)
	tr.retransmits = res.End.SumSent.Retransmits
	tr.drops = drops1 - drops0
	dsack1, err := tcpExt(sendNS, "TCPDSACKRecvSegs")
	if err != nil {
		return tr, err
	}
	tr.spurious = dsack1 - dsack0
	if err := rl.finish(); err != nil {
		return tr, err
	}
	i := 0 // where the data goes: guest → VM side
	if dir == bench.HostToGuest {
		i = 1
	}
	b.maxFrame[dir] = max(b.maxFrame[dir], rl.maxFrame[i])
	if n := rl.dropped[0] + rl.dropped[1]; n > 0 {
		h.progress("bulk %s %s: the kernel refused %d relayed frames", b.spec.name, dir, n)
	}
	return tr, nil
}

// tcpExt reads the TcpExt counter name of /proc/net/netstat in ns (a
// header line of names, then a line of values).
func tcpExt(ns, name string) (uint64, error) {
	var v uint64
	err := netns.Do(ns, func() error {
		b, err := os.ReadFile("/proc/thread-self/net/netstat")
		if err != nil {
			return err
		}
		lines := strings.Split(string(b), "\n")
		for i := 0; i+1 < len(lines); i++ {
			names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
			if len(names) == 0 || names[0] != "TcpExt:" || len(values) != len(names) {
				continue
			}
			if j := slices.Index(names, name); j > 0 {
				v, err = strconv.ParseUint(values[j], 10, 64)
				return err
			}
		}
		return fmt.Errorf("no TcpExt %s in /proc/net/netstat", name)
	})
	if err != nil {
		return 0, fmt.Errorf("netns %s: %w", ns, err)
	}
	return v, nil
}

// runBulk builds every bulk wiring, then runs both directions of each in
// interleaved rounds, the order rotated each round.
func (h *harness) runBulk() []bench.Bulk {
	if _, err := exec.LookPath("iperf3"); err != nil {
		h.fail("bulk: iperf3 not found (Debian package iperf3)")
		return nil
	}
	var bs []*bulkTopo
	for _, s := range bulkSpecs() {
		if h.Datapaths != nil && !slices.Contains(h.Datapaths, s.wiring) && !slices.Contains(h.Datapaths, s.name) {
			continue
		}
		h.progress("build bulk %s", s.name)
		b, err := buildBulk(s)
		if err != nil {
			h.fail("%v", err)
			continue
		}
		defer b.t.close()
		bs = append(bs, b)
	}
	dirs := []string{bench.GuestToHost, bench.HostToGuest}
	for round := 0; round < h.bulkRounds; round++ {
		for _, b := range rotate(bs, round) {
			for _, dir := range rotate(dirs, round) {
				tr, err := h.iperfTrial(b, dir)
				if err != nil {
					h.fail("bulk %s %s: %v", b.spec.name, dir, err)
					continue
				}
				b.trials[dir] = append(b.trials[dir], tr)
				h.progress("bulk %-26s %-13s %6.2f Gbit/s, %5.0f CPU ms/Gbit, %d retransmits (%d spurious), %d device drops", b.spec.name, dir, tr.gbps, tr.cpuPerGbit, tr.retransmits, tr.spurious, tr.drops)
			}
		}
		h.progress("bulk round %d/%d done", round+1, h.bulkRounds)
	}
	out := []bench.Bulk{}
	for _, b := range bs {
		out = append(out, b.summary())
	}
	return out
}

func (b *bulkTopo) summary() bench.Bulk {
	r := bench.Bulk{Name: b.spec.name, Description: b.spec.desc, Offloads: b.spec.offloads, Ceiling: b.spec.wiring == "", Flows: []bench.BulkFlow{}}
	var cpus []float64
	for _, dir := range []string{bench.GuestToHost, bench.HostToGuest} {
		ts := b.trials[dir]
		if len(ts) == 0 {
			continue
		}
		var g, c, re, sp, dr []float64
		for _, t := range ts {
			g, c, dr = append(g, t.gbps), append(c, t.cpuPerGbit), append(dr, float64(t.drops))
			re, sp = append(re, float64(t.retransmits)), append(sp, float64(t.spurious))
		}
		f := bench.BulkFlow{Direction: dir, Gbps: median(g), GbpsMin: slices.Min(g), GbpsMax: slices.Max(g),
			CPUPerGbit: median(c), CPUPerGbitMin: slices.Min(c), CPUPerGbitMax: slices.Max(c),
			Retransmits: median(re), Spurious: median(sp), DevDrops: median(dr), MaxFrame: b.maxFrame[dir], Trials: len(ts)}
		r.Flows = append(r.Flows, f)
		if dir == bench.GuestToHost {
			r.GuestToHostGbps = ptr(f.Gbps)
		} else {
			r.HostToGuestGbps = ptr(f.Gbps)
		}
		cpus = append(cpus, f.CPUPerGbit)
	}
	if len(cpus) == 2 {
		r.CPUPerGbit = ptr((cpus[0] + cpus[1]) / 2)
	}
	return r
}
