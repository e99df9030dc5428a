package tcwire

import (
	"errors"
	"fmt"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// Mirror (tc mode, Options.Mirror): DEV keeps its frames and the tap gets a
// copy of those DEV receives, by a catch-all u32 with mirred egress mirror
// (TC_ACT_PIPE) on DEV's ingress. The tap's ingress gets nothing: what the
// VM sends goes nowhere.

// mirrorFilter is `tc filter add dev DEV parent P protocol all u32 match u8
// 0 0 action mirred egress mirror dev TAP`.
func mirrorFilter(from, to tc.Dev, parent tc.Handle) tc.Filter {
	return tc.Filter{Dev: from.Name, Ifindex: from.Index, Parent: parent, Protocol: tc.ETH_P_ALL,
		U32: tc.CatchAll(tc.Action{Kind: tc.KindMirred, Mirred: tc.EgressMirror(to.Index, to.Name)})}
}

// isMirrorTo reports whether r is the mirror mirrorFilter installs, to the
// device with ifindex target.
func isMirrorTo(r tc.Redirect, target int32) bool {
	return r.CatchAll && r.Eaction == tc.TCA_EGRESS_MIRROR && r.TargetIfindex == target
}

// mirrorRequests is what DEV's hook h needs to mirror to tap: nothing when
// it does already, else an ingress qdisc when it has none and the filter.
// A redirect on h (DEV wired, to the tap or elsewhere) is refused: it
// would take DEV's frames away.
func mirrorRequests(h tc.Hook, tap tc.Dev, name func(int32) string, o Options) ([]nl.Request, error) {
	for _, r := range h.Redirects() {
		switch {
		case isMirrorTo(r, tap.Index):
			return nil, nil
		case r.Eaction == tc.TCA_EGRESS_REDIR || r.Eaction == tc.TCA_INGRESS_REDIR:
			if r.TargetIfindex == tap.Index {
				return nil, &ConflictError{Dev: h.Dev.Name, Target: tap.Name + " (redirected, not mirrored)", Want: tap.Name + " (mirrored)",
					Pref: r.Pref, Handle: r.Handle, UndoDev: o.Dev, UndoTap: o.Tap}
			}
			return nil, conflict(name, &tc.RedirectedError{Dev: h.Dev, Redirect: r}, o)
		}
	}
	if b := h.Blocking(0); len(b) > 0 {
		return nil, conflict(name, &tc.BlockedError{Dev: h.Dev, Pref: tc.AutoPref(h.Filters), Filters: b}, o)
	}
	var reqs []nl.Request
	if h.Qdisc == "" {
		reqs = append(reqs, tc.AddQdiscRequest(tc.Ingress(h.Dev.Index, h.Dev.Name)))
	}
	f, err := tc.AddFilterRequest(mirrorFilter(h.Dev, tap, h.Parent()))
	if err != nil {
		return nil, err
	}
	return append(reqs, f), nil
}

// unmirrorRequests removes the mirrors of DEV's hook h to the device with
// ifindex tapIndex (-1: the tap is gone, and so are mirrors into ifindex 0):
// the ingress qdisc when they are all it holds, else their filters.
func unmirrorRequests(h tc.Hook, tapIndex int32) []nl.Request {
	target := tapIndex
	if target < 0 {
		target = 0
	}
	mirrors := map[[2]uint32]bool{}
	for _, r := range h.Redirects() {
		if isMirrorTo(r, target) {
			mirrors[[2]uint32{uint32(r.Pref), r.Handle}] = true
		}
	}
	if len(mirrors) == 0 {
		return nil
	}
	others := 0
	for _, f := range h.Filters {
		if f.Handle != 0 && !mirrors[[2]uint32{uint32(f.Pref), f.Handle}] && (f.U32 == nil || f.U32.Divisor == 0) {
			others++
		}
	}
	if h.Qdisc == tc.KindIngress && others == 0 {
		return []nl.Request{tc.DelQdiscRequest(tc.Ingress(h.Dev.Index, h.Dev.Name))}
	}
	var reqs []nl.Request
	for _, f := range h.Filters {
		if mirrors[[2]uint32{uint32(f.Pref), f.Handle}] {
			f.Dev = h.Dev.Name
			reqs = append(reqs, tc.DelFilterRequest(f))
		}
	}
	return reqs
}

// decideMirror is Attach's plan with Options.Mirror given what it read:
// DEV, the tap (nil when it does not exist) and DEV's hook.
func decideMirror(o Options, dev, tap *link.Link, h tc.Hook, name func(int32) string) (*Plan, error) {
	p := &Plan{Op: "attach", Options: o, mode: ModeTC, dev: dev, tap: tap}
	tapDev := tc.Dev{Name: o.Tap, Index: newTapIndex}
	if tap != nil {
		if err := checkTap(tap, o); err != nil {
			return nil, err
		}
		tapDev = devOf(tap)
	}
	mirror, err := mirrorRequests(h, tapDev, name, o)
	if err != nil {
		return nil, err
	}
	if tap == nil {
		p.addTapSteps(tapDev)
	} else if !tap.Up() {
		p.addRequests(link.SetUpRequest(tap.Index, tap.Name))
	}
	if len(mirror) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%s mirrors to %s already", o.Dev, o.Tap))
	}
	p.addRequests(mirror...)
	p.hooks = []tc.Hook{h}
	return p, nil
}

// attachMirror carries a mirror plan out: the tap made or brought up as
// for the wire, then the mirror; all or nothing.
func (p *Plan) attachMirror(c *nl.Conn) (*Attachment, error) {
	o, h := p.Options, p.hooks[0]
	a := &Attachment{Dev: p.dev.Name, DevIndex: p.dev.Index, MAC: p.dev.MAC, Queues: o.queues(), Mode: ModeTC}
	undo := func() error { return nil }
	if p.tap == nil {
		mtu := p.tapMTU()
		files, l, err := createTap(c, o.tapConfig(), func(tap tc.Dev) []nl.Request { return tapSetup(tap, o, mtu, p.alias()) }, o.Files)
		if err != nil {
			return nil, err
		}
		undo = func() error { closeFiles(files); return deleteTap(c, devOf(l)) }
		a.Files = files
		a.Tap, a.TapIndex, a.TapMAC, a.MTU, a.Created = l.Name, l.Index, l.MAC, mtu, true
	} else {
		if !p.tap.Up() {
			if err := c.Exec(link.SetUpRequest(p.tap.Index, p.tap.Name)); err != nil {
				return nil, err
			}
		}
		a.Tap, a.TapIndex, a.TapMAC, a.MTU = p.tap.Name, p.tap.Index, p.tap.MAC, p.tap.MTU
		if p.tap.Tun.MultiQueue && o.Queues == 0 {
			a.Queues = int(p.tap.NumTxQueues)
		}
	}
	if o.Files && a.Files == nil {
		t, err := tuntap.Open(tuntap.OpenConfig{Name: a.Tap, NetNS: o.NetNS, Queues: a.Queues})
		if err != nil {
			return nil, err
		}
		a.Files = t.Files()
	}
	reqs, err := mirrorRequests(h, tc.Dev{Name: a.Tap, Index: a.TapIndex}, func(int32) string { return "" }, o)
	if err == nil {
		stepHook("wire")
		errs := c.Do(reqs...)
		if err = errors.Join(errs...); err != nil && len(reqs) == 2 && errs[0] == nil {
			// The qdisc was added for the filter that failed.
			err = errors.Join(err, c.Exec(tc.DelQdiscRequest(tc.Ingress(h.Dev.Index, h.Dev.Name))))
		}
	}
	if err != nil {
		for _, f := range a.Files {
			f.Close()
		}
		return nil, errors.Join(err, undo())
	}
	return a, nil
}
