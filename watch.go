package tcwire

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tcwire/tcwire/internal/uapi"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
)

// Kinds of WatchEvent.
const (
	// EventWired: a pair was wired for the first time since Watch began
	// (or found wired already).
	EventWired = "wired"
	// EventRewired: a pair whose device was deleted and made again is
	// wired anew, to the new ifindex.
	EventRewired = "rewired"
	// EventUnwired: a device of a wired pair is gone. DEV's redirect into
	// the deleted tap stays: it drops DEV's frames, an unplugged cable,
	// rather than hand them to DEV's own stack.
	EventUnwired = "unwired"
	// EventLink: link state carried across (LinkState): DEV set up or
	// down, or the VM told its link is up or down.
	EventLink = "link"
	// EventError: a repair or a link change failed; Watch goes on, and
	// tries again when the pair's devices change.
	EventError = "error"
)

// WatchEvent is something Watch did or saw.
type WatchEvent struct {
	Time time.Time `json:"time"`
	// Kind is one of the Event* constants.
	Kind string `json:"event"`
	// Pair is the index of the pair in Watch's pairs.
	Pair     int    `json:"pair"`
	Dev      string `json:"dev"`
	Tap      string `json:"tap"`
	DevIndex int32  `json:"dev_ifindex,omitempty"` // 0: DEV does not exist
	TapIndex int32  `json:"tap_ifindex,omitempty"` // 0: the tap does not exist
	// Why is what prompted it: "start", "tap0 appeared" …
	Why string `json:"why"`
	// Link is, for EventLink, what was done: "dev up", "dev down", "vm
	// up", "vm down".
	Link string `json:"link,omitempty"`
	// Latency is how long the change took, from the moment the
	// notification that prompted it was read off the socket to the
	// kernel's (or the VM's) last answer; 0 when nothing was changed.
	Latency time.Duration `json:"latency_ns,omitempty"`
	// Err is EventError's cause.
	Err error `json:"-"`
}

// LinkState carries one pair's link state across, both ways.
type LinkState struct {
	// Carry keeps DEV administratively down while the tap has no carrier
	// (no VMM holds it) and up while it has: the far end of DEV sees the
	// cable plugged in only while the VM is there.
	Carry bool
	// TellVM, when not nil (and Carry is set), tells the VM whether its
	// link is up: DEV exists and has carrier. It is called while a VMM
	// holds the tap: once when one appears (at start too), and each time
	// DEV's carrier changes. A failure is an EventError and the state is
	// told again at the pair's next change.
	TellVM func(ctx context.Context, up bool) error
}

// WatchOptions tune Watch.
type WatchOptions struct {
	// Event, when not nil, is called with each event, on Watch's
	// goroutine: a slow Event delays the repairs.
	Event func(WatchEvent)
	// LinkState is nil, or holds one LinkState per pair, in order.
	LinkState []LinkState
}

// Watch is Handle.Watch on a Handle of its own on the pairs' namespace.
func Watch(ctx context.Context, pairs []Options, wo WatchOptions) error {
	if len(pairs) == 0 {
		return checkWatch(pairs, wo)
	}
	return oneShot(pairs[0].NetNS, func(h *Handle) error { return h.Watch(ctx, pairs, wo) })
}

// Watch keeps the pairs wired until ctx ends, then returns nil and leaves
// the wirings in place. Every pair is wired (Attach) as soon as both of
// its devices exist, and again, to the new ifindex, whenever one is
// deleted and a device of its name appears; a redirect left pointing at
// the deleted device is replaced. Watch never creates a tap: it waits for
// the VMM's (or Attach's).
//
// It follows the namespace's link notifications on a socket of its own
// (it sleeps there while nothing changes) and reads the pairs' devices
// again when the kernel reports notifications lost. Its decisions depend
// on the devices' state, not on the notifications' order, so the changes
// it makes itself bring no further change. All pairs must be in one
// namespace. It returns an error only when it cannot go on: the options
// are invalid, or the socket failed.
func (h *Handle) Watch(ctx context.Context, pairs []Options, wo WatchOptions) error {
	pairs = append([]Options(nil), pairs...)
	for i := range pairs {
		if err := h.own(&pairs[i]); err != nil {
			return fmt.Errorf("pair %d: %w", i+1, err)
		}
	}
	if err := checkWatch(pairs, wo); err != nil {
		return err
	}
	// Subscribe before the first read: a change in between is not lost.
	ev, err := nl.DialEvents(&nl.Config{NetNS: h.ns}, uapi.RTNLGRP_LINK)
	if err != nil {
		return err
	}
	defer ev.Close()
	w := newWatcher(pairs, wo, h)
	why := "start"
	for {
		if why != "" {
			if err := w.readAll(ctx, why); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			why = ""
			w.settle(ctx, time.Now())
		}
		err := ev.Read(ctx, w.observe)
		now := time.Now()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, nl.ErrOverrun):
			why = "notifications lost: read again"
			continue
		case err != nil:
			return err
		}
		w.settle(ctx, now)
	}
}

// checkWatch refuses pairs Watch cannot keep: invalid options, pairs in
// different namespaces, a device in two pairs.
func checkWatch(pairs []Options, wo WatchOptions) error {
	if len(pairs) == 0 {
		return invalidf("Watch: no pairs")
	}
	if wo.LinkState != nil && len(wo.LinkState) != len(pairs) {
		return invalidf("Watch: %d LinkStates for %d pairs", len(wo.LinkState), len(pairs))
	}
	seen := map[string]int{}
	for i, o := range pairs {
		if err := o.Validate(); err != nil {
			return fmt.Errorf("pair %d: %w", i+1, err)
		}
		if o.mode() != ModeTC || o.Mirror {
			return invalidf("pair %d: Watch keeps tc wirings only (mode tc, no Mirror)", i+1)
		}
		if o.NetNS != pairs[0].NetNS {
			return invalidf("pair %d: NetNS %q, but pair 1's is %q: one Watch per namespace", i+1, o.NetNS, pairs[0].NetNS)
		}
		for _, n := range []string{o.Dev, o.Tap} {
			if j, ok := seen[n]; ok {
				return invalidf("pair %d: %s is in pair %d too", i+1, n, j+1)
			}
			seen[n] = i
		}
	}
	return nil
}

// watcher is Watch's state: what it knows of each pair's devices.
type watcher struct {
	pairs  []Options
	wo     WatchOptions
	h      *Handle
	state  []pairState
	byName map[string]ref
	dirty  []int // pairs to settle, each once
}

// ref is a pair's device: pair index, and tap or DEV.
type ref struct {
	pair int
	tap  bool
}

func newWatcher(pairs []Options, wo WatchOptions, h *Handle) *watcher {
	w := &watcher{pairs: pairs, wo: wo, h: h, state: make([]pairState, len(pairs)), byName: map[string]ref{}}
	for i, o := range pairs {
		w.byName[o.Dev] = ref{pair: i}
		w.byName[o.Tap] = ref{pair: i, tap: true}
	}
	return w
}

// readAll reads every pair's devices again (one sendmsg) and marks every
// pair to settle, for why.
func (w *watcher) readAll(ctx context.Context, why string) error {
	names := make([]string, 0, 2*len(w.pairs))
	for _, o := range w.pairs {
		names = append(names, o.Dev, o.Tap)
	}
	var links []*link.Link
	var errs []error
	if err := w.h.call(ctx, nil, false, func() error {
		links, errs = link.LookupNames(w.h.c, names...)
		return nil
	}); err != nil {
		return err
	}
	for i, err := range errs {
		if err != nil && !link.IsNotFound(err) {
			return err
		}
		p := &w.state[i/2]
		*p.end(i%2 == 1) = seenOf(links[i])
		p.failed = [2]int32{} // tried again, as everything is read again
		w.mark(i/2, why)
	}
	return nil
}

// observe takes one link notification into the pairs' state.
func (w *watcher) observe(m nl.Message) error {
	l, deleted, err := link.ParseEvent(m)
	if err != nil || l.Family == uapi.AF_BRIDGE {
		// A bridge port's notification is not a device's; an
		// undecodable one says nothing Watch can use.
		return nil
	}
	if r, ok := w.byName[l.Name]; ok {
		s := w.state[r.pair].end(r.tap)
		was := *s
		if deleted {
			*s = endSeen{}
		} else {
			*s = seenOf(l)
		}
		if *s != was {
			w.mark(r.pair, change(l.Name, was, *s))
		}
		return nil
	}
	// A watched device renamed away is gone under its name.
	for r, s := range w.indexed(l.Index) {
		*s = endSeen{}
		w.mark(r.pair, fmt.Sprintf("%s renamed %s", w.name(r), l.Name))
	}
	return nil
}

// indexed yields the watched devices known at ifindex (at most one).
func (w *watcher) indexed(ifindex int32) func(yield func(ref, *endSeen) bool) {
	return func(yield func(ref, *endSeen) bool) {
		for i := range w.state {
			for _, tap := range []bool{false, true} {
				if s := w.state[i].end(tap); s.index == ifindex {
					yield(ref{pair: i, tap: tap}, s)
					return
				}
			}
		}
	}
}

func (w *watcher) name(r ref) string {
	if r.tap {
		return w.pairs[r.pair].Tap
	}
	return w.pairs[r.pair].Dev
}

// change says what changed on a device, for an event's Why.
func change(name string, was, now endSeen) string {
	switch {
	case was.index == 0:
		return fmt.Sprintf("%s appeared (ifindex %d)", name, now.index)
	case now.index == 0:
		return fmt.Sprintf("%s deleted", name)
	case was.index != now.index:
		return fmt.Sprintf("%s replaced (ifindex %d, was %d)", name, now.index, was.index)
	case was.carrier != now.carrier:
		return fmt.Sprintf("%s carrier %s", name, onOff(now.carrier))
	case was.up != now.up:
		return fmt.Sprintf("%s %s", name, upDown(now.up))
	}
	return name + " changed"
}

func (w *watcher) mark(i int, why string) {
	p := &w.state[i]
	if !p.dirty {
		p.dirty = true
		p.why = why
		w.dirty = append(w.dirty, i)
	}
}

// settle decides and acts for every pair marked since the last time; at
// is when the notification that marked them was read.
func (w *watcher) settle(ctx context.Context, at time.Time) {
	for _, i := range w.dirty {
		p := &w.state[i]
		p.dirty = false
		var ls LinkState
		if w.wo.LinkState != nil {
			ls = w.wo.LinkState[i]
		}
		w.act(ctx, i, decide(*p, ls.Carry, ls.Carry && ls.TellVM != nil), ls, at)
		p.why = ""
	}
	w.dirty = w.dirty[:0]
}

// emit sends an event about pair i.
func (w *watcher) emit(i int, e WatchEvent) {
	if w.wo.Event == nil {
		return
	}
	p := &w.state[i]
	e.Time, e.Pair, e.Dev, e.Tap = time.Now(), i, w.pairs[i].Dev, w.pairs[i].Tap
	if e.DevIndex == 0 && e.TapIndex == 0 {
		e.DevIndex, e.TapIndex = p.dev.index, p.tap.index
	}
	if e.Why == "" {
		e.Why = p.why
	}
	w.wo.Event(e)
}
