package tcwire

// AttachAll and DetachAll: many entries on one handle, each with the
// guarantees of a single Attach or Detach.
//
// AttachAll plans runs of entries together (allRun): every device is
// looked up in one batch of requests, every hook probed in one, the taps
// created by their ioctls alone, and the setup and wiring requests of the
// whole run sent in as few sendmsgs as the socket takes. A run in which
// anything fails is rolled back whole and done again one entry at a time,
// which stops at the entry that fails, so that the failure and what stays
// done are exactly those of single attaches.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// BatchError is the failure of entry Index of AttachAll or DetachAll: the
// entries before it are done, it is undone, the ones after it untried.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return fmt.Sprintf("entry %d: %v", e.Index, e.Err) }

// Unwrap returns the entry's error.
func (e *BatchError) Unwrap() error { return e.Err }

// allRun is the most entries AttachAll plans and sends together: enough to
// fill the socket's sendmsgs, few enough that a run's open tap files and
// replies stay small.
const allRun = 256

// AttachAll attaches every pair of os in order, each with Attach's
// guarantees (all or nothing, a second identical call changes nothing,
// refusals name what is in the way), under one hold of the namespace's
// lock. It returns the Attachments of the entries done; a failure is a
// *BatchError, and the entries before it stay done.
func (h *Handle) AttachAll(ctx context.Context, os []Options) ([]*Attachment, error) {
	out := make([]*Attachment, 0, len(os))
	os = slices.Clone(os) // own sets each entry's namespace: not the caller's
	for i := range os {
		if err := h.own(&os[i]); err != nil {
			return out, &BatchError{Index: i, Err: err}
		}
	}
	err := h.call(ctx, nil, true, func() error {
		for i := 0; i < len(os); {
			n := fastRun(os[i:])
			if n > 1 {
				h.rebind(ctx)
				as, err := h.attachRun(ctx, os[i:i+n])
				if err == nil {
					out = append(out, as...)
					i += n
					continue
				}
				if ctx.Err() != nil {
					return &BatchError{Index: i, Err: err}
				}
				// Rolled back: one at a time tells which entry fails.
			}
			for end := i + max(n, 1); i < end; i++ {
				h.rebind(ctx)
				a, err := h.attach(ctx, os[i])
				if err != nil {
					return &BatchError{Index: i, Err: classify(err)}
				}
				out = append(out, a)
			}
		}
		return nil
	})
	return out, err
}

// DetachAll detaches every pair of os in order, each with Detach's
// guarantees, under one hold of the namespace's lock. A failure is a
// *BatchError.
func (h *Handle) DetachAll(ctx context.Context, os []Options) ([]*Detachment, error) {
	out := make([]*Detachment, 0, len(os))
	os = slices.Clone(os)
	for i := range os {
		if err := h.own(&os[i]); err != nil {
			return out, &BatchError{Index: i, Err: err}
		}
	}
	err := h.call(ctx, nil, true, func() error {
		for i, o := range os {
			h.rebind(ctx)
			d, err := h.detach(ctx, o)
			if err != nil {
				return &BatchError{Index: i, Err: classify(err)}
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// rebind binds the socket's reads to ctx again for the next entry: act
// ends the binding when an entry starts changing things.
func (h *Handle) rebind(ctx context.Context) {
	h.unbind()
	h.unbind = h.c.Bind(ctx)
}

// fastRun is how many entries at the head of os AttachAll can plan
// together: valid entries of tc mode's wire that read no addresses and
// keep no files, none naming a device another one names (an entry must
// see the state the ones before it leave), at most allRun.
func fastRun(os []Options) int {
	seen := map[string]bool{}
	for i, o := range os {
		if i == allRun || o.mode() != ModeTC || o.Mirror || o.QuietDev || o.QuietTap || o.Files ||
			o.Validate() != nil || seen[o.Dev] || seen[o.Tap] {
			return i
		}
		seen[o.Dev], seen[o.Tap] = true, true
	}
	return len(os)
}

// runEntry is an entry of a run on its way: its plan, and the tap it
// creates.
type runEntry struct {
	p    *Plan
	tap  *tuntap.Tap // created, until its files are closed
	made *link.Link  // the tap created
	wire *tc.Plan
	a    *Attachment
}

// errFallback makes AttachAll do a run one entry at a time: something in
// it is not the plain case (a device missing, a conflict), and single
// attaches report it exactly.
var errFallback = errors.New("an entry needs a single attach")

// attachRun attaches entries that fastRun let through together, or
// rolls back what it did and fails.
func (h *Handle) attachRun(ctx context.Context, os []Options) ([]*Attachment, error) {
	c := h.c
	es, err := h.planRun(ctx, os)
	if err != nil {
		return nil, err
	}
	if err := h.act(ctx); err != nil {
		return nil, err
	}
	var fresh []*runEntry
	for _, e := range es {
		if e.p.tap == nil {
			fresh = append(fresh, e)
		}
	}
	stepHook("read")
	if err := h.createTaps(fresh); err != nil {
		return nil, err
	}
	// Wired, then up: a tap's ingress qdisc added while it is down spares
	// the kernel a dev_deactivate (a synchronize_net each); the taps made,
	// their files closed, go up last, as createTap has them.
	var reqs, ups []nl.Request
	for _, e := range es {
		if e.made == nil {
			reqs = append(reqs, e.p.tapPre...)
			e.wire = e.p.wire
		} else if e.wire, err = e.p.planWire(devOf(e.made)); err != nil {
			return nil, errors.Join(err, rollbackRun(c, es, nil))
		} else {
			ups = append(ups, link.SetUpRequest(e.made.Index, e.made.Name))
		}
	}
	for _, e := range es {
		reqs = append(reqs, e.wire.Requests...)
	}
	reqs = append(reqs, ups...)
	stepHook("wire")
	errs := c.Do(reqs...)
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(err, rollbackRun(c, es, errs))
	}
	as := make([]*Attachment, len(es))
	for i, e := range es {
		as[i] = e.a
	}
	return as, nil
}

// planRun reads what the entries decide from, all devices in one batch and
// all hooks in another, and decides each entry's plan as Attach would.
func (h *Handle) planRun(ctx context.Context, os []Options) ([]*runEntry, error) {
	c := h.c
	names := make([]string, 0, 2*len(os))
	for _, o := range os {
		names = append(names, o.Dev, o.Tap)
	}
	links, errs := link.LookupNames(c, names...)
	var devs []tc.Dev
	for i, err := range errs {
		switch {
		case i%2 == 0 && err != nil, err != nil && !link.IsNotFound(err):
			return nil, errFallback
		case links[i] != nil:
			devs = append(devs, devOf(links[i]))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hooks, err := tc.ReadHooks(c, devs)
	if err != nil {
		return nil, err
	}
	es := make([]*runEntry, len(os))
	for i, o := range os {
		s := seen{dev: links[2*i], tap: links[2*i+1], hooks: hooks[:1]}
		hooks = hooks[1:]
		if s.tap != nil {
			s.hooks, hooks = append(s.hooks, hooks[0]), hooks[1:]
		}
		p, err := decideAttach(o, s, namer(c))
		if err != nil {
			return nil, errFallback
		}
		es[i] = &runEntry{p: p, a: &Attachment{Dev: s.dev.Name, DevIndex: s.dev.Index, MAC: s.dev.MAC, Queues: o.queues(), Mode: ModeTC}}
		if t := s.tap; t != nil {
			es[i].a.Tap, es[i].a.TapIndex, es[i].a.TapMAC, es[i].a.MTU = t.Name, t.Index, t.MAC, t.MTU
			if t.Tun.MultiQueue && o.Queues == 0 {
				es[i].a.Queues = int(t.NumTxQueues)
			}
		}
	}
	return es, nil
}

// createTaps makes the taps of the entries as createTap does, each step
// for all of them at once: their TUNSETIFF and ownership ioctls on one
// thread in the namespace, one batch of lookups, one batch of setup
// requests, then persistence and the files closed. On failure none is
// left.
func (h *Handle) createTaps(es []*runEntry) error {
	if len(es) == 0 {
		return nil
	}
	err := h.thr.Run(func() error {
		for _, e := range es {
			cfg := e.p.Options.tapConfig()
			cfg.NetNS, cfg.Persist = "", false
			t, err := tuntap.Create(cfg)
			if err != nil {
				return err
			}
			e.tap = t
		}
		return nil
	})
	stepHook("create")
	names := make([]string, 0, len(es))
	for _, e := range es {
		if e.tap != nil {
			names = append(names, e.tap.Name())
		}
	}
	var reqs []nl.Request
	if err == nil {
		links, errs := link.LookupNames(h.c, names...)
		err = errors.Join(errs...)
		for i, e := range es {
			if err != nil {
				break
			}
			e.made = links[i]
			mtu := e.p.tapMTU()
			reqs = append(reqs, tapSetup(devOf(e.made), e.p.Options, mtu, e.p.alias())...)
			e.a.Tap, e.a.TapIndex, e.a.TapMAC, e.a.MTU, e.a.Created = e.made.Name, e.made.Index, e.made.MAC, mtu, true
		}
	}
	if err == nil {
		err = errors.Join(h.c.Do(reqs...)...)
	}
	stepHook("setup")
	for _, e := range es {
		if err == nil && e.tap != nil {
			err = e.tap.SetPersist(true)
		}
	}
	stepHook("persist")
	for _, e := range es {
		if e.tap != nil {
			if cerr := e.tap.Close(); err == nil {
				err = cerr
			}
			e.tap = nil
		}
	}
	if err != nil {
		return errors.Join(err, deleteTaps(h.c, es))
	}
	return nil
}

// rollbackRun undoes a run's batch (errs are Do's errors for its
// requests; nil when none was sent): the wires' requests that succeeded,
// then the taps the run made.
func rollbackRun(c *nl.Conn, es []*runEntry, errs []error) error {
	var undo []error
	if errs != nil {
		// The requests went in entry order: the existing taps' setup,
		// then the wires, then the new taps' ups.
		off := 0
		for _, e := range es {
			if e.made == nil {
				off += len(e.p.tapPre)
			}
		}
		for _, e := range es {
			k := len(e.wire.Requests)
			if err := e.wire.Undo(c, errs[off:off+k]); err != nil {
				undo = append(undo, fmt.Errorf("rollback: %w", err))
			}
			off += k
		}
	}
	return errors.Join(append(undo, deleteTaps(c, es))...)
}

// deleteTaps deletes the taps the run made, in one batch.
func deleteTaps(c *nl.Conn, es []*runEntry) error {
	var reqs []nl.Request
	for _, e := range es {
		if e.made != nil {
			reqs = append(reqs, link.DeleteRequest(e.made.Index, e.made.Name))
		}
	}
	var errs []error
	for i, err := range c.Do(reqs...) {
		if err != nil && !link.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("rollback: delete tap %s: %w", reqs[i].Cmd, err))
		}
	}
	return errors.Join(errs...)
}
