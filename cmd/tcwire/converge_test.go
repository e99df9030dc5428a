package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
)

// The engine's promise under concurrent callers (package tcwire's Handle):
// any number of processes attaching the same pair converge on one wiring,
// at most one of them creating the tap; an attach racing a detach ends
// wired or empty; a kill at any instant leaves a state the next attach and
// detach finish or undo. These run the real binary, many at once, and read
// the kernel with ip and tc.

// freshPair makes eth0 (with its peer peer0, up) anew in ns, every device
// and tc object of an earlier trial gone.
func freshPair(t *testing.T, ns *nstest.NS) {
	t.Helper()
	for _, d := range []string{"tap0", "mvt0", "br-tap0", "eth0"} {
		ns.Try("ip", "link", "del", d)
	}
	for _, l := range links(t, ns) {
		if strings.HasPrefix(l.Name, "br-") {
			ns.Try("ip", "link", "del", l.Name)
		}
	}
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	ns.Run("ip", "link", "set", "peer0", "up")
	ns.Run("ip", "link", "set", "eth0", "up")
}

// wireCount is how many redirects dev's ingress has into to.
func wireCount(t *testing.T, ns *nstest.NS, dev, to string) int {
	out, _ := ns.Try("tc", "filter", "show", "dev", dev, "ingress")
	return strings.Count(out, "Redirect to device "+to+")")
}

// wiredOnce reports whether eth0 and tap0 are wired once each way and tap0
// exists.
func wiredOnce(t *testing.T, ns *nstest.NS) bool {
	return linkOf(t, ns, "tap0") != nil && wireCount(t, ns, "eth0", "tap0") == 1 && wireCount(t, ns, "tap0", "eth0") == 1
}

// empty describes what of a wiring is left in ns, "" for nothing.
func empty(t *testing.T, ns *nstest.NS) string {
	var left []string
	for _, l := range links(t, ns) {
		switch {
		case l.Name == "lo" || l.Name == "eth0" || l.Name == "peer0":
		default:
			left = append(left, "device "+l.Name)
		}
	}
	if out, _ := ns.Try("tc", "qdisc", "show", "dev", "eth0", "ingress"); strings.TrimSpace(out) != "" {
		left = append(left, "eth0's "+strings.TrimSpace(out))
	}
	if l := linkOf(t, ns, "eth0"); l != nil && strings.Contains(strings.Join(l.Flags, ","), "SLAVE") {
		left = append(left, "eth0 enslaved")
	}
	return strings.Join(left, "; ")
}

// concurrently runs every argv at once and returns their results in order.
func concurrently(t *testing.T, argvs [][]string) []result {
	rs := make([]result, len(argvs))
	var wg sync.WaitGroup
	for i, argv := range argvs {
		wg.Go(func() { rs[i] = runTcwire(t, argv...) })
	}
	wg.Wait()
	return rs
}

// trials is n, or fewer with -short.
func trials(n int) int {
	if testing.Short() {
		return max(n/10, 2)
	}
	return n
}

func TestConcurrentAttachConverges(t *testing.T) {
	ns := nstest.New(t)
	for _, mode := range []string{"tc", "macvtap", "bridge"} {
		t.Run(mode, func(t *testing.T) {
			n, procs, tap := trials(50), 8, "tap0"
			if mode != "tc" {
				n, procs = trials(10), 4
			}
			if mode == "macvtap" {
				tap = "mvt0"
			}
			for trial := range n {
				freshPair(t, ns)
				argv := []string{"--netns", ns.Name, "--json", "attach", "eth0", tap, "--mode", mode}
				var argvs [][]string
				for range procs {
					argvs = append(argvs, argv)
				}
				rs := concurrently(t, argvs)
				created := 0
				var first attachResult
				for i, r := range rs {
					if r.code != 0 {
						t.Fatalf("trial %d: process %d: %s", trial, i, r)
					}
					var a attachResult
					if err := json.Unmarshal([]byte(r.stdout), &a); err != nil {
						t.Fatalf("trial %d: %v: %s", trial, err, r.stdout)
					}
					if a.Created {
						created++
					}
					a.Created = false
					if i == 0 {
						first = a
					} else if a != first {
						t.Errorf("trial %d: process %d reports %+v, process 0 %+v", trial, i, a, first)
					}
				}
				if created > 1 {
					t.Errorf("trial %d: %d processes say they created %s", trial, created, tap)
				}
				switch mode {
				case "tc":
					if !wiredOnce(t, ns) {
						t.Fatalf("trial %d: not wired once each way:\n%s\n%s", trial, ingressFilters(t, ns, "eth0"), ingressFilters(t, ns, "tap0"))
					}
				case "macvtap":
					if l := linkOf(t, ns, tap); l == nil || l.LinkInfo.Kind != "macvtap" || l.Alias == "" {
						t.Fatalf("trial %d: %s: %+v", trial, tap, l)
					}
				case "bridge":
					if l := linkOf(t, ns, "tap0"); l == nil || linkOf(t, ns, first.Bridge) == nil {
						t.Fatalf("trial %d: tap0 or %q missing", trial, first.Bridge)
					}
				}
				mustTcwire(t, "--netns", ns.Name, "detach", "eth0", tap)
				if left := empty(t, ns); left != "" {
					t.Fatalf("trial %d: detach left %s", trial, left)
				}
			}
		})
	}
}

func TestAttachRacingDetach(t *testing.T) {
	ns := nstest.New(t)
	for trial := range trials(20) {
		freshPair(t, ns)
		var argvs [][]string
		for i := range 8 {
			op := "attach"
			if i%2 == 1 {
				op = "detach"
			}
			argvs = append(argvs, []string{"--netns", ns.Name, op, "eth0", "tap0"})
		}
		for i, r := range concurrently(t, argvs) {
			if r.code != 0 {
				t.Fatalf("trial %d: %s: %s", trial, argvs[i][2], r)
			}
		}
		if left := empty(t, ns); left != "" && !wiredOnce(t, ns) {
			t.Fatalf("trial %d: neither whole nor empty: %s\n%s\n%s", trial, left, ingressFilters(t, ns, "eth0"), ingressFilters(t, ns, "tap0"))
		}
	}
}

// TestKilledAnyInstant kills an attach at a random instant, in every mode;
// the next attach and detach must both succeed and leave nothing.
func TestKilledAnyInstant(t *testing.T) {
	ns := nstest.New(t)
	for _, mode := range []string{"tc", "macvtap", "bridge"} {
		t.Run(mode, func(t *testing.T) {
			tap := "tap0"
			if mode == "macvtap" {
				tap = "mvt0"
			}
			argv := []string{"--netns", ns.Name, "attach", "eth0", tap, "--mode", mode}
			for trial := range trials(50) {
				freshPair(t, ns)
				cmd := exec.Command(tcwireBin, argv...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(rand.IntN(6000)) * time.Microsecond)
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				if r := runTcwire(t, argv...); r.code != 0 {
					t.Fatalf("trial %d: attach after the kill: %s", trial, r)
				}
				if r := runTcwire(t, "--netns", ns.Name, "detach", "eth0", tap); r.code != 0 {
					t.Fatalf("trial %d: detach: %s", trial, r)
				}
				if left := empty(t, ns); left != "" {
					t.Fatalf("trial %d: %s", trial, fmt.Sprintf("left %s", left))
				}
			}
		})
	}
}
