package main

// End-to-end tests of tcwire -batch: files of attach and detach lines run
// against throwaway namespaces, with ip and tc as the oracles.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

// pairsNS is a namespace with n veth pairs eI–pI, all up, made by one
// ip -batch.
func pairsNS(t *testing.T, n int) *nstest.NS {
	t.Helper()
	ns := nstest.New(t)
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "link add e%d type veth peer name p%d\nlink set e%d up\nlink set p%d up\n", i, i, i, i)
	}
	cmd := exec.Command("ip", "-n", ns.Name, "-batch", "-")
	cmd.Stdin = strings.NewReader(b.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip -batch: %v: %s", err, out)
	}
	return ns
}

// batchFile writes lines to a file of the test's and returns its path.
func batchFile(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lab.batch")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// attachLines are "attach eI tI" for i in [from, to).
func attachLines(from, to int, extra string) []string {
	var ls []string
	for i := range to - from {
		ls = append(ls, strings.TrimSpace(fmt.Sprintf("attach e%d t%d %s", from+i, from+i, extra)))
	}
	return ls
}

// checkWired fails t unless eI and tI redirect to each other, as tc shows.
func checkWired(t *testing.T, ns *nstest.NS, i int) {
	t.Helper()
	dev, tap := fmt.Sprintf("e%d", i), fmt.Sprintf("t%d", i)
	for _, d := range [][2]string{{dev, tap}, {tap, dev}} {
		if f := ingressFilters(t, ns, d[0]); !strings.Contains(f, "mirred (Egress Redirect to device "+d[1]+")") {
			t.Errorf("%s does not redirect to %s:\n%s", d[0], d[1], f)
		}
	}
	if l := mustLink(t, ns, tap); !l.up() || l.Alias != "tcwire" || !l.LinkInfo.Data.Persist || l.Qdisc != "noqueue" {
		t.Errorf("%s: %+v: want a persistent tap of tcwire's, up, noqueue", tap, l)
	}
}

// batchSnapshot is snapshot for namespaces of hundreds of devices: the
// filters of all of them read by one tc -batch rather than a tc process
// each.
func batchSnapshot(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	ns.Settle()
	ls := ns.Run("ip", "-d", "-j", "link", "show")
	var names []struct {
		Name string `json:"ifname"`
	}
	if err := json.Unmarshal([]byte(ls), &names); err != nil {
		t.Fatal(err)
	}
	var show strings.Builder
	for _, l := range names {
		fmt.Fprintf(&show, "filter show dev %s parent ffff:\n", l.Name)
	}
	cmd := exec.Command("tc", "-n", ns.Name, "-d", "-force", "-batch", "-")
	cmd.Stdin = strings.NewReader(show.String())
	filters, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tc -batch: %v: %s", err, filters)
	}
	return "### tc -d qdisc show\n" + ns.Run("tc", "-d", "qdisc", "show") + "### filters\n" + string(filters) + "### ip -d -j link show\n" + ls
}

// tapsOf lists the names of the namespace's taps.
func tapsOf(t *testing.T, ns *nstest.NS) map[string]bool {
	t.Helper()
	taps := map[string]bool{}
	for _, l := range links(t, ns) {
		if l.LinkInfo.Kind == "tun" {
			taps[l.Name] = true
		}
	}
	return taps
}

// TestBatch runs a file of 200 attach lines (the taps created), runs it
// again (nothing changes), then a file of the 200 detach lines (nothing
// left).
func TestBatch(t *testing.T) {
	const n = 200
	ns := pairsNS(t, n)
	initial := batchSnapshot(t, ns)
	lines := append([]string{"# a lab's links", ""}, attachLines(0, n, "")...)
	file := batchFile(t, lines...)
	r := mustTcwire(t, "--netns", ns.Name, "-batch", file)
	macs := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(macs) != n {
		t.Fatalf("printed %d lines for %d attach lines:\n%s", len(macs), n, r)
	}
	byName := map[string]ipLink{}
	for _, l := range links(t, ns) {
		byName[l.Name] = l
	}
	for i, mac := range macs {
		if want := byName[fmt.Sprintf("e%d", i)].Address; mac != want {
			t.Errorf("line %d printed %s, want e%d's MAC %s", i+3, mac, i, want)
		}
	}
	if got := len(tapsOf(t, ns)); got != n {
		t.Errorf("%d taps, want %d", got, n)
	}
	if q := strings.Count(ns.Run("tc", "qdisc", "show", "ingress"), "qdisc ingress ffff:"); q != 2*n {
		t.Errorf("%d ingress qdiscs, want %d", q, 2*n)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		checkWired(t, ns, i)
	}
	// What a single attach leaves is what the batch left.
	one := pairsNS(t, 1)
	mustTcwire(t, "--netns", one.Name, "attach", "e0", "t0")
	if got, want := tcState(t, ns, "e0", "t0"), tcState(t, one, "e0", "t0"); got != want {
		t.Errorf("the batch's e0/t0:\n%s\na single attach's:\n%s", got, want)
	}

	wired := batchSnapshot(t, ns)
	r2 := mustTcwire(t, "--netns", ns.Name, "-batch", file)
	if r2.stdout != r.stdout {
		t.Errorf("the rerun printed\n%s\nthe first run\n%s", r2.stdout, r.stdout)
	}
	sameState(t, "running the file again", wired, batchSnapshot(t, ns))

	var detach []string
	for _, l := range lines {
		detach = append(detach, strings.Replace(l, "attach", "detach", 1))
	}
	mustTcwire(t, "--netns", ns.Name, "-batch", batchFile(t, detach...))
	sameState(t, "the detach file", initial, batchSnapshot(t, ns))
}

// TestBatchBadLine: a line that fails stops the batch, named with its file
// and line; the lines before it stay done, the ones after are not run,
// and the corrected file converges. --force goes on past it.
func TestBatchBadLine(t *testing.T) {
	const n, bad = 10, 6 // line 6 is entry 5
	ns := pairsNS(t, n)
	lines := attachLines(0, n, "")
	lines[bad-1] = "attach nosuch t5"
	file := batchFile(t, lines...)
	r := runTcwire(t, "--netns", ns.Name, "-batch", file)
	want := fmt.Sprintf("%s:%d: attach nosuch t5: nosuch: no such device\n", file, bad)
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stdout, "\n") != bad-1 {
		t.Fatalf("want exit 1, %d MACs and %q first on stderr; got %s", bad-1, want, r)
	}
	taps := tapsOf(t, ns)
	for i := range n {
		if done := i < bad-1; taps[fmt.Sprintf("t%d", i)] != done {
			t.Errorf("t%d exists: %v, want %v (lines before line %d done, the others not run)", i, !done, done, bad)
		}
	}
	for i := range bad - 1 {
		checkWired(t, ns, i)
	}

	// --force: every other line done, the bad one reported, exit 1.
	r = runTcwire(t, "--netns", ns.Name, "--force", "--json", "-batch", file)
	var objs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &objs); err != nil || r.code != 1 || len(objs) != n {
		t.Fatalf("--force --json: %v; want exit 1 and %d objects: %s", err, n, r)
	}
	for i, o := range objs {
		line := fmt.Sprint(o["line"])
		switch {
		case line != fmt.Sprint(i+1):
			t.Errorf("object %d is line %s", i, line)
		case i+1 == bad && !strings.Contains(fmt.Sprint(o["error"]), "attach nosuch t5: nosuch: no such device"):
			t.Errorf("line %d: %v, want its error", bad, o)
		case i+1 != bad && (o["op"] != "attach" || o["tap"] != fmt.Sprintf("t%d", i) || o["created"] != (i >= bad)):
			t.Errorf("line %d: %v", i+1, o)
		}
	}
	if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "1 line failed") {
		t.Errorf("--force: stderr %q", r.stderr)
	}
	for i := range n {
		if i != bad-1 {
			checkWired(t, ns, i)
		}
	}

	// The corrected file converges: line 6 is done, nothing else changes.
	lines[bad-1] = "attach e5 t5"
	mustTcwire(t, "--netns", ns.Name, "-batch", batchFile(t, lines...))
	checkWired(t, ns, bad-1)
	if got := len(tapsOf(t, ns)); got != n {
		t.Errorf("%d taps, want %d", got, n)
	}
}

// TestBatchNamespaces: lines in two namespaces, by the global --netns and
// a line's own, read from stdin.
func TestBatchNamespaces(t *testing.T) {
	a, b := pairsNS(t, 3), pairsNS(t, 3)
	input := strings.Join([]string{
		"attach e0 t0",
		"--netns " + b.Name + " attach e0 t0",
		"attach e1 t1 --netns " + b.Name,
		"attach e1 t1   # the global namespace",
		fmt.Sprintf(`--netns "%s" attach e2 t2 --mtu 9000`, b.Path()),
		"attach e2 t2",
	}, "\n")
	cmd := exec.Command(tcwireBin, "--netns", a.Name, "-batch", "-")
	cmd.Stdin = strings.NewReader(input)
	r := runCmd(t, cmd, "tcwire -batch -")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 6 {
		t.Fatalf("%s", r)
	}
	for _, ns := range []*nstest.NS{a, b} {
		for i := range 3 {
			checkWired(t, ns, i)
		}
	}
	if m := mustLink(t, b, "t2").MTU; m != 9000 {
		t.Errorf("t2 in %s: MTU %d, want 9000", b.Name, m)
	}
	if m := mustLink(t, a, "t2").MTU; m != 1500 {
		t.Errorf("t2 in %s: MTU %d, want 1500", a.Name, m)
	}

	// A detach file, from stdin too, leaves nothing in either.
	cmd = exec.Command(tcwireBin, "--netns", a.Name, "--json", "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.ReplaceAll(strings.ReplaceAll(input, "attach", "detach"), " --mtu 9000", ""))
	r = runCmd(t, cmd, "tcwire -batch - (detach)")
	var objs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &objs); err != nil || r.code != 0 || len(objs) != 6 || objs[5]["op"] != "detach" {
		t.Fatalf("%v: %s", err, r)
	}
	for _, ns := range []*nstest.NS{a, b} {
		if taps := tapsOf(t, ns); len(taps) != 0 {
			t.Errorf("%s: taps left: %v", ns.Name, taps)
		}
		if q := ns.Run("tc", "qdisc", "show", "ingress"); strings.TrimSpace(q) != "" {
			t.Errorf("%s: ingress qdiscs left:\n%s", ns.Name, q)
		}
	}
}
