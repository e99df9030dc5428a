package main

// End-to-end tests: the tcwire binary, built once by TestMain, run with
// --netns against throwaway namespaces (internal/nstest), with iproute2's
// own view of the kernel (`tc -d qdisc show`, `tc -d filter show`,
// `ip -d -j link show`) as the oracle. Nothing runs in the root namespace.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
)

// buildFlags are the go build flags of the binary under test (race_test.go
// adds -race).
var buildFlags []string

// tcwireBin is the binary under test; tcwireIfup is a tcwire-ifup symlink
// to it (qemu's script= name).
var tcwireBin, tcwireIfup string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	flag.Parse()
	if fuzzing() {
		// The fuzz targets run no binary: do not build one in the
		// coordinator and in every fuzz worker.
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "tcwire-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Readable and searchable by anyone: the no-CAP_NET_ADMIN tests run the
	// binary as nobody.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tcwireBin = filepath.Join(dir, "tcwire")
	tcwireIfup = filepath.Join(dir, "tcwire-ifup")
	cmd := exec.Command(goTool(), append(append([]string{"build"}, buildFlags...), "-o", tcwireBin, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build -o %s .: %v\n%s", tcwireBin, err, out)
		return 1
	}
	if err := os.Symlink("tcwire", tcwireIfup); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// fuzzing reports whether the test binary runs with -test.fuzz (the
// coordinator and its workers alike).
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); runtime.GOROOT() != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// execute runs argv and returns its exit status and output; it fails t only
// when the program cannot be run at all.
func execute(t testing.TB, argv ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return runCmd(t, exec.CommandContext(ctx, argv[0], argv[1:]...), strings.Join(argv, " "))
}

// runCmd runs cmd and returns its exit status and output; it fails t only when
// the program cannot be run at all (what names it in that message).
func runCmd(t testing.TB, cmd *exec.Cmd, what string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%s: %v\n%s", what, err, r)
	}
	return r
}

// runTcwire runs the binary with args.
func runTcwire(t testing.TB, args ...string) result {
	t.Helper()
	return execute(t, append([]string{tcwireBin}, args...)...)
}

// mustTcwire runs the binary with args and fails t unless it exits 0.
func mustTcwire(t testing.TB, args ...string) result {
	t.Helper()
	r := runTcwire(t, args...)
	if r.code != 0 {
		t.Fatalf("tcwire %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// vethNS is a fresh namespace with eth0 and its veth peer peer0: lo=1,
// peer0=2, eth0=3 (veth registers the peer first), as in testdata/tc.
func vethNS(t *testing.T) *nstest.NS {
	t.Helper()
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	return ns
}

// ipLink is the part of `ip -d -j link show` the tests read.
type ipLink struct {
	Ifindex  int      `json:"ifindex"`
	Name     string   `json:"ifname"`
	Flags    []string `json:"flags"`
	MTU      int      `json:"mtu"`
	Qdisc    string   `json:"qdisc"`
	Address  string   `json:"address"`
	Alias    string   `json:"ifalias"`
	NumTxQ   int      `json:"num_tx_queues"`
	LinkInfo struct {
		Kind string `json:"info_kind"`
		Data struct {
			Type       string `json:"type"`
			PI         bool   `json:"pi"`
			VnetHdr    bool   `json:"vnet_hdr"`
			MultiQueue bool   `json:"multi_queue"`
			Persist    bool   `json:"persist"`
			User       *ipID  `json:"user"`
			Group      *ipID  `json:"group"`
		} `json:"info_data"`
	} `json:"linkinfo"`
}

// ipID is a tap's user or group as ip -j prints it: a name when the id
// resolves ("root"), else the number.
type ipID string

func (id *ipID) UnmarshalJSON(b []byte) error {
	*id = ipID(strings.Trim(string(b), `"`))
	return nil
}

func (l ipLink) up() bool {
	for _, f := range l.Flags {
		if f == "UP" {
			return true
		}
	}
	return false
}

// links lists the namespace's devices as `ip -d -j link show` sees them.
func links(t *testing.T, ns *nstest.NS) []ipLink {
	t.Helper()
	var ls []ipLink
	if err := json.Unmarshal([]byte(ns.Run("ip", "-d", "-j", "link", "show")), &ls); err != nil {
		t.Fatalf("ip -d -j link show: %v", err)
	}
	return ls
}

// linkOf returns one device, or nil when it does not exist.
func linkOf(t *testing.T, ns *nstest.NS, name string) *ipLink {
	t.Helper()
	for _, l := range links(t, ns) {
		if l.Name == name {
			return &l
		}
	}
	return nil
}

func mustLink(t *testing.T, ns *nstest.NS, name string) *ipLink {
	t.Helper()
	l := linkOf(t, ns, name)
	if l == nil {
		t.Fatalf("[netns %s] %s does not exist", ns.Name, name)
	}
	return l
}

// ingressFilters is `tc -d filter show dev DEV parent ffff:`, or `… ingress`
// (parent ffff:fff2) on clsact, where parent ffff: shows nothing.
func ingressFilters(t *testing.T, ns *nstest.NS, dev string) string {
	t.Helper()
	if strings.Contains(ns.Run("tc", "qdisc", "show", "dev", dev, "clsact"), "clsact") {
		return ns.Run("tc", "-d", "filter", "show", "dev", dev, "ingress")
	}
	return ns.Run("tc", "-d", "filter", "show", "dev", dev, "parent", "ffff:")
}

// snapshot is the namespace's kernel state as iproute2 prints it: every
// qdisc, every device's ingress filters, every link.
func snapshot(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	ns.Settle()
	var b strings.Builder
	b.WriteString("### tc -d qdisc show\n")
	b.WriteString(ns.Run("tc", "-d", "qdisc", "show"))
	ls := links(t, ns)
	sort.Slice(ls, func(i, j int) bool { return ls[i].Ifindex < ls[j].Ifindex })
	for _, l := range ls {
		fmt.Fprintf(&b, "### filters of %s\n%s", l.Name, ingressFilters(t, ns, l.Name))
	}
	b.WriteString("### ip -d -j link show\n")
	b.WriteString(ns.Run("ip", "-d", "-j", "link", "show"))
	return b.String()
}

func sameState(t *testing.T, what, before, after string) {
	t.Helper()
	if before != after {
		t.Errorf("%s changed the kernel state:\n--- before\n%s\n--- after\n%s", what, before, after)
	}
}

// tcState is the tc view of devs: their ingress qdisc and ingress filters.
func tcState(t *testing.T, ns *nstest.NS, devs ...string) string {
	t.Helper()
	var b strings.Builder
	for _, d := range devs {
		fmt.Fprintf(&b, "### %s\n%s%s", d, ns.Run("tc", "-d", "qdisc", "show", "dev", d, "ingress"), ingressFilters(t, ns, d))
	}
	return b.String()
}

// tcWire runs the four tc commands tcwire replaces.
func tcWire(ns *nstest.NS, dev, tap string) {
	for _, pair := range [][2]string{{dev, tap}, {tap, dev}} {
		ns.Run("tc", "qdisc", "add", "dev", pair[0], "ingress")
		ns.Run("tc", "filter", "add", "dev", pair[0], "parent", "ffff:", "protocol", "all",
			"u32", "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", pair[1])
	}
}

// TestAttach: attach creates the tap as a VMM wants it and wires it exactly
// as the four tc commands do.
func TestAttach(t *testing.T) {
	ns := vethNS(t)
	ns.Run("ip", "link", "set", "eth0", "mtu", "9000")
	r := mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
	eth0 := mustLink(t, ns, "eth0")
	if r.stdout != eth0.Address+"\n" {
		t.Errorf("stdout %q, want eth0's MAC %q", r.stdout, eth0.Address)
	}

	tap := mustLink(t, ns, "tap0")
	d := tap.LinkInfo.Data
	if tap.LinkInfo.Kind != "tun" || d.Type != "tap" {
		t.Errorf("tap0 is %s/%s, want tun/tap", tap.LinkInfo.Kind, d.Type)
	}
	// Without --owner the tap belongs to the caller (root here), so that
	// no other user can open or delete it.
	if d.User == nil || (*d.User != "root" && *d.User != "0") || d.Group != nil {
		t.Errorf("tap0 user %v group %v, want the caller (root) and no group", d.User, d.Group)
	}
	if !d.Persist || !d.VnetHdr || d.PI || d.MultiQueue {
		t.Errorf("tap0: persist %v vnet_hdr %v pi %v multi_queue %v, want true true false false", d.Persist, d.VnetHdr, d.PI, d.MultiQueue)
	}
	if tap.MTU != 9000 {
		t.Errorf("tap0 mtu %d, want eth0's 9000", tap.MTU)
	}
	if tap.Alias != "tcwire" {
		t.Errorf("tap0 alias %q, want tcwire", tap.Alias)
	}
	if !tap.up() {
		t.Errorf("tap0 is not up: %v", tap.Flags)
	}
	if tap.Qdisc != "noqueue" {
		t.Errorf("tap0 root qdisc %q, want noqueue", tap.Qdisc)
	}
	if tap.Ifindex != 4 {
		t.Fatalf("tap0 has ifindex %d, want 4 (the twin comparison needs the same order)", tap.Ifindex)
	}

	// The twin: the same devices, in the same order, wired by tc.
	twin := vethNS(t)
	twin.Run("ip", "link", "set", "eth0", "mtu", "9000")
	twin.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "vnet_hdr", "user", "0")
	tcWire(twin, "eth0", "tap0")
	if got, want := tcState(t, ns, "eth0", "tap0"), tcState(t, twin, "eth0", "tap0"); got != want {
		t.Errorf("tcwire's state differs from tc's:\n--- tcwire\n%s\n--- tc\n%s", got, want)
	}
}

// attachJSON is the --json output of attach.
type attachJSON struct {
	Dev     string `json:"dev"`
	Tap     string `json:"tap"`
	Ifindex int    `json:"ifindex"`
	MAC     string `json:"mac"`
	MTU     int    `json:"mtu"`
	Queues  int    `json:"queues"`
	Created bool   `json:"created"`
}

func TestAttachJSONQueuesOwner(t *testing.T) {
	ns := vethNS(t)
	r := mustTcwire(t, "--netns", ns.Name, "--json", "attach", "eth0", "tap0", "--queues", "4", "--owner", "1234", "--group", "5678")
	var got attachJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("--json output %q: %v", r.stdout, err)
	}
	eth0, tap := mustLink(t, ns, "eth0"), mustLink(t, ns, "tap0")
	want := attachJSON{Dev: "eth0", Tap: "tap0", Ifindex: tap.Ifindex, MAC: eth0.Address, MTU: eth0.MTU, Queues: 4, Created: true}
	if got != want {
		t.Errorf("--json: got %+v, want %+v", got, want)
	}
	d := tap.LinkInfo.Data
	if !d.MultiQueue {
		t.Errorf("tap0 is not multi_queue")
	}
	if d.User == nil || *d.User != "1234" || d.Group == nil || *d.Group != "5678" {
		t.Errorf("tap0 user %v group %v, want 1234 5678", d.User, d.Group)
	}

	// Attaching again reports the existing tap.
	r = mustTcwire(t, "--netns", ns.Name, "--json", "attach", "eth0", "tap0")
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("--json output %q: %v", r.stdout, err)
	}
	if got.Created || got.Tap != "tap0" || got.Ifindex != tap.Ifindex || got.MAC != eth0.Address {
		t.Errorf("second --json attach: %+v", got)
	}
}

func TestAttachTapQdiscKeep(t *testing.T) {
	ns := vethNS(t)
	mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0", "--tap-qdisc", "keep")
	if q := mustLink(t, ns, "tap0").Qdisc; q == "noqueue" {
		t.Errorf("--tap-qdisc keep: tap0's root qdisc is noqueue")
	}
	if out := ns.Run("tc", "qdisc", "show", "dev", "tap0"); strings.Contains(out, "noqueue") {
		t.Errorf("--tap-qdisc keep: %s", out)
	}
}

func TestAttachIdempotent(t *testing.T) {
	ns := vethNS(t)
	first := mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
	before := snapshot(t, ns)
	second := mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
	sameState(t, "a second attach", before, snapshot(t, ns))
	if first.stdout != second.stdout {
		t.Errorf("second attach printed %q, first %q", second.stdout, first.stdout)
	}
}

// foreignFilter is a filter someone else put on eth0's clsact.
var foreignFilter = []string{"tc", "filter", "add", "dev", "eth0", "ingress", "pref", "5", "protocol", "ip",
	"u32", "match", "ip", "protocol", "17", "0xff", "action", "mirred", "egress", "mirror", "dev", "peer0", "continue"}

// pref5 is the text of the filters with pref 5 in a filter dump.
func pref5(dump string) string {
	var b strings.Builder
	keep := false
	for _, line := range strings.SplitAfter(dump, "\n") {
		if strings.HasPrefix(line, "filter ") {
			keep = strings.Contains(line, " pref 5 ")
		}
		if keep {
			b.WriteString(line)
		}
	}
	return b.String()
}

func TestAttachClsact(t *testing.T) {
	ns := vethNS(t)
	ns.Run("tc", "qdisc", "add", "dev", "eth0", "clsact")
	ns.Run(foreignFilter[0], foreignFilter[1:]...)
	initial := snapshot(t, ns)
	foreign := pref5(ingressFilters(t, ns, "eth0"))
	if foreign == "" {
		t.Fatalf("no pref 5 filter in\n%s", ingressFilters(t, ns, "eth0"))
	}

	mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
	if out := ns.Run("tc", "qdisc", "show", "dev", "eth0"); !strings.Contains(out, "qdisc clsact ffff:") || strings.Contains(out, "qdisc ingress") {
		t.Errorf("attach did not reuse eth0's clsact:\n%s", out)
	}
	filters := ingressFilters(t, ns, "eth0")
	if !strings.Contains(filters, "Egress Redirect to device tap0") {
		t.Errorf("no redirect to tap0 on eth0's clsact:\n%s", filters)
	}
	if got := pref5(filters); got != foreign {
		t.Errorf("the foreign filter changed:\n--- before\n%s\n--- after\n%s", foreign, got)
	}
	rows := showJSON(t, ns)
	var found bool
	for _, r := range rows {
		if r.Dev == "eth0" && r.Target == "tap0" {
			found = true
			if r.Parent != "ffff:fff2" || !r.Wire {
				t.Errorf("eth0 → tap0: %+v, want parent ffff:fff2, wire", r)
			}
		}
	}
	if !found {
		t.Errorf("show --json has no eth0 → tap0 row: %+v", rows)
	}

	mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
	if out := ns.Run("tc", "qdisc", "show", "dev", "eth0"); !strings.Contains(out, "qdisc clsact ffff:") {
		t.Errorf("detach removed eth0's clsact:\n%s", out)
	}
	filters = ingressFilters(t, ns, "eth0")
	if got := pref5(filters); got != foreign {
		t.Errorf("detach changed the foreign filter:\n--- before\n%s\n--- after\n%s", foreign, got)
	}
	if strings.Contains(filters, "tap0") {
		t.Errorf("detach left a redirect to tap0:\n%s", filters)
	}
	if linkOf(t, ns, "tap0") != nil {
		t.Errorf("detach kept the tap tcwire created")
	}
	sameState(t, "attach then detach on clsact", initial, snapshot(t, ns))
}

func TestAttachRefusesRedirected(t *testing.T) {
	ns := vethNS(t)
	mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tapA")
	before := snapshot(t, ns)
	r := runTcwire(t, "--netns", ns.Name, "attach", "eth0", "tapB")
	// The culprit by name, never only its ifindex, and how to undo it.
	if want := "eth0 is wired to tapA, not tapB (pref 49152, handle 800::800); `tcwire detach eth0 tapA` undoes that"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("attach eth0 tapB on a wired eth0: %s\nwant exit 1 saying %q", r, want)
	}
	sameState(t, "a refused attach", before, snapshot(t, ns))
	if linkOf(t, ns, "tapB") != nil {
		t.Errorf("a refused attach left tapB")
	}
}

func TestDetach(t *testing.T) {
	t.Run("created tap", func(t *testing.T) {
		ns := vethNS(t)
		initial := snapshot(t, ns)
		mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
		mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
		sameState(t, "attach then detach", initial, snapshot(t, ns))
		mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
		sameState(t, "a second detach", initial, snapshot(t, ns))
	})
	t.Run("existing tap", func(t *testing.T) {
		ns := vethNS(t)
		ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "vnet_hdr", "user", "0")
		mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
		if !mustLink(t, ns, "tap0").up() {
			t.Errorf("attach did not bring the existing tap0 up")
		}
		mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
		if linkOf(t, ns, "tap0") == nil {
			t.Fatalf("detach deleted a tap tcwire did not create")
		}
		if out := ns.Run("tc", "qdisc", "show", "ingress"); strings.TrimSpace(out) != "" {
			t.Errorf("detach left ingress qdiscs:\n%s", out)
		}
		if got := tcState(t, ns, "eth0", "tap0"); got != "### eth0\n### tap0\n" {
			t.Errorf("detach left tc state:\n%s", got)
		}
		mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
	})
}

// TestAttachRollback makes the kernel refuse a request after attach created
// the tap; attach must leave the namespace as it found it.
func TestAttachRollback(t *testing.T) {
	t.Run("tc", func(t *testing.T) {
		// A shared filter block on eth0: the kernel takes filters for it
		// only by block index, so the filter on eth0 fails (EOPNOTSUPP)
		// while the qdisc and filter on tap0, sent in the same batch,
		// succeed and have to be undone.
		ns := vethNS(t)
		ns.Run("tc", "qdisc", "add", "dev", "eth0", "ingress_block", "22", "ingress")
		before := snapshot(t, ns)
		r := runTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
		if r.code != 1 || !strings.Contains(r.stderr, "shared") {
			t.Errorf("attach on a shared block: %s\nwant exit 1 with the kernel's reason", r)
		}
		sameState(t, "a failed attach", before, snapshot(t, ns))
		if out := ns.Run("tc", "filter", "show", "block", "22"); strings.TrimSpace(out) != "" {
			t.Errorf("filters left on block 22:\n%s", out)
		}
	})
	t.Run("tap", func(t *testing.T) {
		// eth0's MTU is above a tap's maximum (65521): setting the new
		// tap's MTU fails after the tap exists.
		ns := vethNS(t)
		ns.Run("ip", "link", "set", "eth0", "mtu", "65535")
		before := snapshot(t, ns)
		r := runTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
		if r.code != 1 || !strings.Contains(r.stderr, "mtu") {
			t.Errorf("attach with eth0 mtu 65535: %s\nwant exit 1 about the mtu", r)
		}
		sameState(t, "a failed attach", before, snapshot(t, ns))
	})
}

// showRow is one row of show --json.
type showRow struct {
	Dev       string `json:"dev"`
	Target    string `json:"target"`
	Direction string `json:"direction"`
	Action    string `json:"action"`
	Control   string `json:"control"`
	Parent    string `json:"parent"`
	Pref      int    `json:"pref"`
	Handle    string `json:"handle"`
	Wire      bool   `json:"wire"`
	Packets   uint64 `json:"packets"`
	Bytes     uint64 `json:"bytes"`
	// Undelivered and the ends' states are checked on their own.
	Undelivered   uint64 `json:"-"`
	TargetState   string `json:"-"`
	TargetCarrier bool   `json:"-"`
}

// showEnds is the rest of a row of show --json: the counters of what could
// not be delivered and the state of both ends.
type showEnds struct {
	Undelivered   uint64 `json:"undelivered"`
	DevState      string `json:"dev_state"`
	DevCarrier    bool   `json:"dev_carrier"`
	TargetState   string `json:"target_state"`
	TargetCarrier bool   `json:"target_carrier"`
}

func showEndsJSON(t *testing.T, ns *nstest.NS, dev string) showEnds {
	t.Helper()
	r := mustTcwire(t, "--netns", ns.Name, "--json", "show", dev)
	var rows []showEnds
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("show --json %s %q: %v", dev, r.stdout, err)
	}
	return rows[0]
}

func showJSON(t *testing.T, ns *nstest.NS, devs ...string) []showRow {
	t.Helper()
	r := mustTcwire(t, append([]string{"--netns", ns.Name, "--json", "show"}, devs...)...)
	var rows []showRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("show --json %q: %v", r.stdout, err)
	}
	return rows
}

func TestShow(t *testing.T) {
	ns := vethNS(t)
	if rows := showJSON(t, ns); len(rows) != 0 {
		t.Errorf("show --json before attach: %+v", rows)
	}
	mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")

	want := []showRow{
		{Dev: "eth0", Target: "tap0", Direction: "egress", Action: "redirect", Control: "stolen", Parent: "ffff:", Pref: 49152, Handle: "800::800", Wire: true},
		{Dev: "tap0", Target: "eth0", Direction: "egress", Action: "redirect", Control: "stolen", Parent: "ffff:", Pref: 49152, Handle: "800::800", Wire: true},
	}
	rows := showJSON(t, ns)
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("show --json:\n got %+v\nwant %+v", rows, want)
	}
	if rows := showJSON(t, ns, "tap0"); len(rows) != 1 || rows[0].Dev != "tap0" {
		t.Errorf("show --json tap0: %+v", rows)
	}

	text := mustTcwire(t, "--netns", ns.Name, "show").stdout
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "DEV STATE TARGET STATE ACTION CONTROL PARENT PREF HANDLE PACKETS BYTES UNDELIVERED" {
		t.Fatalf("show:\n%s", text)
	}
	for i, w := range [][]string{{"eth0", "tap0"}, {"tap0", "eth0"}} {
		f := strings.Fields(lines[i+1])
		if len(f) != 13 || f[0] != w[0] || f[2] != w[1] || f[4] != "egress" || f[5] != "redirect" || f[6] != "stolen" || f[10] != "0" || f[11] != "0" || f[12] != "0" {
			t.Errorf("show row %d: %q", i+1, lines[i+1])
		}
		// Both are down, or up without carrier: nothing gets through.
		if !strings.HasSuffix(f[1], ",NO-CARRIER") || !strings.HasSuffix(f[3], ",NO-CARRIER") {
			t.Errorf("show row %d does not say NO-CARRIER for both ends: %q", i+1, lines[i+1])
		}
	}

	// Traffic: frames sent out of peer0 arrive on eth0 and are redirected
	// (mirred counts them even though tap0 has no carrier and drops them).
	ns.Run("ip", "link", "set", "peer0", "up")
	ns.Run("ip", "link", "set", "eth0", "up")
	const n = 3
	sendFrames(t, ns, "peer0", n)
	var got *showRow
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, r := range showJSON(t, ns, "eth0") {
			if r.Target == "tap0" && r.Packets >= n {
				got = &r
			}
		}
		if got != nil {
			break
		}
	}
	if got == nil {
		t.Fatalf("eth0 → tap0 counters stayed below %d packets: %+v", n, showJSON(t, ns, "eth0"))
	}
	// At ingress the kernel counts a frame without its 14-byte Ethernet
	// header: 46 bytes for each 60-byte frame.
	if got.Bytes < n*46 {
		t.Errorf("eth0 → tap0: %d packets but %d bytes", got.Packets, got.Bytes)
	}
	// No VMM holds tap0: mirred could deliver none of them, and show says
	// why without tc -s.
	ends := showEndsJSON(t, ns, "eth0")
	if ends.Undelivered < n || ends.TargetCarrier || !ends.DevCarrier || ends.DevState != "UP" {
		t.Errorf("eth0 → tap0 with no VMM: %+v, want %d undelivered, tap0 without carrier, eth0 up with carrier", ends, n)
	}
	// tc -s, read after (peer0's own frames may have come since), counts
	// them as overlimits.
	stats := ns.Run("tc", "-s", "filter", "show", "dev", "eth0", "ingress")
	var over uint64
	if m := regexp.MustCompile(`overlimits (\d+)`).FindStringSubmatch(stats); m != nil {
		over, _ = strconv.ParseUint(m[1], 10, 64)
	}
	if over < ends.Undelivered {
		t.Errorf("show says %d undelivered; tc -s says:\n%s", ends.Undelivered, stats)
	}
	ns.Settle()
	if row := strings.Fields(strings.Split(mustTcwire(t, "--netns", ns.Name, "show", "eth0").stdout, "\n")[1]); row[1] != "UP" || row[3] != "DOWN,NO-CARRIER" {
		t.Errorf("show eth0: states %q %q, want UP and DOWN,NO-CARRIER", row[1], row[3])
	}
}

func TestTapAddDel(t *testing.T) {
	ns := vethNS(t)
	r := mustTcwire(t, "--netns", ns.Name, "tap", "add", "tapx", "--mtu", "2000", "--mac", "02:11:22:33:44:55", "--no-vnet-hdr")
	if r.stdout != "tapx\n" {
		t.Errorf("tap add printed %q", r.stdout)
	}
	l := mustLink(t, ns, "tapx")
	d := l.LinkInfo.Data
	if l.MTU != 2000 || l.Address != "02:11:22:33:44:55" || d.VnetHdr || d.PI || !d.Persist || d.Type != "tap" || l.Alias != "tcwire" {
		t.Errorf("tapx: mtu %d mac %s vnet_hdr %v pi %v persist %v type %s alias %q", l.MTU, l.Address, d.VnetHdr, d.PI, d.Persist, d.Type, l.Alias)
	}

	r = mustTcwire(t, "--netns", ns.Name, "--json", "tap", "add", "tapy", "--queues", "2")
	var got attachJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("tap add --json %q: %v", r.stdout, err)
	}
	ly := mustLink(t, ns, "tapy")
	if got.Tap != "tapy" || got.Ifindex != ly.Ifindex || got.Queues != 2 || !got.Created || got.MAC != ly.Address {
		t.Errorf("tap add --json: %+v", got)
	}
	if !ly.LinkInfo.Data.VnetHdr || !ly.LinkInfo.Data.MultiQueue {
		t.Errorf("tapy: vnet_hdr %v multi_queue %v", ly.LinkInfo.Data.VnetHdr, ly.LinkInfo.Data.MultiQueue)
	}

	// A name in use is refused, and the device is left alone.
	ns.Run("ip", "tuntap", "add", "tapz", "mode", "tap", "vnet_hdr", "user", "0")
	before := snapshot(t, ns)
	if r := runTcwire(t, "--netns", ns.Name, "tap", "add", "tapz"); r.code != 1 || !strings.Contains(r.stderr, "tapz") {
		t.Errorf("tap add over an existing tap: %s", r)
	}
	sameState(t, "a refused tap add", before, snapshot(t, ns))

	for _, name := range []string{"tapx", "tapy", "tapz"} {
		mustTcwire(t, "--netns", ns.Name, "tap", "del", name)
		if linkOf(t, ns, name) != nil {
			t.Errorf("tap del %s: still there", name)
		}
	}
	if r := runTcwire(t, "--netns", ns.Name, "tap", "del", "tapx"); r.code != 1 || !strings.Contains(r.stderr, "tapx") {
		t.Errorf("tap del of a missing tap: %s", r)
	}
}

func TestIfup(t *testing.T) {
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	ns.Run("ip", "tuntap", "add", "tap1", "mode", "tap", "vnet_hdr", "user", "0")
	// As qemu runs it: in the namespace, with the tap's name only.
	if out, err := ns.Try(tcwireIfup, "tap1"); err != nil {
		t.Fatalf("tcwire-ifup tap1: %v\n%s", err, out)
	}
	if !mustLink(t, ns, "tap1").up() {
		t.Errorf("tcwire-ifup did not bring tap1 up")
	}
	twin := nstest.New(t)
	twin.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	twin.Run("ip", "tuntap", "add", "tap1", "mode", "tap", "vnet_hdr", "user", "0")
	tcWire(twin, "eth1", "tap1")
	if got, want := tcState(t, ns, "eth1", "tap1"), tcState(t, twin, "eth1", "tap1"); got != want {
		t.Errorf("tcwire-ifup's state differs from tc's:\n--- tcwire\n%s\n--- tc\n%s", got, want)
	}
	// Run again (qemu restarted): nothing changes.
	before := snapshot(t, ns)
	if out, err := ns.Try(tcwireIfup, "tap1"); err != nil {
		t.Fatalf("second tcwire-ifup tap1: %v\n%s", err, out)
	}
	sameState(t, "a second tcwire-ifup", before, snapshot(t, ns))
	// The tcwire ifup spelling, with --netns.
	if r := runTcwire(t, "--netns", ns.Name, "ifup", "tap1"); r.code != 0 {
		t.Errorf("tcwire ifup tap1: %s", r)
	}

	for _, argv := range [][]string{{tcwireBin, "ifup", "foo"}, {tcwireIfup, "foo"}, {tcwireIfup}} {
		r := execute(t, argv...)
		if r.code != 2 {
			t.Errorf("%s: %s\nwant exit 2", strings.Join(argv, " "), r)
		}
	}
}

// TestStaleRedirect: when the tap is deleted behind tcwire's back (a VM
// torn down, `tap del`), eth0 keeps redirecting into the void; attach
// replaces that stale half, and detach then leaves the namespace as it
// was.
func TestStaleRedirect(t *testing.T) {
	for _, del := range [][]string{{"tcwire", "tap", "del", "tap0"}, {"ip", "link", "del", "tap0"}} {
		t.Run(strings.Join(del, " "), func(t *testing.T) {
			ns := vethNS(t)
			initial := snapshot(t, ns)
			mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
			if del[0] == "tcwire" {
				mustTcwire(t, append([]string{"--netns", ns.Name}, del[1:]...)...)
			} else {
				ns.Run(del[0], del[1:]...)
			}
			// The stale half is replaced (issue 19): a new tap0, wired.
			mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
			if rows := showJSON(t, ns); len(rows) != 2 {
				t.Errorf("after re-attach over the stale half: %+v", rows)
			}
			mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
			sameState(t, "attach, tap deleted, attach, detach", initial, snapshot(t, ns))
		})
	}
	t.Run("veth deleted", func(t *testing.T) {
		// The container's veth goes first; the tap (not tcwire's) stays
		// and must lose its dead redirect.
		ns := vethNS(t)
		ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "vnet_hdr", "user", "0")
		mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
		ns.Run("ip", "link", "del", "eth0")
		mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
		if got := tcState(t, ns, "tap0"); got != "### tap0\n" {
			t.Errorf("detach left tc state on tap0:\n%s", got)
		}
		if linkOf(t, ns, "tap0") == nil {
			t.Errorf("detach deleted a tap tcwire did not create")
		}
	})
}
