package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tcwire/tcwire/internal/netns"

	"github.com/tcwire/tcwire/bench"
)

// iperf3 in the bulk rows: its processes, tracked so that none outlives
// the harness, one trial through a wiring, and the kernel's TCP counters
// read around it.

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
