package tcwire

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// Tc mode (ModeTC): DEV and a tap wired both ways by tc, an ingress qdisc,
// a u32 catch-all and a mirred redirect on each; with Options.Mirror, a
// mirror on DEV's ingress instead (mirror.go).

// tcMode is ModeTC's planner.
type tcMode struct{}

func (tcMode) attachPlan(ctx context.Context, c *nl.Conn, o Options) (*Plan, error) {
	if o.Mirror {
		return planMirror(ctx, c, o)
	}
	dev, tap, err := lookupPair(ctx, c, o, true)
	if err != nil {
		return nil, err
	}
	devs := []tc.Dev{devOf(dev)}
	if tap != nil {
		devs = append(devs, devOf(tap))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hooks, err := tc.ReadHooks(c, devs)
	if err != nil {
		return nil, err
	}
	s := seen{dev: dev, tap: tap, hooks: hooks}
	if s.devAddrs, err = ipv6Addrs(c, dev, o.QuietDev); err != nil {
		return nil, err
	}
	if s.tapAddrs, err = ipv6Addrs(c, tap, o.QuietTap); err != nil {
		return nil, err
	}
	stepHook("read")
	return decideAttach(o, s, namer(c))
}

// seen is what Attach reads before it decides: DEV, the tap (nil when it
// does not exist), their hooks (DEV's first), and their IPv6 addresses
// when the options need them.
type seen struct {
	dev, tap           *link.Link
	hooks              []tc.Hook
	devAddrs, tapAddrs []*link.Addr
}

// decideAttach is Attach's plan given what it read. It is a pure function
// but for name, which names a device in a conflict.
func decideAttach(o Options, s seen, name func(int32) string) (*Plan, error) {
	dev, tap := s.dev, s.tap
	p := &Plan{Op: "attach", Options: o, mode: ModeTC, dev: dev, tap: tap, hooks: s.hooks, tapAlias: link.OwnerAlias}
	tapDev := tc.Dev{Name: o.Tap, Index: newTapIndex}
	if dev.Master != 0 {
		// tc's redirect runs before the master's receive handler and
		// would take the port's frames out of its bridge (or bond).
		m := name(dev.Master)
		if m == "" {
			m = fmt.Sprintf("the device with ifindex %d", dev.Master)
		}
		return nil, fmt.Errorf("%s is a port of %s: tc mode would take its frames from it: %w", dev.Name, m, ErrConflict)
	}
	if tap != nil {
		if err := checkTap(tap, o); err != nil {
			return nil, err
		}
		if o.QuietDev && !tap.Owned() {
			return nil, invalidf("QuietDev: %s was not made by tcwire, and tcwire keeps what it changes on %s in its own tap's alias; let Attach create the tap", tap.Name, dev.Name)
		}
		tapDev = devOf(tap)
	}
	wire, err := p.planWire(tapDev)
	if err != nil {
		return nil, conflict(name, err, o)
	}
	var rec devRecord
	if o.QuietDev {
		p.devQuiet, rec = quietRequests(dev, s.devAddrs)
		if len(p.devQuiet) > 0 {
			p.tapAlias = rec.alias()
		}
	}
	if tap == nil {
		p.addTapSteps(tapDev)
	} else {
		p.wire = wire
		if o.QuietTap {
			p.tapPre, _ = quietRequests(tap, s.tapAddrs)
		}
		if o.MTU == 0 && tap.MTU != dev.MTU {
			// The tap gets DEV's MTU, as one Attach creates does (and
			// as Check wants).
			t := *tap
			t.MTU = dev.MTU
			p.tap = &t
			p.tapPre = append(p.tapPre, link.SetMTURequest(tap.Index, tap.Name, dev.MTU))
		}
		if !tap.Up() {
			p.tapPre = append(p.tapPre, link.SetUpRequest(tap.Index, tap.Name))
		}
		if len(p.devQuiet) > 0 {
			// The record of what DEV had, for Detach.
			p.devQuiet = append([]nl.Request{link.SetAliasRequest(tap.Index, tap.Name, p.tapAlias)}, p.devQuiet...)
		}
		p.addRequests(p.tapPre...)
	}
	if len(wire.Requests) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%s and %s are wired both ways already", o.Dev, o.Tap))
	}
	p.addRequests(wire.Requests...)
	p.addRequests(p.devQuiet...)
	return p, nil
}

// planWire is tc's plan to wire DEV's hook (read) to the tap's (read, or
// empty for a new tap).
func (p *Plan) planWire(tap tc.Dev) (*tc.Plan, error) {
	th := tc.Hook{Dev: tap}
	if len(p.hooks) > 1 {
		th = p.hooks[1]
	}
	return tc.PlanWire(p.hooks[0], th, tc.WireOptions{})
}

// conflict turns tc's refusal to wire a device redirected elsewhere into a
// *ConflictError naming the devices of o.
func conflict(name func(int32) string, err error, o Options) error {
	var be *tc.BlockedError
	if errors.As(err, &be) {
		return &ForeignError{Dev: be.Dev.Name, Pref: be.Pref, Filters: be.Filters, Err: err}
	}
	var re *tc.RedirectedError
	if !errors.As(err, &re) {
		return err
	}
	ce := &ConflictError{Dev: re.Dev.Name, Want: o.Tap, Pref: re.Redirect.Pref, Handle: re.Redirect.Handle, Mirror: re.IsMirror(), Err: err}
	if re.Dev.Name == o.Tap {
		ce.Want = o.Dev
	}
	if idx := re.Redirect.TargetIfindex; idx != 0 {
		ce.Target = fmt.Sprintf("the device with ifindex %d", idx)
		if n := name(idx); n != "" {
			ce.Target = n
		}
	}
	// The pair is named the container's device first.
	switch {
	case ce.Target == "":
		ce.UndoDev, ce.UndoTap = o.Dev, o.Tap
	case re.Dev.Name == o.Tap:
		ce.UndoDev, ce.UndoTap = ce.Target, o.Tap
	default:
		ce.UndoDev, ce.UndoTap = o.Dev, ce.Target
	}
	if ce.Target == ce.Want {
		// Wired to that very device by tc, where another mode was asked.
		ce.Target += " by tc"
		ce.Want += " in " + string(o.mode()) + " mode"
	}
	return ce
}

// attach carries out a tc-mode plan: the mirror's, a new tap's, or the
// wiring of an existing one.
func (tcMode) attach(p *Plan, c *nl.Conn) (*Attachment, error) {
	if p.Options.Mirror {
		return p.attachMirror(c)
	}
	o := p.Options
	a := &Attachment{Dev: p.dev.Name, DevIndex: p.dev.Index, MAC: p.dev.MAC, Queues: o.queues(), Mode: ModeTC}
	if p.tap == nil {
		return p.attachNew(c, a)
	}
	// An existing tap is brought up; its owner set it up as it wants.
	if err := errors.Join(c.Do(p.tapPre...)...); err != nil {
		return nil, err
	}
	stepHook("wire")
	if err := p.wire.Execute(c); err != nil {
		return nil, err
	}
	if err := p.quietDev(c, devOf(p.tap)); err != nil {
		return nil, err
	}
	a.Tap, a.TapIndex, a.TapMAC, a.MTU = p.tap.Name, p.tap.Index, p.tap.MAC, p.tap.MTU
	if p.tap.Tun.MultiQueue && o.Queues == 0 {
		// A multi-queue tap has no queue count of its own to report;
		// the VMM opens as many as it was told.
		a.Queues = int(p.tap.NumTxQueues)
	}
	if o.Files {
		t, err := tuntap.Open(tuntap.OpenConfig{Name: p.tap.Name, NetNS: o.NetNS, Queues: a.Queues})
		if err != nil {
			return nil, err
		}
		a.Files = t.Files()
	}
	return a, nil
}

// attachNew creates the tap, sets it up, wires it, and deletes it again if
// any of that fails.
func (p *Plan) attachNew(c *nl.Conn, a *Attachment) (*Attachment, error) {
	o := p.Options
	mtu := p.tapMTU()
	files, l, err := createTap(c, o.tapConfig(), func(tap tc.Dev) []nl.Request { return tapSetup(tap, o, mtu, p.alias()) }, o.Files)
	if err != nil {
		return nil, err
	}
	tap := devOf(l)
	a.Tap, a.TapIndex, a.TapMAC, a.MTU, a.Created, a.Files = tap.Name, tap.Index, l.MAC, mtu, true, files
	wire, err := p.planWire(tap)
	if err == nil {
		stepHook("wire")
		err = wire.Execute(c)
	}
	if err == nil {
		err = p.quietDev(c, tap)
	}
	if err != nil {
		closeFiles(files)
		return nil, errors.Join(err, deleteTap(c, tap))
	}
	return a, nil
}

// quietDev silences DEV once it is wired to tap; if that fails, it puts
// back what it changed and removes the wiring (the caller deletes a tap it
// created).
func (p *Plan) quietDev(c *nl.Conn, tap tc.Dev) error {
	if len(p.devQuiet) == 0 {
		return nil
	}
	err := errors.Join(c.Do(p.devQuiet...)...)
	if err == nil {
		return nil
	}
	rec, _ := parseRecord(p.tapAlias)
	undo := []error{err}
	for _, e := range c.Do(restoreRequests(p.dev, link.AddrGenModeNone, rec)...) {
		if e != nil && !errors.Is(e, unix.EEXIST) {
			undo = append(undo, fmt.Errorf("rollback: %w", e))
		}
	}
	if e := tc.Unwire(c, devOf(p.dev), tap); e != nil {
		undo = append(undo, fmt.Errorf("rollback: %w", e))
	}
	return errors.Join(undo...)
}

// aliasOf is l's alias, "" for no device.
func aliasOf(l *link.Link) string {
	if l == nil {
		return ""
	}
	return l.Alias
}

// wires are the wire redirects (IsWire) on a hook, by target ifindex; 0 is
// a target that no longer exists.
func wires(h tc.Hook) map[int32]bool {
	m := map[int32]bool{}
	for _, r := range h.Redirects() {
		if r.IsWire() {
			m[r.TargetIfindex] = true
		}
	}
	return m
}

// planDetachTC reads what tc mode's Detach decides from (DEV and the tap
// were read), and decides.
func (tcMode) detachPlan(c *nl.Conn, o Options, r read) (*Plan, error) {
	if r.dev == nil && r.tap == nil {
		return nil, fmt.Errorf("neither %s nor %s exists: %w", o.Dev, o.Tap, ErrNotFound)
	}
	dev, tap, held := r.dev, r.tap, r.held
	var devs []tc.Dev
	for _, l := range []*link.Link{dev, tap} {
		if l != nil {
			devs = append(devs, devOf(l))
		}
	}
	hooks, err := tc.ReadHooks(c, devs)
	if err != nil {
		return nil, err
	}
	return decideDetach(o, dev, tap, held, hooks, namer(c))
}

// decideDetach is Detach's plan given what it read: DEV and the tap (nil
// when missing, not both), whether a process holds the tap open, and the
// hooks of those that exist, in that order. It is a pure function but for
// name, which names a device in a conflict.
func decideDetach(o Options, dev, tap *link.Link, held bool, hooks []tc.Hook, name func(int32) string) (*Plan, error) {
	p := &Plan{Op: "detach", Options: o, mode: ModeTC, dev: dev, tap: tap}
	if tap != nil && (tap.Kind != link.KindTun || tap.Tun == nil) {
		return nil, fmt.Errorf("%s is a %s device, %w", tap.Name, kindName(tap.Kind), ErrNotTap)
	}
	var dh, th tc.Hook
	var dw, tw map[int32]bool
	if dev != nil {
		dh = hooks[0]
		dw = wires(dh)
	}
	if tap != nil {
		th = hooks[len(hooks)-1]
		tw = wires(th)
	}
	devIndex, tapIndex := int32(-1), int32(-1)
	if dev != nil {
		devIndex = dev.Index
	}
	if tap != nil {
		tapIndex = tap.Index
	}
	// Refuse devices wired to a third one: the typo that would delete a
	// running VM's tap.
	if err := elsewhere(name, th, tw, devIndex, o); err != nil {
		return nil, err
	}
	if err := elsewhere(name, dh, dw, tapIndex, o); err != nil {
		return nil, err
	}

	p.unwire = &tc.Plan{}
	if dev != nil && tap != nil {
		p.unwire.Requests = tc.PlanUnwire(dh, th).Requests
	}
	// Redirects into the void go too: a half whose other end was deleted
	// (the tap first, or DEV with its container).
	p.unwire.Requests = append(p.unwire.Requests, staleRequests(dh, dw)...)
	p.unwire.Requests = append(p.unwire.Requests, staleRequests(th, tw)...)
	if dev != nil {
		p.unwire.Requests = append(p.unwire.Requests, unmirrorRequests(dh, tapIndex)...)
	}
	p.addRequests(p.unwire.Requests...)
	if rec, ok := parseRecord(aliasOf(tap)); ok && dev != nil && dev.Inet6 != nil {
		p.restore = restoreRequests(dev, dev.Inet6.AddrGenMode, rec)
		p.addRequests(p.restore...)
	}
	switch {
	case tap == nil:
		p.Notes = append(p.Notes, o.Tap+" does not exist")
	case tap.Owned() && held:
		p.keepInUse(tap.Name)
	case tap.Owned():
		p.delTap = true
		r := link.DeleteRequest(tap.Index, tap.Name)
		p.Steps = append(p.Steps, Step{Cmd: r.Cmd, Request: &r})
		p.done.Deleted = append(p.done.Deleted, tap.Name)
	default:
		p.keep(tap.Name, KeptNotOwned, fmt.Sprintf("%s stays: it does not carry tcwire's mark (alias %q), so tcwire did not create it", o.Tap, link.OwnerAlias))
	}
	if dev == nil {
		p.Notes = append(p.Notes, o.Dev+" does not exist")
	}
	return p, nil
}

// elsewhere refuses a hook whose wire redirects go to a live device other
// than the other one of o (ifindex wantIndex, -1 when it does not exist),
// unless one of them goes to it too.
func elsewhere(name func(int32) string, h tc.Hook, w map[int32]bool, wantIndex int32, o Options) error {
	if w[wantIndex] {
		return nil
	}
	for _, r := range h.Redirects() {
		if r.IsWire() && r.TargetIfindex != 0 {
			return conflict(name, &tc.RedirectedError{Dev: h.Dev, Redirect: r}, o)
		}
	}
	return nil
}

// staleRequests removes the wire redirects of h into devices that are gone,
// if it has any.
func staleRequests(h tc.Hook, w map[int32]bool) []nl.Request {
	if !w[0] {
		return nil
	}
	return tc.PlanUnwire(h, tc.Hook{Dev: tc.Dev{Name: "(deleted)", Index: 0}}).Requests
}

// detach carries out a tc-mode Detach plan.
func (tcMode) detach(p *Plan, c *nl.Conn) error {
	if err := p.unwire.Remove(c); err != nil {
		return err
	}
	for _, err := range c.Do(p.restore...) {
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
	}
	if p.delTap {
		if err := c.Exec(link.DeleteRequest(p.tap.Index, p.tap.Name)); err != nil && !link.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (tcMode) check(c *nl.Conn, o Options, r read) ([]Problem, error) {
	return checkTC(c, o, r.dev, r.tap)
}
