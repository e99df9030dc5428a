package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/tuntap"
)

// tcwire watch prints one JSON object per event, rewires a recreated tap,
// and ends with exit status 0 on SIGTERM, the wiring left in place; a
// batch file's pairs are watched the same way.
func TestE2EWatch(t *testing.T) {
	nstest.RequireRoot(t)
	for _, batch := range []bool{false, true} {
		t.Run(map[bool]string{false: "pair", true: "batch"}[batch], func(t *testing.T) {
			ns := nstest.New(t)
			ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
			ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
			args := []string{"--netns", ns.Name, "--json", "watch", "eth0", "tap0"}
			if batch {
				f := filepath.Join(t.TempDir(), "pairs")
				os.WriteFile(f, []byte("# the node's links\n\neth0 tap0   # eth0\n"), 0o644)
				args = []string{"--netns", ns.Name, "--json", "watch", "-batch", f}
			}
			cmd := exec.Command(tcwireBin, args...)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := make(chan map[string]any, 100)
			go func() {
				s := bufio.NewScanner(out)
				for s.Scan() {
					var m map[string]any
					if err := json.Unmarshal(s.Bytes(), &m); err != nil {
						t.Errorf("not a JSON object: %q", s.Text())
					}
					lines <- m
				}
				close(lines)
			}()
			want := func(event string) map[string]any {
				t.Helper()
				for {
					select {
					case m, ok := <-lines:
						if !ok {
							t.Fatalf("tcwire watch ended before %s: %s", event, stderr.String())
						}
						if m["event"] == event {
							return m
						}
					case <-time.After(20 * time.Second):
						t.Fatalf("no %s event", event)
					}
				}
			}
			want("wired")
			ns.Run("ip", "link", "del", "tap0")
			want("unwired")
			ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
			m := want("rewired")
			if m["tap_ifindex"] != float64(ns.Ifindex("tap0")) || m["dev"] != "eth0" || m["why"] == "" {
				t.Errorf("rewired event %v: want tap_ifindex %d, dev eth0, a why", m, ns.Ifindex("tap0"))
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("tcwire watch after SIGTERM: %v, want exit status 0; %s", err, stderr.String())
			}
			for _, d := range [][2]string{{"eth0", "tap0"}, {"tap0", "eth0"}} {
				if out := ns.Run("tc", "filter", "show", "dev", d[0], "ingress"); !strings.Contains(out, "to device "+d[1]) {
					t.Errorf("%s after watch ended: want the wiring in place:\n%s", d[0], out)
				}
			}
		})
	}
}

// --link-state --exec CMD: CMD runs with the pair and the link state in
// its environment, the first state at start (a VMM already holds the
// tap), then down when the far end goes down and up when it comes back.
func TestE2EWatchExec(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	ns.Run("ip", "link", "set", "peer0", "up")
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
	vm, err := tuntap.Open(tuntap.OpenConfig{Name: "tap0", NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	told := filepath.Join(t.TempDir(), "told")
	cmd := exec.Command(tcwireBin, "--netns", ns.Name, "watch", "--link-state",
		"--exec", `echo "$TCWIRE_NETNS $TCWIRE_DEV $TCWIRE_TAP $TCWIRE_LINK" >>`+told, "eth0", "tap0")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// lines waits until CMD has run n times and returns what it wrote.
	lines := func(n int) []string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, _ := os.ReadFile(told)
			got := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if len(b) > 0 && len(got) >= n {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("--exec ran %d times, want %d: %q\n%s", len(got), n, b, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	prefix := ns.Name + " eth0 tap0 "
	lines(1)
	ns.Run("ip", "link", "set", "peer0", "down")
	lines(2)
	ns.Run("ip", "link", "set", "peer0", "up")
	got := lines(3)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tcwire watch after SIGTERM: %v\n%s", err, out.String())
	}
	want := []string{prefix + "up", prefix + "down", prefix + "up"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("--exec was run with\n%s\nwant\n%s\nevents:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out.String())
	}
}

func TestWatchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"watch"},
		{"watch", "eth0"},
		{"watch", "--qmp", "/x", "eth0", "tap0"},
		{"watch", "--qmp", "/x", "--qmp-netdev", "n", "eth0", "tap0"},
		{"watch", "--exec", "true", "eth0", "tap0"},
		{"watch", "--link-state", "--exec", "true", "--qmp", "/x", "--qmp-netdev", "n", "eth0", "tap0"},
		{"watch", "-batch", "f", "eth0", "tap0"},
		{"watch", "eth0", "tap0", "tap1"},
	} {
		if _, err := parse(args); err == nil {
			t.Errorf("%q: no usage error", args)
		} else if _, ok := err.(*usageError); !ok {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
	if _, err := parse([]string{"watch", "--link-state", "--qmp", "/x", "--qmp-netdev", "n", "eth0", "tap0"}); err != nil {
		t.Errorf("a good command line: %v", err)
	}
}
