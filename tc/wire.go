package tc

import (
	"fmt"

	"github.com/tcwire/tcwire/nl"
)

// Wiring two devices both ways: the wire filter, the pure planners
// (PlanWire, PlanUnwire) that decide from both hooks what to add or
// delete, and Wire and Unwire, which read, plan and execute.

// WireOptions tunes the filters Wire adds. The zero value gives the filters
// of `tc filter add … protocol all u32 match u8 0 0 action mirred egress
// redirect dev …` with no pref, byte-identical to what tc sends.
type WireOptions struct {
	Pref     uint16   // 0: the kernel's choice, as tc without pref
	Protocol Protocol // 0 means ETH_P_ALL
}

// WireFilter is the filter that sends every frame arriving on from out of
// to: `tc filter add dev FROM parent P protocol all u32 match u8 0 0 action
// mirred egress redirect dev TO`.
func WireFilter(from, to Dev, parent Handle, o WireOptions) Filter {
	proto := o.Protocol
	if proto == 0 {
		proto = ETH_P_ALL
	}
	act := Action{Kind: KindMirred, Mirred: EgressRedirect(to.Index, to.Name)}
	return Filter{Dev: from.Name, Ifindex: from.Index, Parent: parent, Pref: o.Pref, Protocol: proto, U32: CatchAll(act)}
}

// PlanWire decides how to wire a and b both ways given their hooks (as
// ReadHook returns them; an empty Hook means no qdisc). It adds an ingress
// qdisc where there is none, reuses an ingress or clsact qdisc, leaves
// foreign filters alone, skips a direction already wired, and replaces a
// wire of tcwire's shape whose target no longer exists (a veth or tap
// recreated: that wire drops every frame). It refuses a device already
// wired elsewhere or mirroring (a wire would go ahead of the mirror, which
// would then never run) with a *RedirectedError, and one whose hook has
// foreign filters that would end the classification before the wire runs
// with a *BlockedError.
func PlanWire(ha, hb Hook, o WireOptions) (*Plan, error) {
	if ha.Dev.Index == hb.Dev.Index {
		return nil, fmt.Errorf("tc: cannot wire %s to itself", ha.Dev)
	}
	p := &Plan{}
	for _, dir := range [2][2]Hook{{ha, hb}, {hb, ha}} {
		from, to := dir[0], dir[1].Dev
		done, stale := false, false
		for _, r := range from.Redirects() {
			mirror := r.Eaction == TCA_EGRESS_MIRROR || r.Eaction == TCA_INGRESS_MIRROR
			switch {
			case !r.CatchAll, mirror && !r.IsMirror():
				continue // not tcwire's shape: a foreign filter, below
			case mirror:
				return nil, &RedirectedError{Dev: from.Dev, Redirect: r}
			case r.TargetIfindex == 0 && r.IsWire():
				stale = true
			case r.TargetIfindex != to.Index:
				return nil, &RedirectedError{Dev: from.Dev, Redirect: r}
			case r.IsWire():
				done = true
			}
		}
		if done && !stale {
			continue
		}
		if stale {
			reqs, qdiscGone := unwireDir(from, 0)
			for _, r := range reqs {
				p.add(r, nil) // a wire into nothing is not put back
			}
			if qdiscGone {
				from.Qdisc, from.Filters = "", nil
			} else {
				from.Filters = withoutWiresTo(from.Filters, 0)
			}
			if done {
				continue
			}
		}
		if blocking := from.Blocking(o.Pref); len(blocking) > 0 {
			pref := o.Pref
			if pref == 0 {
				pref = AutoPref(from.Filters)
			}
			return nil, &BlockedError{Dev: from.Dev, Pref: pref, Filters: blocking}
		}
		if from.Qdisc == "" {
			q := Ingress(from.Dev.Index, from.Dev.Name)
			p.add(AddQdiscRequest(q), func(c *nl.Conn) error { return c.Exec(DelQdiscRequest(q)) })
		}
		f := WireFilter(from.Dev, to, from.Parent(), o)
		req, err := AddFilterRequest(f)
		if err != nil {
			return nil, err
		}
		before := from.Filters
		p.add(req, func(c *nl.Conn) error { return removeNew(c, f, before) })
	}
	return p, nil
}

// withoutWiresTo is fs without the wire filters into target.
func withoutWiresTo(fs []Filter, target int32) []Filter {
	var out []Filter
	for _, f := range fs {
		if !isWireTo(f, target) {
			out = append(out, f)
		}
	}
	return out
}

// removeNew deletes the wire filter f that was added on top of the filters
// in before (the kernel chose its pref and handle, so it is found by dump).
func removeNew(c *nl.Conn, f Filter, before []Filter) error {
	now, err := Filters(c, f.Ifindex, f.Parent)
	if err != nil {
		return err
	}
	old := map[[2]uint32]bool{}
	for _, b := range before {
		old[[2]uint32{uint32(b.Pref), b.Handle}] = true
	}
	for _, n := range now {
		if old[[2]uint32{uint32(n.Pref), n.Handle}] {
			continue
		}
		for _, r := range (Hook{Filters: []Filter{n}}).Redirects() {
			if r.IsWire() && uint32(r.TargetIfindex) == f.U32.Actions[0].Mirred.Ifindex {
				return c.Exec(DelFilterRequest(n))
			}
		}
	}
	return nil
}

// PlanUnwire decides how to remove what PlanWire added between the hooks:
// the wire filters from each device to the other, and the ingress qdisc
// when that leaves it empty. A clsact qdisc and foreign filters stay. It
// takes time linear in the number of filters.
func PlanUnwire(ha, hb Hook) *Plan {
	p := &Plan{}
	for _, dir := range [2][2]Hook{{ha, hb}, {hb, ha}} {
		reqs, _ := unwireDir(dir[0], dir[1].Dev.Index)
		for _, r := range reqs {
			p.add(r, nil)
		}
	}
	return p
}

// unwireDir removes the wire filters of from into target: the ingress
// qdisc when they are all it holds (qdiscGone), else each of them.
func unwireDir(from Hook, target int32) (reqs []nl.Request, qdiscGone bool) {
	// Key nodes per classifier instance (pref and chain). Neither the
	// hash tables nor the handle-0 entry a dump gives for each instance
	// count.
	nodes := map[[2]uint32]int{}
	for _, f := range from.Filters {
		if isKeyNode(f) {
			nodes[instance(f)]++
		}
	}
	kept := 0
	var wires []Filter
	for _, f := range from.Filters {
		switch {
		case isWireTo(f, target):
			wires = append(wires, f)
		case isKeyNode(f):
			kept++ // a filter that is not ours
		}
	}
	if len(wires) == 0 {
		return nil, false
	}
	if from.Qdisc == KindIngress && kept == 0 {
		// Deleting the qdisc takes its filters with it.
		return []nl.Request{DelQdiscRequest(Ingress(from.Dev.Index, from.Dev.Name))}, true
	}
	for _, f := range wires {
		f.Dev = from.Dev.Name
		if n := nodes[instance(f)]; n == 0 || n == 1 && isKeyNode(f) {
			// Delete the pref, not just the key node: with other u32
			// prefs on the hook, the kernel would keep this one with an
			// empty hash table.
			f.Handle = 0
		}
		reqs = append(reqs, DelFilterRequest(f))
	}
	return reqs, false
}

// isKeyNode reports whether f is a filter proper: not the handle-0 entry a
// dump gives per classifier instance, nor a u32 hash table.
func isKeyNode(f Filter) bool {
	return f.Handle != 0 && (f.U32 == nil || f.U32.Divisor == 0)
}

// instance names f's classifier instance: its pref and chain (no
// TCA_CHAIN is chain 0).
func instance(f Filter) [2]uint32 {
	var chain uint32
	if f.Chain != nil {
		chain = *f.Chain
	}
	return [2]uint32{uint32(f.Pref), chain}
}

func isWireTo(f Filter, target int32) bool {
	if f.U32 == nil || len(f.U32.Actions) != 1 || f.U32.Divisor != 0 {
		return false
	}
	rs := (Hook{Filters: []Filter{f}}).Redirects()
	return len(rs) == 1 && rs[0].IsWire() && rs[0].TargetIfindex == target
}

// Wire connects a and b both ways: it reads both hooks, plans, and executes
// the plan in one round trip, all or nothing. On fresh devices that is two
// round trips in all: both probes in one sendmsg, the four creates in
// another. A second identical call changes nothing (the probes, a filter
// dump per device, nothing sent).
func Wire(c *nl.Conn, a, b Dev, o WireOptions) error {
	p, err := readAndPlan(c, a, b, func(ha, hb Hook) (*Plan, error) { return PlanWire(ha, hb, o) })
	if err != nil {
		return err
	}
	return p.Execute(c)
}

// Unwire removes what Wire added between a and b. It is idempotent.
func Unwire(c *nl.Conn, a, b Dev) error {
	p, err := readAndPlan(c, a, b, func(ha, hb Hook) (*Plan, error) { return PlanUnwire(ha, hb), nil })
	if err != nil {
		return err
	}
	return p.Remove(c)
}

func readAndPlan(c *nl.Conn, a, b Dev, plan func(ha, hb Hook) (*Plan, error)) (*Plan, error) {
	hs, err := ReadHooks(c, []Dev{a, b})
	if err != nil {
		return nil, err
	}
	return plan(hs[0], hs[1])
}
