package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

// buildTcwire builds cmd/tcwire into a temporary directory, as `make
// build-bin` builds bin/tcwire for `make demo`.
func buildTcwire(t *testing.T) string {
	t.Helper()
	goTool := "go"
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); runtime.GOROOT() != "" {
		if _, err := os.Stat(p); err == nil {
			goTool = p
		}
	}
	bin := filepath.Join(t.TempDir(), "tcwire")
	if out, err := exec.Command(goTool, "build", "-o", bin, "../tcwire").CombinedOutput(); err != nil {
		t.Fatalf("go build ../tcwire: %v\n%s", err, out)
	}
	return bin
}

// demoNamespaces lists the namespaces this process's demos made.
func demoNamespaces(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	var found []string
	prefix := fmt.Sprintf("tcwire-demo-%d-", os.Getpid())
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], prefix) {
			found = append(found, f[0])
		}
	}
	return found
}

// TestDemo runs what `make demo` runs and checks that every check passed
// and nothing was left behind.
func TestDemo(t *testing.T) {
	nstest.RequireRoot(t)
	bin := buildTcwire(t)
	var out bytes.Buffer
	err := Run(context.Background(), Config{Tcwire: bin, Out: &out})
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	text := out.String()
	for _, want := range []string{
		"  PASS  vm → peer ", "  PASS  peer → vm ", "  PASS  UDP echo ",
		"ARP answered from the tap fd",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// tcwire show's rows: DEV STATE TARGET STATE egress redirect stolen …
	for _, want := range []string{`(?m)^\s*eth0\s+\S+\s+tap0\s+\S+\s+egress redirect\s+stolen\s`, `(?m)^\s*tap0\s+\S+\s+eth0\s+\S+\s+egress redirect\s+stolen\s`} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("output lacks a show row matching %s", want)
		}
	}
	if strings.Contains(text, "FAIL") || !strings.HasSuffix(text, "PASS\n") {
		t.Errorf("the demo does not end with PASS")
	}
	if ns := demoNamespaces(t); len(ns) > 0 {
		t.Errorf("namespaces left behind: %v", ns)
	}
}

// cancelOn cancels a context as soon as the demo's output contains a
// string: a Ctrl-C at a known point.
type cancelOn struct {
	bytes.Buffer
	text   string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Contains(w.String(), w.text) {
		w.cancel()
	}
	return n, err
}

// TestDemoInterrupted cancels the demo (as Ctrl-C does) at each stage: it
// fails, says FAIL, and removes whatever it had made.
func TestDemoInterrupted(t *testing.T) {
	nstest.RequireRoot(t)
	bin := buildTcwire(t)
	for _, at := range []string{"namespaces:", "attach eth0 tap0", "opened tap0", "show\n", "detach eth0 tap0"} {
		t.Run(at, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &cancelOn{text: at, cancel: cancel}
			err := Run(ctx, Config{Tcwire: bin, Out: out})
			if !strings.Contains(out.String(), at) {
				t.Fatalf("the demo never printed %q:\n%s", at, out.String())
			}
			if at == "detach eth0 tap0" {
				// Cancelled during clean-up, after the checks passed:
				// clean-up still completes.
				if !strings.Contains(out.String(), "PASS  UDP echo") || err != nil && !strings.Contains(err.Error(), "interrupted") {
					t.Errorf("Run: %v\n%s", err, out.String())
				}
			} else if err == nil || !strings.Contains(out.String(), "FAIL") && !strings.Contains(err.Error(), "context canceled") {
				t.Errorf("Run after cancellation: %v\n%s", err, out.String())
			}
			if ns := demoNamespaces(t); len(ns) > 0 {
				t.Errorf("namespaces left behind: %v\n%s", ns, out.String())
			}
		})
	}
}

func TestChecksum(t *testing.T) {
	// RFC 1071's example, and a header whose checksum field holds the
	// checksum of the rest: it sums to zero.
	if got := checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}); got != ^uint16(0xddf2) {
		t.Errorf("checksum = %#x, want %#x", got, ^uint16(0xddf2))
	}
	f := ipv4UDP(broadcast, broadcast, vmIP, peerIP, 1, 2, []byte("x"))
	if got := checksum(f[14:34]); got != 0 {
		t.Errorf("IPv4 header with its checksum sums to %#x, want 0", got)
	}
	u, ok := parseUDP(f)
	if !ok || !u.src.Equal(vmIP) || !u.dst.Equal(peerIP) || u.sport != 1 || u.dport != 2 || string(u.payload) != "x" {
		t.Errorf("parseUDP(ipv4UDP(…)) = %+v, %v", u, ok)
	}
	a, ok := parseARPRequest(arpRequestFrame())
	if !ok || !a.target.Equal(vmIP) || !a.senderIP.Equal(peerIP) {
		t.Errorf("parseARPRequest = %+v, %v", a, ok)
	}
}

func arpRequestFrame() []byte {
	r := arpReply(broadcast, peerIP, broadcast, vmIP)
	r[14+7] = 1 // op: request
	return r
}
