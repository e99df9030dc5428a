// Package nstest gives privileged tests throwaway network namespaces.
//
// Every namespace has a unique name (tcwire-test-<pid>-<n>) and is deleted by
// t.Cleanup, so a failing test leaves nothing behind. Tests never touch the
// root namespace's interfaces.
package nstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// EnvRequire names the variable that .ci/run sets: when it is "1", a
// privileged test that would skip fails instead.
const EnvRequire = "TCWIRE_REQUIRE_PRIVILEGED"

// EnvLong names the variable that turns on the large variants of the
// hardening tests (make hardening): TCWIRE_LONG=1.
const EnvLong = "TCWIRE_LONG"

// Long reports whether the large variants are asked for.
func Long() bool { return os.Getenv(EnvLong) == "1" }

// RequireRoot skips t when the process is not root, unless CI demands that
// privileged tests run, in which case t fails.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("privileged test needs root (%s=1 forbids skipping)", EnvRequire)
	}
	t.Skip("privileged test: needs root (CAP_NET_ADMIN) to create network namespaces")
}

// RequireTool fails or skips t when an external program is missing, with the
// same CI rule as RequireRoot.
func RequireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s not found in PATH (%s=1 forbids skipping)", name, EnvRequire)
	}
	t.Skipf("%s not found in PATH", name)
}

// NS is a named network namespace under /run/netns.
type NS struct {
	Name    string
	t       testing.TB
	deleted atomic.Bool
}

var counter atomic.Uint64

// New creates a namespace with loopback up and registers its deletion.
func New(t testing.TB) *NS {
	t.Helper()
	RequireRoot(t)
	name := fmt.Sprintf("tcwire-test-%d-%d", os.Getpid(), counter.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	ns := &NS{Name: name, t: t}
	t.Cleanup(func() {
		if ns.deleted.Load() {
			return
		}
		dropMacvtaps(name)
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	ns.Run("ip", "link", "set", "lo", "up")
	return ns
}

// dropMacvtaps deletes the macvtaps of the namespace called name. A
// macvtap outlives `ip netns del` until the kernel's namespace cleanup runs
// (later, on a workqueue), and until then its /dev/tapN — named by an
// ifindex that the next test's namespace numbers from 2 again — makes that
// test's macvtap of the same name and index ambiguous. Deleting a device
// is synchronous.
func dropMacvtaps(name string) {
	out, err := exec.Command("ip", "-n", name, "-o", "link", "show", "type", "macvtap").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			dev, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			exec.Command("ip", "-n", name, "link", "del", dev).Run()
		}
	}
}

// Delete deletes the namespace now (what a container runtime does when a
// sandbox goes away) instead of at cleanup.
func (ns *NS) Delete() {
	ns.t.Helper()
	dropMacvtaps(ns.Name)
	if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
		ns.t.Fatalf("ip netns del %s: %v: %s", ns.Name, err, out)
	}
	ns.deleted.Store(true)
}

// Path is the namespace's bind mount, usable as a netns path.
func (ns *NS) Path() string { return "/run/netns/" + ns.Name }

// Run runs a command inside the namespace (ip netns exec) and returns its
// standard output; it fails the test when the command fails.
func (ns *NS) Run(name string, args ...string) string {
	ns.t.Helper()
	out, err := ns.Try(name, args...)
	if err != nil {
		ns.t.Fatalf("%v", err)
	}
	return out
}

// Try is Run without failing the test: the error carries stderr.
func (ns *NS) Try(name string, args ...string) (string, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("[netns %s] %s %s: %v: %s", ns.Name, name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Ifindex returns the index of a device in the namespace.
func (ns *NS) Ifindex(dev string) int {
	ns.t.Helper()
	out := ns.Run("cat", "/sys/class/net/"+dev+"/ifindex")
	var idx int
	if _, err := fmt.Sscan(out, &idx); err != nil {
		ns.t.Fatalf("ifindex of %s: %v", dev, err)
	}
	return idx
}

// Settle waits until the kernel's link watcher has caught up with the
// namespace's devices: one whose carrier went off (a persistent tap whose
// last file was just closed) keeps IFF_RUNNING and its operstate until the
// watcher runs, up to a second later, and a state read in between would
// differ from one read later for that alone. (It gives up after 30 s: the
// watcher needs the RTNL lock, and with thousands of devices being made
// elsewhere on the machine it has been seen to lag by more than 10 s.)
func (ns *NS) Settle() {
	ns.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := ns.Run("ip", "-j", "link", "show")
		var ls []struct {
			Flags []string `json:"flags"`
		}
		if err := json.Unmarshal([]byte(out), &ls); err != nil {
			ns.t.Fatalf("ip -j link show: %v\n%s", err, out)
		}
		pending := false
		for _, l := range ls {
			if slices.Contains(l.Flags, "UP") && !slices.Contains(l.Flags, "LOWER_UP") && !slices.Contains(l.Flags, "NO-CARRIER") {
				pending = true
			}
		}
		if !pending || time.Now().After(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
