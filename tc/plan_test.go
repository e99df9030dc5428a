package tc

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/nl/annotate"
)

// PlanWire and PlanUnwire are pure: these tests hand them hooks built the
// way ReadHook reports a dump, and compare the requests with the captures.

// fixtureDevs returns eth0, tap0 and peer0 with the capture's ifindexes.
func fixtureDevs(t *testing.T) (f *fixture.Fixture, eth0, tap0, peer0 Dev) {
	t.Helper()
	f = loadFixture(t, "qdisc-add-ingress")
	return f, Dev{"eth0", int32(f.Ifindex["eth0"])}, Dev{"tap0", int32(f.Ifindex["tap0"])}, Dev{"peer0", int32(f.Ifindex["peer0"])}
}

// dumped returns the entries a dump shows for one u32 filter at pref: the
// classifier (handle 0), its hash table (htid:) and the key node, each with
// chain 0 and the kind set, as Filter.UnmarshalBinary decodes them.
func dumped(from Dev, parent Handle, pref uint16, htid uint32, proto Protocol, u *U32, index uint32) []Filter {
	zero := uint32(0)
	base := Filter{Ifindex: from.Index, Parent: parent, Pref: pref, Protocol: proto, Chain: &zero, Kind: KindU32}
	cls, ht, node := base, base, base
	ht.Handle, ht.U32 = htid<<20, &U32{Divisor: 1}
	node.Handle = htid<<20 | 0x800
	cp := *u
	cp.Actions = nil
	for _, a := range u.Actions {
		a.Index = index
		if a.Mirred != nil {
			m := *a.Mirred
			m.Index, m.Refcnt, m.Bindcnt, m.Dev = index, 1, 1, ""
			a.Mirred = &m
		}
		cp.Actions = append(cp.Actions, a)
	}
	node.U32 = &cp
	return []Filter{cls, ht, node}
}

// wired is a hook holding tcwire's wire from `from` to `to` at pref 49152.
func wired(from, to Dev, qdisc string) Hook {
	h := Hook{Dev: from, Qdisc: qdisc}
	f := WireFilter(from, to, h.Parent(), WireOptions{})
	h.Filters = dumped(from, h.Parent(), 49152, 0x800, ETH_P_ALL, f.U32, 1)
	return h
}

func requestBytes(t *testing.T, r nl.Request) []byte {
	t.Helper()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkAgainst compares a request with the single tc request of a fixture.
func checkAgainst(t *testing.T, r nl.Request, name string) {
	t.Helper()
	f := loadFixture(t, name)
	want := tcRequests(t, f)
	if len(want) != 1 {
		t.Fatalf("%s: %d tc requests", name, len(want))
	}
	if got := requestBytes(t, r); !bytes.Equal(got, want[0]) {
		t.Errorf("%q differs from fixture %s (%q):\n%s", r.Cmd, name, f.Cmd, annotate.SideBySide("tc", want[0], "tcwire", got, ExplainSchema))
	}
}

func TestPlanWireFresh(t *testing.T) {
	_, eth0, tap0, _ := fixtureDevs(t)
	p, err := PlanWire(Hook{Dev: eth0}, Hook{Dev: tap0}, WireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"qdisc-add-ingress", "filter-add-redirect", "qdisc-add-ingress-tap", "filter-add-redirect-tap"}
	if len(p.Requests) != len(want) {
		t.Fatalf("%d requests, want 4: %q", len(p.Requests), planCmds(p))
	}
	for i, name := range want {
		checkAgainst(t, p.Requests[i], name)
		if f := loadFixture(t, name); p.Requests[i].Cmd != f.Cmd {
			t.Errorf("request %d: Cmd %q, tc ran %q", i, p.Requests[i].Cmd, f.Cmd)
		}
	}
	if len(p.undo) != len(p.Requests) {
		t.Errorf("%d undo steps for %d requests", len(p.undo), len(p.Requests))
	}
}

func TestPlanWireOptions(t *testing.T) {
	_, eth0, tap0, _ := fixtureDevs(t)
	for _, c := range []struct {
		o       WireOptions
		fixture string
	}{
		{WireOptions{Pref: 10}, "filter-add-redirect-pref"},
		{WireOptions{Protocol: ETH_P_IP}, "filter-add-redirect-protocol-ip"},
	} {
		p, err := PlanWire(Hook{Dev: eth0, Qdisc: KindIngress}, wired(tap0, eth0, KindIngress), c.o)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Requests) != 1 {
			t.Fatalf("%+v: %q", c.o, planCmds(p))
		}
		checkAgainst(t, p.Requests[0], c.fixture)
	}
}

func TestPlanWireIdempotent(t *testing.T) {
	_, eth0, tap0, _ := fixtureDevs(t)
	for _, c := range []struct {
		name   string
		ha, hb Hook
		want   []string // request fixtures, in order
	}{
		{"both wired", wired(eth0, tap0, KindIngress), wired(tap0, eth0, KindIngress), nil},
		{"both wired, clsact on a", wired(eth0, tap0, KindClsact), wired(tap0, eth0, KindIngress), nil},
		{"a wired", wired(eth0, tap0, KindIngress), Hook{Dev: tap0},
			[]string{"qdisc-add-ingress-tap", "filter-add-redirect-tap"}},
		{"b wired", Hook{Dev: eth0}, wired(tap0, eth0, KindIngress),
			[]string{"qdisc-add-ingress", "filter-add-redirect"}},
		{"a wired, b has an empty ingress qdisc", wired(eth0, tap0, KindIngress), Hook{Dev: tap0, Qdisc: KindIngress},
			[]string{"filter-add-redirect-tap"}},
		{"clsact on a", Hook{Dev: eth0, Qdisc: KindClsact}, Hook{Dev: tap0},
			[]string{"filter-add-redirect-clsact-ingress", "qdisc-add-ingress-tap", "filter-add-redirect-tap"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := PlanWire(c.ha, c.hb, WireOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Requests) != len(c.want) {
				t.Fatalf("%d requests, want %d: %q", len(p.Requests), len(c.want), planCmds(p))
			}
			for i, name := range c.want {
				checkAgainst(t, p.Requests[i], name)
			}
			for _, r := range p.Requests {
				if r.Type == unix.RTM_NEWQDISC && strings.Contains(r.Cmd, "clsact") {
					t.Errorf("plan adds a clsact qdisc: %s", r.Cmd)
				}
			}
		})
	}
}

// mirroring is an ingress hook with tcwire's mirror of every frame to
// another device.
func mirroring(from, to Dev) Hook {
	u := CatchAll(Action{Kind: KindMirred, Mirred: EgressMirror(to.Index, to.Name)})
	return Hook{Dev: from, Qdisc: KindIngress, Filters: dumped(from, IngressHandle, 5, 0x800, ETH_P_ALL, u, 7)}
}

func TestPlanWireRedirected(t *testing.T) {
	_, eth0, tap0, peer0 := fixtureDevs(t)
	for _, c := range []struct {
		name, culprit string
		ha, hb        Hook
	}{
		{"a to a third device", "eth0", wired(eth0, peer0, KindIngress), Hook{Dev: tap0}},
		{"b to a third device", "tap0", Hook{Dev: eth0}, wired(tap0, peer0, KindIngress)},
		{"a on clsact", "eth0", wired(eth0, peer0, KindClsact), wired(tap0, eth0, KindIngress)},
		{"a ingress-redirects elsewhere", "eth0", func() Hook {
			u := CatchAll(Action{Kind: KindMirred, Mirred: &Mirred{Eaction: TCA_INGRESS_REDIR, Action: TC_ACT_STOLEN, Ifindex: uint32(peer0.Index)}})
			return Hook{Dev: eth0, Qdisc: KindIngress, Filters: dumped(eth0, IngressHandle, 1, 0x800, ETH_P_ALL, u, 3)}
		}(), Hook{Dev: tap0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := PlanWire(c.ha, c.hb, WireOptions{})
			if !errors.Is(err, ErrRedirected) {
				t.Fatalf("PlanWire = %v, %v; want ErrRedirected", p, err)
			}
			if !strings.HasPrefix(err.Error(), "tc: "+c.culprit+":") {
				t.Errorf("error %q does not start with the device %s", err, c.culprit)
			}
			if p != nil {
				t.Errorf("a plan came with the error: %q", planCmds(p))
			}
		})
	}
	// A device that mirrors (tcwire's --mirror) is not wired: the wire
	// would go ahead of the mirror, which would never run again.
	if p, err := PlanWire(mirroring(eth0, tap0), Hook{Dev: tap0}, WireOptions{}); !errors.Is(err, ErrMirrored) || errors.Is(err, ErrRedirected) {
		t.Errorf("mirroring device: %v, %v; want ErrMirrored", p, err)
	}
	if _, err := PlanWire(mirroring(eth0, peer0), Hook{Dev: tap0}, WireOptions{}); !errors.Is(err, ErrMirrored) {
		t.Errorf("device mirroring elsewhere: %v, want ErrMirrored", err)
	}
	if _, err := PlanWire(wired(eth0, peer0, KindIngress), Hook{Dev: tap0}, WireOptions{}); errors.Is(err, ErrTargetGone) {
		t.Errorf("live redirect elsewhere reported as gone: %v", err)
	}
	if _, err := PlanWire(Hook{Dev: eth0}, Hook{Dev: Dev{"eth0bis", eth0.Index}}, WireOptions{}); err == nil || !strings.Contains(err.Error(), "itself") {
		t.Errorf("wire to itself: %v", err)
	}
}

func TestPlanUnwire(t *testing.T) {
	_, eth0, tap0, peer0 := fixtureDevs(t)
	withMirror := func(h Hook) Hook {
		m := mirroring(h.Dev, peer0)
		for i := range m.Filters {
			m.Filters[i].Parent = h.Parent()
		}
		h.Filters = append(m.Filters, h.Filters...)
		return h
	}
	for _, c := range []struct {
		name   string
		ha, hb Hook
		want   []string
	}{
		{"both wired", wired(eth0, tap0, KindIngress), wired(tap0, eth0, KindIngress),
			[]string{"tc qdisc del dev eth0 ingress", "tc qdisc del dev tap0 ingress"}},
		{"nothing wired", Hook{Dev: eth0}, Hook{Dev: tap0, Qdisc: KindIngress}, nil},
		{"unwired twice", Hook{Dev: eth0}, Hook{Dev: tap0}, nil},
		{"one half", wired(eth0, tap0, KindIngress), Hook{Dev: tap0, Qdisc: KindIngress},
			[]string{"tc qdisc del dev eth0 ingress"}},
		{"clsact stays", wired(eth0, tap0, KindClsact), wired(tap0, eth0, KindIngress),
			[]string{"tc filter del dev eth0 ingress pref 49152 chain 0 protocol all u32", "tc qdisc del dev tap0 ingress"}},
		{"foreign filter stays", withMirror(wired(eth0, tap0, KindIngress)), wired(tap0, eth0, KindIngress),
			[]string{"tc filter del dev eth0 parent ffff: pref 49152 chain 0 protocol all u32", "tc qdisc del dev tap0 ingress"}},
		{"foreign filter on clsact", withMirror(wired(eth0, tap0, KindClsact)), Hook{Dev: tap0},
			[]string{"tc filter del dev eth0 ingress pref 49152 chain 0 protocol all u32"}},
		{"wire to a third device stays", wired(eth0, peer0, KindIngress), wired(tap0, eth0, KindIngress),
			[]string{"tc qdisc del dev tap0 ingress"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := PlanUnwire(c.ha, c.hb)
			got := planCmds(p)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("plan\n got %q\nwant %q", got, c.want)
			}
			for _, r := range p.Requests {
				if r.Type == unix.RTM_DELQDISC {
					var q Qdisc
					if err := q.UnmarshalBinary(r.Data); err != nil || q.Kind != KindIngress {
						t.Errorf("%s deletes %+v (%v): only ingress qdiscs may go", r.Cmd, q, err)
					}
					continue
				}
				// A filter delete names the pref of one wire of ours.
				var fl Filter
				if err := fl.UnmarshalBinary(r.Data); err != nil {
					t.Fatal(err)
				}
				if r.Type != unix.RTM_DELTFILTER || fl.Pref != 49152 || fl.Handle != 0 || fl.Kind != KindU32 || fl.Protocol != ETH_P_ALL {
					t.Errorf("%s: type %d, %+v", r.Cmd, r.Type, fl)
				}
			}
		})
	}

	// The qdisc deletes are tc's, byte for byte.
	p := PlanUnwire(wired(eth0, tap0, KindIngress), Hook{Dev: tap0})
	checkAgainst(t, p.Requests[0], "qdisc-del-ingress")
	// When another key node shares the wire's pref, only the wire's node
	// goes: tc's `filter del … pref 49152 handle 800::800 protocol all u32`,
	// byte for byte given the filter as that command names it (without
	// the chain a dump adds).
	h := withMirror(wired(eth0, tap0, KindIngress))
	other := h.Filters[len(h.Filters)-1]
	other.Handle++ // 800::801, at pref 49152 too
	other.U32 = mirroring(eth0, peer0).Filters[2].U32
	h.Filters = append(h.Filters, other)
	for i := range h.Filters {
		h.Filters[i].Chain = nil
	}
	p = PlanUnwire(h, Hook{Dev: tap0})
	if len(p.Requests) != 1 {
		t.Fatalf("%q", planCmds(p))
	}
	checkAgainst(t, p.Requests[0], "filter-del-one")
	if want := loadFixture(t, "filter-del-one").Cmd; p.Requests[0].Cmd != want {
		t.Errorf("Cmd %q, tc ran %q", p.Requests[0].Cmd, want)
	}
	// A wire in another chain at the same pref does not share it.
	h = wired(eth0, tap0, KindClsact)
	other = h.Filters[2]
	one := uint32(1)
	other.Chain, other.Handle = &one, 0x80100800
	other.U32 = mirroring(eth0, peer0).Filters[2].U32
	h.Filters = append(h.Filters, other)
	if got := planCmds(PlanUnwire(h, Hook{Dev: tap0})); len(got) != 1 || got[0] != "tc filter del dev eth0 ingress pref 49152 chain 0 protocol all u32" {
		t.Errorf("other chain: %q", got)
	}
}

// TestPlanUnwireUndoesPlanWire: after the state PlanWire aims at, PlanUnwire
// removes everything it added, and a hook left alone stays alone.
func TestPlanUnwireUndoesPlanWire(t *testing.T) {
	_, eth0, tap0, _ := fixtureDevs(t)
	for _, qa := range []string{"", KindIngress, KindClsact} {
		ha := Hook{Dev: eth0, Qdisc: qa}
		p, err := PlanWire(ha, Hook{Dev: tap0}, WireOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Apply the plan to the hooks by hand, as the kernel would.
		after := [2]Hook{{Dev: eth0, Qdisc: qa}, {Dev: tap0}}
		for _, r := range p.Requests {
			var m Tcmsg
			if err := m.UnmarshalBinary(r.Data); err != nil {
				t.Fatal(err)
			}
			i := 0
			if m.Ifindex == tap0.Index {
				i = 1
			}
			switch r.Type {
			case unix.RTM_NEWQDISC:
				after[i].Qdisc = KindIngress
			case unix.RTM_NEWTFILTER:
				var f Filter
				if err := f.UnmarshalBinary(r.Data); err != nil {
					t.Fatal(err)
				}
				after[i].Filters = dumped(after[i].Dev, f.Parent, 49152, 0x800, f.Protocol, f.U32, uint32(i+1))
			}
		}
		if again, err := PlanWire(after[0], after[1], WireOptions{}); err != nil || len(again.Requests) != 0 {
			t.Errorf("qdisc %q: wiring the wired state plans %q, %v", qa, planCmds(again), err)
		}
		u := PlanUnwire(after[0], after[1])
		var dels []string
		for _, r := range u.Requests {
			dels = append(dels, r.Cmd)
		}
		wantA := "tc qdisc del dev eth0 ingress"
		if qa == KindClsact {
			wantA = "tc filter del dev eth0 ingress pref 49152 chain 0 protocol all u32"
		}
		want := []string{wantA, "tc qdisc del dev tap0 ingress"}
		if strings.Join(dels, "\n") != strings.Join(want, "\n") {
			t.Errorf("qdisc %q: unwire plan\n got %q\nwant %q", qa, dels, want)
		}
	}
}

// TestPlanExecuteEmpty: a plan with nothing to do sends nothing (no socket
// is needed).
func TestPlanExecuteEmpty(t *testing.T) {
	_, eth0, tap0, _ := fixtureDevs(t)
	p, err := PlanWire(wired(eth0, tap0, KindIngress), wired(tap0, eth0, KindIngress), WireOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Execute(nil); err != nil {
		t.Errorf("empty plan: %v", err)
	}
}

// TestPlanWireStale: a wire of tcwire's shape whose target is gone (the
// kernel reports ifindex 0: a veth or a tap recreated) is replaced, on
// either side, with or without other filters beside it.
func TestPlanWireStale(t *testing.T) {
	_, eth0, tap0, peer0 := fixtureDevs(t)
	gone := Dev{Name: "gone", Index: 0}
	withForeign := func(h Hook) Hook {
		m := mirroring(h.Dev, peer0)
		node := m.Filters[2].U32
		node.Sel.Keys = []U32Key{{Mask: 0xff, Val: 17, Off: 8}} // not a catch-all: foreign
		node.Actions[0].Mirred.Action = TC_ACT_UNSPEC           // and it continues
		h.Filters = append(h.Filters, m.Filters...)
		return h
	}
	for _, c := range []struct {
		name   string
		ha, hb Hook
		want   []string
	}{
		{"DEV's half into a tap qemu recreated", wired(eth0, gone, KindIngress), Hook{Dev: tap0},
			[]string{"tc qdisc del dev eth0 ingress", "tc qdisc add dev eth0 ingress", "tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
				"tc qdisc add dev tap0 ingress", "tc filter add dev tap0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev eth0"}},
		{"the tap's half into a veth recreated", Hook{Dev: eth0}, wired(tap0, gone, KindIngress),
			[]string{"tc qdisc add dev eth0 ingress", "tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0",
				"tc qdisc del dev tap0 ingress", "tc qdisc add dev tap0 ingress", "tc filter add dev tap0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev eth0"}},
		{"beside a foreign filter", withForeign(wired(eth0, gone, KindIngress)), wired(tap0, eth0, KindIngress),
			[]string{"tc filter del dev eth0 parent ffff: pref 49152 chain 0 protocol all u32", "tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := PlanWire(c.ha, c.hb, WireOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := planCmds(p); !slices.Equal(got, c.want) {
				t.Errorf("plan\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}
