package tc

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/nl/annotate"
)

// The bidirectional setup as tc commands, in the order tcwire sends it.
var wireCmds = []string{
	"tc qdisc add dev eth0 ingress",
	"tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
	"tc qdisc add dev tap0 ingress",
	"tc filter add dev tap0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev eth0",
}

// TestRecapture runs the four commands of the bidirectional setup with the
// installed tc under strace and compares the requests tc sends with
// tcwire's, so a tc that encodes differently from the one the fixtures came
// from is noticed.
func TestRecapture(t *testing.T) {
	nstest.RequireRoot(t)
	t.Logf("namespaces: tcwire-test-%d-*", os.Getpid())
	nstest.RequireTool(t, "strace")
	nstest.RequireTool(t, "tc")
	ns := newWireNS(t)
	eth0, tap0 := dev(t, ns, "eth0"), dev(t, ns, "tap0")
	p, err := PlanWire(Hook{Dev: eth0}, Hook{Dev: tap0}, WireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Requests) != len(wireCmds) {
		t.Fatalf("plan has %d requests: %q", len(p.Requests), planCmds(p))
	}
	version, _ := ns.Try("tc", "-V")
	dir := t.TempDir()
	for i, cmd := range wireCmds {
		if p.Requests[i].Cmd != cmd {
			t.Errorf("request %d is %q, tc runs %q", i, p.Requests[i].Cmd, cmd)
		}
		out := filepath.Join(dir, "strace")
		// capture.sh's options, sends only.
		args := append([]string{"-f", "-yy", "-X", "verbose", "-s", "0",
			"-e", "trace=sendmsg,sendto", "-e", "write=all", "-o", out}, strings.Fields(cmd)...)
		ns.Run("strace", args...)
		text, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sent, _, err := fixture.ParseStrace(bytes.NewReader(text))
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		var reqs [][]byte
		for _, b := range sent {
			ms, err := fixture.SplitMessages(b)
			if err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
			for _, m := range ms {
				if isTCRequest(m.Type) {
					reqs = append(reqs, fixture.ZeroSeqPID(m.Raw))
				}
			}
		}
		if len(reqs) != 1 {
			t.Fatalf("%s: tc sent %d tc requests, want 1:\n%s", cmd, len(reqs), text)
		}
		got := requestBytes(t, p.Requests[i])
		if !bytes.Equal(got, reqs[0]) {
			t.Errorf("%s: installed %s sends other bytes than tcwire:\n%s", cmd, strings.TrimSpace(version),
				annotate.SideBySide("tc (installed)", reqs[0], "tcwire", got, ExplainSchema))
		}
	}
	// The commands worked: the namespace is wired.
	c := dial(t, ns)
	for _, d := range [][2]Dev{{eth0, tap0}, {tap0, eth0}} {
		rs := readHook(t, c, d[0]).Redirects()
		if len(rs) != 1 || !rs[0].IsWire() || rs[0].TargetIfindex != d[1].Index {
			t.Errorf("%s after tc: %+v", d[0], rs)
		}
	}
}

// oracleCase is a state change made two ways: by tc in namespace A and by
// tcwire's requests, in one batch, in twin namespace B.
type oracleCase struct {
	name  string
	setup []string // tc commands run in both namespaces first
	tc    []string // run in A
	reqs  func(t *testing.T, d map[string]Dev) []nl.Request
}

func mustReq(t *testing.T) func(nl.Request, error) nl.Request {
	return func(r nl.Request, err error) nl.Request {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func redirect(d Dev) Action { return Action{Kind: KindMirred, Mirred: EgressRedirect(d.Index, d.Name)} }

var oracleCases = []oracleCase{
	{
		name: "bidirectional",
		tc:   wireCmds,
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			p, err := PlanWire(Hook{Dev: d["eth0"]}, Hook{Dev: d["tap0"]}, WireOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return p.Requests
		},
	},
	{
		name: "clsact",
		tc: []string{
			"tc qdisc add dev eth0 clsact",
			"tc filter add dev eth0 ingress protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
			"tc qdisc add dev tap0 clsact",
			"tc filter add dev tap0 ingress protocol all u32 match u8 0 0 action mirred egress redirect dev eth0",
		},
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			eth0, tap0 := d["eth0"], d["tap0"]
			return []nl.Request{
				AddQdiscRequest(Clsact(eth0.Index, eth0.Name)),
				mustReq(t)(AddFilterRequest(WireFilter(eth0, tap0, ClsactIngress, WireOptions{}))),
				AddQdiscRequest(Clsact(tap0.Index, tap0.Name)),
				mustReq(t)(AddFilterRequest(WireFilter(tap0, eth0, ClsactIngress, WireOptions{}))),
			}
		},
	},
	{
		name:  "mirror",
		setup: []string{"tc qdisc add dev eth0 ingress"},
		tc:    []string{"tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress mirror dev tap0"},
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			a := Action{Kind: KindMirred, Mirred: EgressMirror(d["tap0"].Index, "tap0")}
			return []nl.Request{mustReq(t)(AddFilterRequest(Filter{Dev: "eth0", Ifindex: d["eth0"].Index,
				Parent: IngressHandle, Protocol: ETH_P_ALL, U32: CatchAll(a)}))}
		},
	},
	{
		name:  "protocol ip, pref 10",
		setup: []string{"tc qdisc add dev eth0 ingress"},
		// u32 handles are shared by every u32 pref of a qdisc: the one
		// with an explicit handle comes first, while 800: is free.
		tc: []string{
			"tc filter add dev eth0 parent ffff: pref 20 handle 800::800 protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
			"tc filter add dev eth0 parent ffff: protocol ip u32 match u8 0 0 action mirred egress redirect dev tap0",
			"tc filter add dev eth0 parent ffff: pref 10 protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
		},
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			eth0, tap0 := d["eth0"], d["tap0"]
			f1 := WireFilter(eth0, tap0, IngressHandle, WireOptions{Pref: 20})
			f1.Handle = 0x80000800
			return []nl.Request{
				mustReq(t)(AddFilterRequest(f1)),
				mustReq(t)(AddFilterRequest(WireFilter(eth0, tap0, IngressHandle, WireOptions{Protocol: ETH_P_IP}))),
				mustReq(t)(AddFilterRequest(WireFilter(eth0, tap0, IngressHandle, WireOptions{Pref: 10}))),
			}
		},
	},
	{
		name:  "keys and cookie",
		setup: []string{"tc qdisc add dev eth0 ingress"},
		tc: []string{
			"tc filter add dev eth0 parent ffff: protocol all u32 match ip protocol 17 0xff action mirred egress redirect dev tap0",
			"tc filter add dev eth0 parent ffff: protocol all u32 match u16 0x0800 0xffff at 12 match u8 0x45 0xff at 14 action mirred egress redirect dev tap0 cookie 0123456789abcdef",
		},
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			eth0, tap0 := d["eth0"], d["tap0"]
			u1 := &U32{Sel: U32Sel{Flags: TC_U32_TERMINAL}, Actions: []Action{redirect(tap0)}}
			if err := u1.Sel.Match(8, 17, 0xff, 9); err != nil {
				t.Fatal(err)
			}
			a := redirect(tap0)
			a.Cookie = []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
			u2 := &U32{Sel: U32Sel{Flags: TC_U32_TERMINAL}, Actions: []Action{a}}
			if err := errors.Join(u2.Sel.Match(16, 0x0800, 0xffff, 12), u2.Sel.Match(8, 0x45, 0xff, 14)); err != nil {
				t.Fatal(err)
			}
			f := func(u *U32) Filter {
				return Filter{Dev: "eth0", Ifindex: eth0.Index, Parent: IngressHandle, Protocol: ETH_P_ALL, U32: u}
			}
			return []nl.Request{mustReq(t)(AddFilterRequest(f(u1))), mustReq(t)(AddFilterRequest(f(u2)))}
		},
	},
	{
		name: "replace",
		setup: []string{
			"tc qdisc add dev eth0 ingress",
			"tc filter add dev eth0 parent ffff: pref 10 protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
		},
		tc: []string{"tc filter replace dev eth0 parent ffff: pref 10 handle 800::800 protocol all u32 match u8 0 0 action mirred egress mirror dev peer0"},
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			a := Action{Kind: KindMirred, Mirred: EgressMirror(d["peer0"].Index, "peer0")}
			return []nl.Request{mustReq(t)(ReplaceFilterRequest(Filter{Dev: "eth0", Ifindex: d["eth0"].Index, Parent: IngressHandle,
				Pref: 10, Handle: 0x80000800, Protocol: ETH_P_ALL, U32: CatchAll(a)}))}
		},
	},
	{
		name: "delete one",
		setup: []string{
			"tc qdisc add dev eth0 ingress",
			"tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
			"tc filter add dev eth0 parent ffff: pref 10 protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
		},
		tc: []string{"tc filter del dev eth0 parent ffff: pref 49152 handle 800::800 protocol all u32"},
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			return []nl.Request{DelFilterRequest(Filter{Dev: "eth0", Ifindex: d["eth0"].Index, Parent: IngressHandle,
				Pref: 49152, Handle: 0x80000800, Protocol: ETH_P_ALL, Kind: KindU32})}
		},
	},
	{
		// What PlanUnwire sends for a wire alone at its pref: the pref
		// goes, where deleting the key node alone would leave it behind
		// (with an empty hash table) next to another u32 pref.
		name: "delete pref",
		setup: []string{
			"tc qdisc add dev eth0 ingress",
			"tc filter add dev eth0 parent ffff: pref 5 protocol ip u32 match ip protocol 17 0xff action mirred egress mirror dev peer0",
			"tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
		},
		tc: []string{"tc filter del dev eth0 parent ffff: pref 49152 protocol all u32"},
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			return []nl.Request{DelFilterRequest(Filter{Dev: "eth0", Ifindex: d["eth0"].Index, Parent: IngressHandle,
				Pref: 49152, Protocol: ETH_P_ALL, Kind: KindU32})}
		},
	},
	{
		name: "flush",
		setup: []string{
			"tc qdisc add dev eth0 ingress",
			"tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
			"tc filter add dev eth0 parent ffff: pref 10 protocol all u32 match u8 0 0 action mirred egress mirror dev peer0",
		},
		tc: []string{"tc filter del dev eth0 parent ffff:"},
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			return []nl.Request{FlushFiltersRequest(d["eth0"].Index, "eth0", IngressHandle)}
		},
	},
	{
		name:  "qdisc del",
		setup: wireCmds,
		tc:    []string{"tc qdisc del dev eth0 ingress", "tc qdisc del dev tap0 ingress"},
		reqs: func(t *testing.T, d map[string]Dev) []nl.Request {
			return []nl.Request{DelQdiscRequest(Ingress(d["eth0"].Index, "eth0")), DelQdiscRequest(Ingress(d["tap0"].Index, "tap0"))}
		},
	},
}

// TestOracle: for each case, tc in namespace A and tcwire in twin namespace
// B leave the same state, as tc itself shows it.
func TestOracle(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "tc")
	for _, oc := range oracleCases {
		t.Run(oc.name, func(t *testing.T) {
			a, b := newWireNS(t), newWireNS(t)
			devs := map[string]Dev{}
			for _, name := range []string{"eth0", "peer0", "tap0"} {
				da, db := dev(t, a, name), dev(t, b, name)
				if da != db {
					t.Fatalf("twin namespaces differ: %s is %d in A, %d in B", name, da.Index, db.Index)
				}
				devs[name] = db
			}
			for _, ns := range []*nstest.NS{a, b} {
				for _, cmd := range oc.setup {
					tcRun(t, ns, cmd)
				}
			}
			requireSameState(t, "after setup", tcState(t, a, "eth0", "tap0"), tcState(t, b, "eth0", "tap0"))
			for _, cmd := range oc.tc {
				tcRun(t, a, cmd)
			}
			reqs := oc.reqs(t, devs)
			c := dial(t, b)
			for i, err := range c.Do(reqs...) {
				if err != nil {
					t.Errorf("request %d (%s): %v", i, reqs[i].Cmd, err)
				}
			}
			want, got := tcState(t, a, "eth0", "tap0"), tcState(t, b, "eth0", "tap0")
			requireSameState(t, "after "+strings.Join(oc.tc, "; "), want, got)
			// Not vacuous: the case changed something.
			if want == tcStateAfterSetupOnly(t, oc) {
				t.Errorf("the tc commands changed nothing:\n%s", want)
			}
			t.Logf("state:\n%s", want)
		})
	}
}

// tcStateAfterSetupOnly is the state of a third twin after the setup alone.
func tcStateAfterSetupOnly(t *testing.T, oc oracleCase) string {
	ns := newWireNS(t)
	for _, cmd := range oc.setup {
		tcRun(t, ns, cmd)
	}
	return tcState(t, ns, "eth0", "tap0")
}

// TestWireLive: Wire on fresh devices leaves the state the tc commands
// leave; a second Wire changes nothing; Unwire restores the start, twice.
func TestWireLive(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "tc")
	oracle, ns := newWireNS(t), newWireNS(t)
	for _, cmd := range wireCmds {
		tcRun(t, oracle, cmd)
	}
	eth0, tap0 := dev(t, ns, "eth0"), dev(t, ns, "tap0")
	c := dial(t, ns)
	initial := tcState(t, ns, "eth0", "tap0")

	if err := Wire(c, eth0, tap0, WireOptions{}); err != nil {
		t.Fatal(err)
	}
	wiredState := tcState(t, ns, "eth0", "tap0")
	requireSameState(t, "Wire vs tc", tcState(t, oracle, "eth0", "tap0"), wiredState)

	for i := 0; i < 2; i++ {
		if err := Wire(c, eth0, tap0, WireOptions{}); err != nil {
			t.Fatalf("Wire again: %v", err)
		}
		// Either order of the devices is the same wire.
		if err := Wire(c, tap0, eth0, WireOptions{}); err != nil {
			t.Fatalf("Wire reversed: %v", err)
		}
		requireSameState(t, "Wire again", wiredState, tcState(t, ns, "eth0", "tap0"))
	}
	for _, d := range [][2]Dev{{eth0, tap0}, {tap0, eth0}} {
		h := readHook(t, c, d[0])
		rs := h.Redirects()
		if h.Qdisc != KindIngress || keyNodes(h) != 1 || len(rs) != 1 || !rs[0].IsWire() || rs[0].TargetIfindex != d[1].Index {
			t.Errorf("%s: qdisc %q, %d filters, redirects %+v", d[0], h.Qdisc, keyNodes(h), rs)
		}
	}

	if err := Unwire(c, eth0, tap0); err != nil {
		t.Fatal(err)
	}
	requireSameState(t, "Unwire", initial, tcState(t, ns, "eth0", "tap0"))
	if err := Unwire(c, eth0, tap0); err != nil {
		t.Fatalf("Unwire twice: %v", err)
	}
	requireSameState(t, "Unwire twice", initial, tcState(t, ns, "eth0", "tap0"))
	waitMirredActions(t, ns, 0)
}

// TestWireBesideForeign: Wire reuses an existing clsact or ingress qdisc,
// leaves a filter it did not add alone, and Unwire takes back only its own.
func TestWireBesideForeign(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "tc")
	for _, c := range []struct {
		name, qdisc, foreign string
		hook                 string // how tc names the hook in filter commands
	}{
		{"clsact", KindClsact,
			"tc filter add dev eth0 ingress pref 5 protocol ip u32 match ip protocol 17 0xff action mirred egress mirror dev peer1 continue", "ingress"},
		{"ingress", KindIngress,
			"tc filter add dev eth0 parent ffff: pref 5 protocol ip u32 match ip protocol 17 0xff action mirred egress mirror dev peer1 continue", "parent ffff:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := newWireNS(t, "eth1")
			eth0, tap0, peer1 := dev(t, ns, "eth0"), dev(t, ns, "tap0"), dev(t, ns, "peer1")
			tcRun(t, ns, "tc qdisc add dev eth0 "+c.qdisc)
			tcRun(t, ns, c.foreign)
			foreign := func() string {
				return tcRun(t, ns, "tc -d filter show dev eth0 "+c.hook+" pref 5")
			}
			foreignBefore := foreign()
			if !strings.Contains(foreignBefore, "Egress Mirror to device peer1") {
				t.Fatalf("foreign filter not set up:\n%s", foreignBefore)
			}
			initial := tcState(t, ns, "eth0", "tap0")
			conn := dial(t, ns)

			if err := Wire(conn, eth0, tap0, WireOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := foreign(); got != foreignBefore {
				t.Errorf("foreign filter changed:\n%s\nnow\n%s", foreignBefore, got)
			}
			h := readHook(t, conn, eth0)
			if h.Qdisc != c.qdisc {
				t.Errorf("eth0's qdisc is %q, want %q reused", h.Qdisc, c.qdisc)
			}
			var wires, mirrors int
			for _, r := range h.Redirects() {
				switch {
				case r.IsWire() && r.TargetIfindex == tap0.Index && r.Parent == h.Parent():
					wires++
				case r.Eaction == TCA_EGRESS_MIRROR && r.TargetIfindex == peer1.Index && r.Pref == 5 && r.Protocol == ETH_P_IP && !r.CatchAll:
					mirrors++
				default:
					t.Errorf("unexpected redirect %+v", r)
				}
			}
			if wires != 1 || mirrors != 1 {
				t.Errorf("%d wires and %d mirrors on eth0, want 1 and 1", wires, mirrors)
			}
			wiredState := tcState(t, ns, "eth0", "tap0")
			if err := Wire(conn, eth0, tap0, WireOptions{}); err != nil {
				t.Fatal(err)
			}
			requireSameState(t, "Wire again", wiredState, tcState(t, ns, "eth0", "tap0"))

			if err := Unwire(conn, eth0, tap0); err != nil {
				t.Fatal(err)
			}
			requireSameState(t, "Unwire", initial, tcState(t, ns, "eth0", "tap0"))
			if err := Unwire(conn, eth0, tap0); err != nil {
				t.Fatal(err)
			}
			requireSameState(t, "Unwire twice", initial, tcState(t, ns, "eth0", "tap0"))
			waitMirredActions(t, ns, 1) // the foreign mirror
		})
	}
}

// TestWireRedirectedLive: wiring a device that already sends its frames to
// another one fails with ErrRedirected and changes nothing.
func TestWireRedirectedLive(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "tc")
	ns := newWireNS(t, "eth1")
	eth0, tap0, eth1 := dev(t, ns, "eth0"), dev(t, ns, "tap0"), dev(t, ns, "eth1")
	c := dial(t, ns)
	if err := Wire(c, eth0, tap0, WireOptions{}); err != nil {
		t.Fatal(err)
	}
	before := tcState(t, ns, "eth0", "tap0", "eth1")
	for _, pair := range [][2]Dev{{eth0, eth1}, {eth1, eth0}, {tap0, eth1}} {
		err := Wire(c, pair[0], pair[1], WireOptions{})
		if !errors.Is(err, ErrRedirected) {
			t.Fatalf("Wire(%s, %s) = %v, want ErrRedirected", pair[0], pair[1], err)
		}
		wired := eth0
		if pair[0] == tap0 || pair[1] == tap0 {
			wired = tap0
		}
		if !strings.Contains(err.Error(), wired.Name) {
			t.Errorf("error %q does not name %s", err, wired.Name)
		}
		requireSameState(t, "refused Wire", before, tcState(t, ns, "eth0", "tap0", "eth1"))
	}
	// Unwiring a pair that is not wired leaves the wire of another alone.
	if err := Unwire(c, eth0, eth1); err != nil {
		t.Fatal(err)
	}
	requireSameState(t, "Unwire of another pair", before, tcState(t, ns, "eth0", "tap0", "eth1"))
}

// TestExecuteRollback: when a request of the batch fails, the ones that
// succeeded are undone and the state is what it was.
func TestExecuteRollback(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "tc")
	plan := func(t *testing.T, ns *nstest.NS) (*Plan, Dev, Dev) {
		eth0, tap0 := dev(t, ns, "eth0"), dev(t, ns, "tap0")
		p, err := PlanWire(Hook{Dev: eth0}, Hook{Dev: tap0}, WireOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p, eth0, tap0
	}

	t.Run("last request fails", func(t *testing.T) {
		ns := newWireNS(t)
		p, _, _ := plan(t, ns)
		p.Requests = append(p.Requests, AddQdiscRequest(Ingress(9999, "")))
		before := tcState(t, ns, "eth0", "tap0")
		err := p.Execute(dial(t, ns))
		if !errors.Is(err, unix.ENODEV) || !strings.Contains(err.Error(), "dev if9999") {
			t.Fatalf("Execute = %v, want ENODEV naming if9999", err)
		}
		requireSameState(t, "after rollback", before, tcState(t, ns, "eth0", "tap0"))
		waitMirredActions(t, ns, 0)
	})

	t.Run("appended request succeeds then one fails", func(t *testing.T) {
		// Requests a caller appends have no undo step: Execute must not
		// trip over that, and still undo its own.
		ns := newWireNS(t, "eth1")
		p, _, _ := plan(t, ns)
		eth1 := dev(t, ns, "eth1")
		p.Requests = append(p.Requests, AddQdiscRequest(Ingress(eth1.Index, "eth1")), AddQdiscRequest(Ingress(9999, "")))
		before := tcState(t, ns, "eth0", "tap0")
		if err := p.Execute(dial(t, ns)); !errors.Is(err, unix.ENODEV) {
			t.Fatalf("Execute = %v, want ENODEV", err)
		}
		// eth1's qdisc is the caller's to undo.
		tcRun(t, ns, "tc qdisc del dev eth1 ingress")
		requireSameState(t, "after rollback", before, tcState(t, ns, "eth0", "tap0"))
	})

	t.Run("second device's qdisc fails", func(t *testing.T) {
		// tap0 gets a clsact qdisc between plan and execute: the ingress
		// add meets "Exclusivity flag on" (EEXIST) and tap0's filter, on
		// parent ffff:, is refused; eth0's half is undone.
		ns := newWireNS(t)
		p, _, _ := plan(t, ns)
		tcRun(t, ns, "tc qdisc add dev tap0 clsact")
		before := tcState(t, ns, "eth0", "tap0")
		err := p.Execute(dial(t, ns))
		if !errors.Is(err, unix.EEXIST) || !strings.Contains(err.Error(), "tc qdisc add dev tap0 ingress") {
			t.Fatalf("Execute = %v, want EEXIST from tap0's qdisc", err)
		}
		requireSameState(t, "after rollback", before, tcState(t, ns, "eth0", "tap0"))
		waitMirredActions(t, ns, 0)
	})

	t.Run("second device's filter fails", func(t *testing.T) {
		// Planned with pref 7 against a tap0 that has an (empty) ingress
		// qdisc; before Execute, a filter of another protocol takes pref 7
		// on tap0, and the kernel refuses a second protocol at one pref
		// (EINVAL). eth0's qdisc and filter, which succeeded, are undone.
		ns := newWireNS(t)
		eth0, tap0 := dev(t, ns, "eth0"), dev(t, ns, "tap0")
		p, err := PlanWire(Hook{Dev: eth0}, Hook{Dev: tap0, Qdisc: KindIngress}, WireOptions{Pref: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Requests) != 3 {
			t.Fatalf("%q", planCmds(p))
		}
		tcRun(t, ns, "tc qdisc add dev tap0 ingress")
		tcRun(t, ns, "tc filter add dev tap0 parent ffff: pref 7 protocol ip u32 match u8 0 0 action mirred egress mirror dev peer0")
		before := tcState(t, ns, "eth0", "tap0")
		err = p.Execute(dial(t, ns))
		if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "tc filter add dev tap0") {
			t.Fatalf("Execute = %v, want EINVAL from tap0's filter", err)
		}
		requireSameState(t, "after rollback", before, tcState(t, ns, "eth0", "tap0"))
		waitMirredActions(t, ns, 1)
	})

	t.Run("device deleted between plan and execute", func(t *testing.T) {
		ns := newWireNS(t)
		p, _, _ := plan(t, ns)
		ns.Run("ip", "link", "del", "tap0")
		before := tcState(t, ns, "eth0", "tap0")
		err := p.Execute(dial(t, ns))
		if !errors.Is(err, unix.ENODEV) {
			t.Fatalf("Execute = %v, want ENODEV", err)
		}
		requireSameState(t, "after rollback", before, tcState(t, ns, "eth0", "tap0"))
		waitMirredActions(t, ns, 0)
	})
}

// TestRemoveGone: Remove takes what the kernel answers for "already gone"
// as success, and no other refusal. The plan is made while the wire is up
// and sent after the objects changed.
func TestRemoveGone(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "tc")
	wiredPlan := func(t *testing.T) (*nstest.NS, *nl.Conn, *Plan) {
		ns := newWireNS(t)
		c := dial(t, ns)
		eth0, tap0 := dev(t, ns, "eth0"), dev(t, ns, "tap0")
		if err := Wire(c, eth0, tap0, WireOptions{}); err != nil {
			t.Fatal(err)
		}
		hs, err := ReadHooks(c, []Dev{eth0, tap0})
		if err != nil {
			t.Fatal(err)
		}
		return ns, c, PlanUnwire(hs[0], hs[1])
	}

	t.Run("already unwired", func(t *testing.T) {
		// The filter deletes meet "Parent Qdisc doesn't exists", the
		// qdisc deletes "Invalid handle": both EINVAL, both gone.
		ns, c, p := wiredPlan(t)
		before := tcState(t, ns, "eth0", "tap0")
		if err := Unwire(c, dev(t, ns, "eth0"), dev(t, ns, "tap0")); err != nil {
			t.Fatal(err)
		}
		if after := tcState(t, ns, "eth0", "tap0"); after == before {
			t.Fatal("Unwire changed nothing")
		}
		if err := p.Remove(c); err != nil {
			t.Fatalf("Remove after Unwire = %v, want nil", err)
		}
	})

	t.Run("ingress replaced by clsact", func(t *testing.T) {
		// eth0's ingress qdisc gives way to a clsact: its filter is gone
		// (ENOENT), but the ingress delete meets the clsact, an EINVAL
		// that is not "gone" and must be reported.
		ns, c, p := wiredPlan(t)
		tcRun(t, ns, "tc qdisc del dev eth0 ingress")
		tcRun(t, ns, "tc qdisc add dev eth0 clsact")
		err := p.Remove(c)
		if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), "tc qdisc del dev eth0 ingress") {
			t.Fatalf("Remove = %v, want EINVAL from eth0's qdisc delete", err)
		}
		if strings.Contains(err.Error(), "tap0") {
			t.Errorf("Remove = %v: tap0's deletes succeeded", err)
		}
	})
}
