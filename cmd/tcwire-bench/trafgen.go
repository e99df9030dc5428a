package main

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/tcwire/tcwire/bench"
)

// runTrafgen sends the harness's 60-byte frame with netsniff-ng's trafgen
// (pinned to the sender's CPU) from the far end of the plain veth pair and
// counts it with the harness's reader; then the harness's own sender does
// the same for as long.
func (h *harness) runTrafgen(path string) *bench.Trafgen {
	var spec dpSpec
	for _, s := range datapathSpecs {
		if s.name == floorName {
			spec = s
		}
	}
	t, err := buildTopo(spec)
	if err != nil {
		h.fail("trafgen: %v", err)
		return nil
	}
	defer t.close()
	res := &bench.Trafgen{}
	out, _ := exec.Command(path, "-v").CombinedOutput() // exits 0 or not, by version
	res.Version = strings.SplitN(strings.TrimSpace(string(out)), "\n", 2)[0]
	frame := buildFrame(0, smallFrame, vmMAC, t.farMAC, kindData)
	var bs []string
	for _, b := range frame {
		bs = append(bs, fmt.Sprintf("0x%02x", b))
	}
	cpu := h.senderCPU
	if cpu < 0 {
		cpu = 0
	}
	pkt := fmt.Sprintf("cpu(%d): { %s }", cpu, strings.Join(bs, ", "))
	// Warm-up and the harness's own figure.
	h.floodTrial(t, dirVethToTap, smallFrame, h.budget/4+10*time.Millisecond, trialOpts{})
	hr := h.floodTrial(t, dirVethToTap, smallFrame, h.budget, trialOpts{})
	res.HarnessPPS = float64(hr.send.sent) / hr.secs
	res.HarnessRecv = hr.pps()
	n := int(res.HarnessPPS * h.budget.Seconds())
	if n < 1000 {
		n = 1000
	}
	res.Frames = n
	flush(t.vm.fd, h.rbuf)
	restore := gcOff()
	rd := startReader(t.vm.fd, 0, h.readerCPU, true, 50*time.Microsecond, 0, h.rbuf)
	// --no-sock-mem and --notouch-irq: leave the host's socket memory
	// sysctls and IRQ affinities alone. The stats trafgen prints are not
	// used: the clock is ours.
	cmd := exec.Command("ip", "netns", "exec", t.farNS, path, "-o", "peer0", "-n", fmt.Sprint(n), "-P", "1", "--no-sock-mem", "--notouch-irq", "--no-cpu-stats", pkt)
	start := time.Now()
	out, err = cmd.CombinedOutput()
	el := time.Since(start)
	got := rd.finish()
	restore()
	if err != nil {
		h.fail("trafgen: %v: %s", err, out)
		return nil
	}
	// trafgen's wall time includes its start-up (ring set-up, fork): the
	// figure is a lower bound of its rate.
	res.TrafgenPPS = float64(n) / el.Seconds()
	res.TrafgenRecv = float64(got) / el.Seconds()
	res.Note = fmt.Sprintf("trafgen: %d frames (TX_RING, qdisc bypass, pinned to CPU %d, -P 1), rate = frames / wall time of the trafgen process including its start-up; the harness: write(2) on a non-blocking AF_PACKET socket for %v.", n, cpu, h.budget)
	h.progress("trafgen: sent %.3f Mpps (delivered %.3f), harness sent %.3f Mpps (delivered %.3f)", res.TrafgenPPS/1e6, res.TrafgenRecv/1e6, res.HarnessPPS/1e6, res.HarnessRecv/1e6)
	return res
}
