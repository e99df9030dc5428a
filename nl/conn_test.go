package nl_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
	"golang.org/x/sys/unix"
)

// Live tests: they need root and run in throwaway namespaces (nstest), so
// the root namespace is only ever read.

// ipn runs `ip -n <ns> args…`.
func ipn(t *testing.T, ns *nstest.NS, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", ns.Name, strings.Join(args, " "), err, out)
	}
}

func dial(t *testing.T, cfg *nl.Config) *nl.Conn {
	t.Helper()
	c, err := nl.Dial(cfg)
	if err != nil {
		t.Fatalf("failed to dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// linkDump is `ip link show` as a request built by hand: RTM_GETLINK with
// a zeroed ifinfomsg (strict checking wants type, flags and change zero).
var linkDump = nl.Request{
	Type:  unix.RTM_GETLINK,
	Flags: nl.FlagsDump,
	Data:  make([]byte, unix.SizeofIfInfomsg),
	Cmd:   "ip link show",
}

// links dumps the links the Conn sees: name → ifindex.
func links(t *testing.T, c *nl.Conn) map[string]int {
	t.Helper()
	msgs, err := c.Dump(linkDump)
	if err != nil {
		t.Fatalf("link dump: %v", err)
	}
	m, err := parseLinks(msgs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func parseLinks(msgs []nl.Message) (map[string]int, error) {
	out := map[string]int{}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			return nil, fmt.Errorf("unexpected reply type %d, %d bytes", m.Header.Type, len(m.Data))
		}
		index := int(int32(nl.Uint32(m.Data[4:8])))
		attrs, err := nl.ParseAttrs(m.Data[unix.SizeofIfInfomsg:])
		if err != nil {
			return nil, fmt.Errorf("link %d: %v", index, err)
		}
		for _, a := range attrs {
			if a.Type == unix.IFLA_IFNAME {
				out[a.String()] = index
			}
		}
	}
	return out, nil
}

// qdiscDump is `tc qdisc show` built by hand.
var qdiscDump = nl.Request{
	Type:  unix.RTM_GETQDISC,
	Flags: nl.FlagsDump,
	Data:  tcmsg(0, 0, 0),
	Cmd:   "tc qdisc show",
}

// ingressOn reports whether the ingress qdisc is on ifindex.
func ingressOn(t *testing.T, c *nl.Conn, ifindex int) bool {
	t.Helper()
	msgs, err := c.Dump(qdiscDump)
	if err != nil {
		t.Fatalf("qdisc dump: %v", err)
	}
	for _, m := range msgs {
		if len(m.Data) < 20 {
			t.Fatalf("qdisc reply of %d bytes", len(m.Data))
		}
		tcm := struct {
			Ifindex        int32
			Handle, Parent uint32
		}{int32(nl.Uint32(m.Data[4:])), nl.Uint32(m.Data[8:]), nl.Uint32(m.Data[12:])}
		attrs, err := nl.ParseAttrs(m.Data[20:]) // after the tcmsg
		if err != nil {
			t.Fatalf("qdisc reply: %v", err)
		}
		for _, a := range attrs {
			if a.Type == unix.TCA_KIND && a.String() == "ingress" && int(tcm.Ifindex) == ifindex {
				if tcm.Handle != 0xffff0000 || tcm.Parent != 0xfffffff1 {
					t.Errorf("ingress qdisc: handle %#x parent %#x", tcm.Handle, tcm.Parent)
				}
				return true
			}
		}
	}
	return false
}

// ingressDel is `tc qdisc del dev <dev> ingress` built by hand.
func ingressDel(ifindex int32, cmd string) nl.Request {
	r := ingressRequest(ifindex, cmd)
	r.Type, r.Flags = unix.RTM_DELQDISC, nl.FlagsAck
	return r
}

func TestDialNetNS(t *testing.T) {
	ns := nstest.New(t)

	// A device name of our own, to tell this namespace from the root one.
	own := fmt.Sprintf("nltest%d", os.Getpid()%1000000)
	before := map[string]int{"lo": 1}

	byName := dial(t, &nl.Config{NetNS: ns.Name})
	if diff := nl.Diff(before, links(t, byName)); diff != "" {
		t.Fatalf("fresh namespace by name (-want +got):\n%s", diff)
	}

	ipn(t, ns, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	ipn(t, ns, "link", "add", own, "type", "veth", "peer", "name", own+"p")
	after := map[string]int{
		"lo":      1,
		"eth0":    ns.Ifindex("eth0"),
		"peer0":   ns.Ifindex("peer0"),
		own:       ns.Ifindex(own),
		own + "p": ns.Ifindex(own + "p"),
	}

	t.Run("by name", func(t *testing.T) {
		if diff := nl.Diff(after, links(t, byName)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("by path", func(t *testing.T) {
		c := dial(t, &nl.Config{NetNS: ns.Path()})
		if diff := nl.Diff(after, links(t, c)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("by /proc/PID/ns/net", func(t *testing.T) {
		// A process inside the namespace, as a container runtime would
		// name it (CNI_NETNS).
		cmd := exec.Command("ip", "netns", "exec", ns.Name, "sh", "-c", "echo ready; exec sleep 60")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}()
		if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("helper process: %q, %v", line, err)
		}
		c := dial(t, &nl.Config{NetNS: fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)})
		if diff := nl.Diff(after, links(t, c)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("caller's namespace", func(t *testing.T) {
		for _, cfg := range []*nl.Config{nil, {}} {
			root := links(t, dial(t, cfg))
			if _, ok := root[own]; ok {
				t.Fatalf("%s is visible outside its namespace: %v", own, root)
			}
			if _, ok := root["lo"]; !ok {
				t.Fatalf("no lo in the caller's namespace: %v", root)
			}
		}
	})
}

func TestDialErrors(t *testing.T) {
	notNS := filepath.Join(t.TempDir(), "not-a-netns")
	if err := os.WriteFile(notNS, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := fmt.Sprintf("tcwire-no-such-ns-%d", os.Getpid())

	tests := []struct {
		name  string
		netns string
		is    error
		// want are substrings of the error: the namespace must be named.
		want []string
	}{
		{
			name:  "missing name",
			netns: missing,
			is:    fs.ErrNotExist,
			want:  []string{`"` + missing + `"`, "/run/netns/" + missing},
		},
		{
			name:  "missing path",
			netns: "/run/netns/" + missing,
			is:    fs.ErrNotExist,
			want:  []string{"/run/netns/" + missing},
		},
		{
			name:  "regular file",
			netns: notNS,
			want:  []string{notNS, "not a network namespace"},
		},
		{
			name:  "directory",
			netns: t.TempDir(),
			want:  []string{"not a network namespace"},
		},
		{
			name:  "mount namespace",
			netns: "/proc/self/ns/mnt",
			want:  []string{"/proc/self/ns/mnt", "not a network namespace"},
		},
		{
			name:  "proc file that is not a namespace",
			netns: "/proc/self/status",
			want:  []string{"/proc/self/status: not a network namespace"},
		},
		{
			name:  "invalid name",
			netns: "..",
			want:  []string{`".."`, "invalid"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := nl.Dial(&nl.Config{NetNS: tt.netns})
			if err == nil {
				_ = c.Close()
				t.Fatalf("Dial(%q) succeeded", tt.netns)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(err, %v) = false: %v", tt.is, err)
			}
			for _, w := range append(tt.want, "nl: dial: ") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q: %v", w, err)
				}
			}
		})
	}
}

func TestDoEmpty(t *testing.T) {
	c := dial(t, nil)
	if errs := c.Do(); len(errs) != 0 {
		t.Fatalf("Do() = %v", errs)
	}
}

// batch is the three-request batch of TestDoBatch: add ingress on eth0,
// the same again, and add ingress on a missing device.
func batch(eth0 int) []nl.Request {
	return []nl.Request{
		ingressRequest(int32(eth0), "tc qdisc add dev eth0 ingress"),
		ingressRequest(int32(eth0), "tc qdisc add dev eth0 ingress (again)"),
		ingressRequest(99999, "tc qdisc add dev nosuchdev ingress"),
	}
}

// checkBatch checks Do's answer to batch: success, EEXIST with the
// kernel's text, ENODEV, in order, each naming its command.
func checkBatch(t *testing.T, reqs []nl.Request, errs []error) {
	t.Helper()
	if len(errs) != 3 {
		t.Fatalf("Do returned %d errors, want 3", len(errs))
	}
	if errs[0] != nil {
		t.Errorf("first add: %v", errs[0])
	}

	var e *nl.Error
	if !errors.Is(errs[1], unix.EEXIST) || !errors.As(errs[1], &e) {
		t.Fatalf("second add: want *nl.Error with EEXIST, got %T %v", errs[1], errs[1])
	}
	if !strings.Contains(e.Message, "Exclusivity flag on") {
		t.Errorf("second add: no ext-ack text: Message %q", e.Message)
	}
	if e.Cmd != reqs[1].Cmd {
		t.Errorf("second add: Cmd %q, want %q", e.Cmd, reqs[1].Cmd)
	}

	if !errors.Is(errs[2], unix.ENODEV) && !errors.Is(errs[2], unix.EINVAL) {
		t.Errorf("add on a missing device: want ENODEV or EINVAL, got %v", errs[2])
	}
	for i, err := range errs[1:] {
		if !strings.HasPrefix(err.Error(), reqs[i+1].Cmd+": ") {
			t.Errorf("error %d does not name its command %q: %v", i+1, reqs[i+1].Cmd, err)
		}
	}
	t.Logf("batch errors: %v", errs)
}

func TestDoBatch(t *testing.T) {
	ns := nstest.New(t)
	ipn(t, ns, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	eth0 := ns.Ifindex("eth0")
	c := dial(t, &nl.Config{NetNS: ns.Name})

	reqs := batch(eth0)
	checkBatch(t, reqs, c.Do(reqs...))

	if !ingressOn(t, c, eth0) {
		t.Fatal("no ingress qdisc on eth0 after the batch")
	}

	// The Conn is still in step: a delete, then a second delete of what
	// is gone ("already gone" is ENOENT or EINVAL).
	if err := c.Exec(ingressDel(int32(eth0), "tc qdisc del dev eth0 ingress")); err != nil {
		t.Fatalf("delete: %v", err)
	}
	err := c.Exec(ingressDel(int32(eth0), "tc qdisc del dev eth0 ingress"))
	if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) {
		t.Fatalf("second delete: want ENOENT or EINVAL, got %v", err)
	}
	if ingressOn(t, c, eth0) {
		t.Fatal("ingress qdisc still on eth0")
	}
}

// TestDoOneSendmsg runs TestDoBatchHelper under strace and checks that the
// three requests went out in a single sendmsg.
func TestDoOneSendmsg(t *testing.T) {
	if os.Getenv("NL_TEST_BATCH_HELPER") == "1" {
		t.Skip("already the helper")
	}
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "strace")

	trace := filepath.Join(t.TempDir(), "strace.out")
	cmd := exec.Command("strace", "-f", "-qq", "-e", "trace=sendmsg", "-e", "signal=none", "-o", trace,
		os.Args[0], "-test.run", "^TestDoBatchHelper$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "NL_TEST_BATCH_HELPER=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDoBatchHelper") {
		t.Fatalf("helper under strace: %v\n%s", err, out)
	}
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	// strace names the type RTM_NEWQDISC when it knows the socket is
	// NETLINK_ROUTE, and prints 0x24 otherwise.
	newqdisc := regexp.MustCompile(`nlmsg_type=(RTM_NEWQDISC|0x24\b)`)
	var calls []string
	for _, line := range strings.Split(string(b), "\n") {
		if newqdisc.MatchString(line) {
			calls = append(calls, line)
		}
	}
	if len(calls) != 1 {
		t.Fatalf("RTM_NEWQDISC went out in %d sendmsg calls, want 1:\n%s", len(calls), strings.Join(calls, "\n"))
	}
	if n := len(newqdisc.FindAllString(calls[0], -1)); n != 3 || !strings.HasSuffix(calls[0], ") = 144") {
		t.Fatalf("want one sendmsg of 3 × 48 bytes, got %d RTM_NEWQDISC:\n%s", n, calls[0])
	}
}

// TestDoBatchHelper is TestDoBatch's batch alone, run by TestDoOneSendmsg.
func TestDoBatchHelper(t *testing.T) {
	if os.Getenv("NL_TEST_BATCH_HELPER") != "1" {
		t.Skip("run by TestDoOneSendmsg")
	}
	ns := nstest.New(t)
	ipn(t, ns, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	eth0 := ns.Ifindex("eth0")
	c := dial(t, &nl.Config{NetNS: ns.Name})
	reqs := batch(eth0)
	checkBatch(t, reqs, c.Do(reqs...))
}

func TestExecDumpErrors(t *testing.T) {
	ns := nstest.New(t)
	c := dial(t, &nl.Config{NetNS: ns.Name})

	err := c.Exec(ingressRequest(99999, "tc qdisc add dev nosuchdev ingress"))
	var e *nl.Error
	if !errors.As(err, &e) || !errors.Is(err, unix.ENODEV) && !errors.Is(err, unix.EINVAL) {
		t.Fatalf("Exec on a missing device: %T %v", err, err)
	}
	if e.Cmd != "tc qdisc add dev nosuchdev ingress" {
		t.Errorf("Cmd %q", e.Cmd)
	}

	// A GETLINK dump with a non-zero ifi_type is refused by strict
	// checking; the error names the command, and the Conn stays usable.
	bad := linkDump
	bad.Data = make([]byte, unix.SizeofIfInfomsg)
	bad.Data[2] = 1
	bad.Cmd = "ip link show (bad header)"
	if _, err := c.Dump(bad); err == nil || !strings.HasPrefix(err.Error(), bad.Cmd+": ") || !errors.Is(err, unix.EINVAL) {
		t.Errorf("bad dump: %v", err)
	} else {
		t.Logf("bad dump: %v", err)
	}
	if diff := nl.Diff(map[string]int{"lo": 1}, links(t, c)); diff != "" {
		t.Fatalf("after errors (-want +got):\n%s", diff)
	}
}

func TestConcurrent(t *testing.T) {
	ns := nstest.New(t)
	const devices = 6
	want := map[string]int{"lo": 1}
	for i := range devices {
		name := fmt.Sprintf("d%d", i)
		ipn(t, ns, "link", "add", name, "type", "veth", "peer", "name", name+"p")
		want[name] = ns.Ifindex(name)
		want[name+"p"] = ns.Ifindex(name + "p")
	}
	c := dial(t, &nl.Config{NetNS: ns.Name})

	const rounds = 25
	var wg sync.WaitGroup
	for i := range devices {
		dev := fmt.Sprintf("d%d", i)
		idx := int32(want[dev])
		add := ingressRequest(idx, "tc qdisc add dev "+dev+" ingress")
		del := ingressDel(idx, "tc qdisc del dev "+dev+" ingress")

		// Exec: each goroutine owns one device, so it knows what each
		// of its requests must get back.
		wg.Go(func() {
			for range rounds {
				if err := c.Exec(add); err != nil {
					t.Errorf("%s: %v", dev, err)
					return
				}
				err := c.Exec(add)
				var e *nl.Error
				if !errors.Is(err, unix.EEXIST) || !errors.As(err, &e) || e.Cmd != add.Cmd {
					t.Errorf("%s: second add: %v", dev, err)
					return
				}
				if err := c.Exec(del); err != nil {
					t.Errorf("%s: delete: %v", dev, err)
					return
				}
				err = c.Exec(del)
				if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EINVAL) || !strings.HasPrefix(err.Error(), del.Cmd) {
					t.Errorf("%s: second delete: %v", dev, err)
					return
				}
			}
		})
		// Dump: every reply is a link of this namespace, all of them.
		wg.Go(func() {
			for range rounds {
				msgs, err := c.Dump(linkDump)
				if err != nil {
					t.Errorf("dump: %v", err)
					return
				}
				got, err := parseLinks(msgs)
				if err != nil {
					t.Errorf("dump: %v", err)
					return
				}
				if nl.Diff(want, got) != "" {
					t.Errorf("dump: %v, want %v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestConcurrentBatches(t *testing.T) {
	ns := nstest.New(t)
	const devices = 4
	idx := make([]int32, devices)
	for i := range devices {
		name := fmt.Sprintf("b%d", i)
		ipn(t, ns, "link", "add", name, "type", "veth", "peer", "name", name+"p")
		idx[i] = int32(ns.Ifindex(name))
	}
	c := dial(t, &nl.Config{NetNS: ns.Name})

	var wg sync.WaitGroup
	for i := range devices {
		dev := fmt.Sprintf("b%d", i)
		add := ingressRequest(idx[i], "tc qdisc add dev "+dev+" ingress")
		del := ingressDel(idx[i], "tc qdisc del dev "+dev+" ingress")
		wg.Go(func() {
			for range 25 {
				errs := c.Do(add, add, del, del)
				ok := len(errs) == 4 && errs[0] == nil && errors.Is(errs[1], unix.EEXIST) && errs[2] == nil &&
					(errors.Is(errs[3], unix.ENOENT) || errors.Is(errs[3], unix.EINVAL))
				if !ok {
					t.Errorf("%s: batch: %v", dev, errs)
					return
				}
				for j, err := range errs {
					want := []string{add.Cmd, add.Cmd, del.Cmd, del.Cmd}[j]
					if err != nil && !strings.HasPrefix(err.Error(), want+": ") {
						t.Errorf("%s: error %d names another command: %v", dev, j, err)
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestDoLargeBatch: thousands of requests in one Do, refusals with the
// kernel's text among them. Their acknowledgements would overflow the
// socket's receive buffer in one sendmsg (the kernel drops what does not
// fit: ENOBUFS, outcomes unknown, and the Conn left out of step); Do sends
// them in chunks that fit, so every request gets its own answer.
func TestDoLargeBatch(t *testing.T) {
	ns := nstest.New(t)
	ipn(t, ns, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	eth0 := int32(ns.Ifindex("eth0"))
	c := dial(t, &nl.Config{NetNS: ns.Name})
	add := ingressRequest(eth0, "tc qdisc add dev eth0 ingress")
	del := ingressDel(eth0, "tc qdisc del dev eth0 ingress")
	const rounds = 1000
	var reqs []nl.Request
	for range rounds {
		reqs = append(reqs, add, add, del) // ok, EEXIST, ok
	}
	start := time.Now()
	errs := c.Do(reqs...)
	t.Logf("%d requests in %v", len(reqs), time.Since(start))
	for i, err := range errs {
		want := i%3 == 1
		if want && (!errors.Is(err, unix.EEXIST) || !strings.Contains(err.Error(), "Exclusivity flag on")) || !want && err != nil {
			t.Fatalf("request %d (%s): %v", i, reqs[i].Cmd, err)
		}
	}
	if ingressOn(t, c, int(eth0)) {
		t.Fatal("ingress qdisc left on eth0")
	}
	if err := c.Exec(add); err != nil {
		t.Fatalf("after the batch: %v", err)
	}
}

// TestDumpEachLive: DumpEach walks the same replies as Dump, against the
// kernel, with more links than one datagram holds.
func TestDumpEachLive(t *testing.T) {
	ns := nstest.New(t)
	for i := range 40 {
		ipn(t, ns, "link", "add", fmt.Sprintf("v%d", i), "type", "veth", "peer", "name", fmt.Sprintf("p%d", i))
	}
	c := dial(t, &nl.Config{NetNS: ns.Name})
	want := links(t, c)
	var got []nl.Message
	if err := c.DumpEach(linkDump, func(m nl.Message) error {
		got = append(got, nl.Message{Header: m.Header, Data: bytes.Clone(m.Data)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	m, err := parseLinks(got)
	if err != nil {
		t.Fatal(err)
	}
	if d := nl.Diff(want, m); d != "" || len(m) != 81 {
		t.Fatalf("DumpEach saw %d links, Dump %d (-Dump +DumpEach):\n%s", len(m), len(want), d)
	}
}
