package main

// Faults: tcwire killed with SIGKILL at any point of attach or detach. The
// points are the syscalls that change something — netlink sendmsg and the
// tun ioctls — seen through strace, or random moments of the process's
// life. (A device deleted while attach runs is package tcwire's
// TestDeviceDeletedDuringAttach.)

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
)

// tracedCall matches a completed sendmsg or ioctl in strace -f output
// ("PID  sendmsg(…) = 52", or the "<… resumed>" end of one that another
// thread interrupted).
var tracedCall = regexp.MustCompile(`^(\d+)\s+(sendmsg\(|ioctl\(|<\.\.\. (sendmsg|ioctl) resumed>).* = `)

// traced runs the binary with args under strace, tracing sendmsg and the
// ioctls, each delayed at its entry by pause, and calls at with the
// number of calls completed so far (1, 2 …), the line and the tracee's
// pid after each. It returns the number of calls seen and how the process
// ended: its exit code, or -1 when it was killed.
func traced(t *testing.T, pause time.Duration, at func(n int, line string, pid int), args ...string) (calls, code int, stderr string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	argv := []string{"-f", "-qq", "-e", "trace=sendmsg,ioctl", "-e", "signal=none", "-o", "/proc/self/fd/3"}
	if pause > 0 {
		argv = append(argv, "-e", fmt.Sprintf("inject=sendmsg,ioctl:delay_enter=%dus", pause.Microseconds()))
	}
	cmd := exec.Command("strace", append(append(argv, tcwireBin), args...)...)
	cmd.ExtraFiles = []*os.File{w}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := tracedCall.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		calls++
		if at != nil {
			pid, _ := strconv.Atoi(m[1])
			at(calls, sc.Text(), tgid(pid))
		}
	}
	err = cmd.Wait()
	code = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = -1 // strace ends itself with the tracee's signal
	} else if err != nil && code <= 0 {
		t.Fatalf("strace: %v\n%s", err, errb.String())
	}
	return calls, code, errb.String()
}

// tgid is the process a thread belongs to.
func tgid(tid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return tid
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return tid
}

// stateScript prints a namespace's whole state in one process: every
// qdisc, every device's ingress filters (under both names of the hook)
// and every link.
const stateScript = `tc -d qdisc show
for d in $(ls /sys/class/net); do
	echo "### filters of $d"
	tc -d filter show dev $d parent ffff:
	tc -d filter show dev $d ingress
done
ip -d -j link show`

var (
	ifindexRe = regexp.MustCompile(`"ifindex":\d+`)
	addressRe = regexp.MustCompile(`"(address|broadcast)":"[0-9a-f:]*"`)
	actIndex  = regexp.MustCompile(`\bindex \d+ ref`)
	rootQdisc = regexp.MustCompile(`(qdisc \S+ )[0-9a-f]+(: dev \S+ root)`)
)

// crashState is the namespace's state with what a re-created tap changes
// anyway left out: ifindexes, MAC addresses, mirred action indexes and the
// handles the kernel picks for root qdiscs.
func crashState(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	ns.Settle()
	s := ns.Run("sh", "-c", stateScript)
	s = ifindexRe.ReplaceAllString(s, `"ifindex":N`)
	s = addressRe.ReplaceAllString(s, `"$1":"X"`)
	s = rootQdisc.ReplaceAllString(s, "${1}H${2}")
	return actIndex.ReplaceAllString(s, "index N ref")
}

// describe names a state between initial and wired by what of the wire it
// holds.
func describeState(s, initial, wired string) string {
	switch s {
	case initial:
		return "initial"
	case wired:
		return "wired"
	}
	var parts []string
	if strings.Contains(s, `"ifname":"tap0"`) {
		parts = append(parts, "tap0")
		if strings.Contains(s, `"ifalias":"tcwire"`) {
			parts = append(parts, "marked")
		}
	}
	for _, q := range []string{"qdisc ingress ffff: dev eth0", "qdisc ingress ffff: dev tap0"} {
		if strings.Contains(s, q) {
			parts = append(parts, "ingress on "+strings.Fields(q)[4])
		}
	}
	if len(parts) == 0 {
		return "other"
	}
	return "partial: " + strings.Join(parts, ", ")
}

// TestKilled: tcwire attach killed with SIGKILL at any point, and detach
// likewise: the next attach always converges to exactly the state of a
// clean attach, and the next detach to the initial state. Half the trials
// kill right after the n-th syscall that changes something (sendmsg or
// tun ioctl, seen through strace, each held back at its entry so that the
// kill lands before the next one), n going round every point of the
// command; the other half at a random moment of the process's life.
// 50 trials, 300 with TCWIRE_LONG=1.
func TestKilled(t *testing.T) {
	nstest.RequireTool(t, "strace")
	trials := 50
	if nstest.Long() {
		trials = 300
	}
	ns := vethNS(t)
	N := func(args ...string) []string { return append([]string{"--netns", ns.Name}, args...) }
	attachArgs, detachArgs := N("attach", "eth0", "tap0"), N("detach", "eth0", "tap0")
	initial := crashState(t, ns)

	// The reference runs: untraced ones to time the commands, traced ones
	// to count their points.
	var took [2][]time.Duration
	var wired string
	for range 3 {
		for i, args := range [][]string{attachArgs, detachArgs} {
			start := time.Now()
			mustTcwire(t, args...)
			took[i] = append(took[i], time.Since(start))
		}
		if wired == "" {
			mustTcwire(t, attachArgs...)
			wired = crashState(t, ns)
			mustTcwire(t, detachArgs...)
		}
		sameState(t, "attach then detach", initial, crashState(t, ns))
	}
	var points [2]int
	for i, args := range [][]string{attachArgs, detachArgs} {
		var code int
		points[i], code, _ = traced(t, 0, nil, args...)
		if code != 0 || points[i] == 0 {
			t.Fatalf("traced %s: exit %d after %d calls", args[2], code, points[i])
		}
	}
	sameState(t, "traced attach then detach", initial, crashState(t, ns))
	// A random kill comes within 1.25 times the median run of the
	// command, kept up to date with the runs that follow kills: the
	// machine's load changes the length of a run.
	median := func(d []time.Duration) time.Duration {
		d = slices.Clone(d)
		slices.Sort(d)
		return d[len(d)/2]
	}
	t.Logf("attach: %d points, %v; detach: %d points, %v (median of 3 untraced runs)", points[0], median(took[0]), points[1], median(took[1]))

	const pause = 20 * time.Millisecond
	// landed counts the kills that landed after each call of attach and
	// detach.
	landed := [2]map[int]int{{}, {}}
	// kill runs the command and kills it, and says where.
	kill := func(trial, which int, args []string) string {
		if trial%2 == 0 {
			n := 1 + (trial/2)%points[which]
			_, code, _ := traced(t, pause, func(k int, line string, pid int) {
				if k == n {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}, args...)
			if code != -1 {
				// Possible after the last call, which nothing holds
				// back, or on a very slow machine.
				return fmt.Sprintf("after call %d too late: finished first (exit %d)", n, code)
			}
			landed[which][n]++
			return fmt.Sprintf("after call %d", n)
		}
		d := time.Duration(rand.Int64N(int64(median(took[which]) * 5 / 4)))
		cmd := exec.Command(tcwireBin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(d)
		cmd.Process.Kill()
		cmd.Wait()
		if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() {
			return fmt.Sprintf("too late: finished first (exit %d)", ws.ExitStatus())
		}
		return "at a random moment"
	}

	outcomes := map[string]int{}
	start := time.Now()
	for trial := range trials {
		for which, step := range []struct {
			args        []string
			after, name string
		}{{attachArgs, wired, "attach"}, {detachArgs, initial, "detach"}} {
			where := kill(trial, which, step.args)
			state := describeState(crashState(t, ns), initial, wired)
			outcomes[fmt.Sprintf("%s killed %s -> %s", step.name, where, state)]++
			if strings.Contains(where, "exit") && !strings.Contains(where, "exit 0") {
				t.Errorf("trial %d: %s %s", trial, step.name, where)
			}
			began := time.Now()
			r := runTcwire(t, step.args...)
			took[which] = append(took[which], time.Since(began))
			if r.code != 0 {
				t.Fatalf("trial %d: %s killed %s, leaving %s; the next %s: %s", trial, step.name, where, state, step.name, r)
			}
			if got := crashState(t, ns); got != step.after {
				t.Fatalf("trial %d: %s killed %s, leaving %s; the next %s did not converge:\n--- want\n%s\n--- got\n%s",
					trial, step.name, where, state, step.name, step.after, got)
			}
		}
	}
	// Every point but the last was hit, if there were trials enough.
	for which, name := range []string{"attach", "detach"} {
		if trials/2 < points[which] {
			continue
		}
		for n := 1; n < points[which]; n++ {
			if landed[which][n] == 0 {
				t.Errorf("no kill of %s landed after call %d", name, n)
			}
		}
	}
	var lines []string
	for k, v := range outcomes {
		lines = append(lines, fmt.Sprintf("%4d × %s", v, k))
	}
	sort.Strings(lines)
	t.Logf("%d trials of attach and detach killed, in %v; all converged:\n%s", trials, time.Since(start).Round(time.Millisecond), strings.Join(lines, "\n"))
}
