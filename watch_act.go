package tcwire

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// endSeen is what Watch keeps of one device of a pair: its ifindex (0
// while it does not exist), admin state and carrier. Nothing else, so
// that memory does not grow with the notifications.
type endSeen struct {
	index       int32
	up, carrier bool
}

func seenOf(l *link.Link) endSeen {
	if l == nil {
		return endSeen{}
	}
	return endSeen{index: l.Index, up: l.Up(), carrier: l.Carrier}
}

// pairState is what Watch knows of a pair.
type pairState struct {
	dev, tap endSeen
	// wired is the (DEV, tap) ifindexes Watch last wired, {0, 0} for
	// none; failed those whose wiring failed, not tried again until one
	// of them changes or everything is read again.
	wired, failed [2]int32
	everWired     bool
	// told is the link state the VM was last told: 0 nothing yet (or
	// since its VMM went), 1 down, 2 up.
	told uint8
	// dirty marks a pair to settle; why is the first change since.
	dirty bool
	why   string
}

func (p *pairState) end(tap bool) *endSeen {
	if tap {
		return &p.tap
	}
	return &p.dev
}

// verdict is what decide says to do for a pair.
type verdict struct {
	attach  bool // wire DEV and the tap as they are now
	unwired bool // the wiring lost a device: say so
	// setDev and tellVM are 0 (nothing), 1 (down) or 2 (up).
	setDev, tellVM uint8
}

// decide is Watch's decision for a pair, a pure function of its state:
// wire when both devices exist and are not wired as they are now; with
// carry, DEV up exactly while the tap has carrier; with tell, the VM
// (present while the tap has carrier) told whether DEV exists with
// carrier, once DEV's admin state is what carry wants.
func decide(p pairState, carry, tell bool) verdict {
	var v verdict
	both := p.dev.index != 0 && p.tap.index != 0
	now := [2]int32{p.dev.index, p.tap.index}
	switch {
	case both && p.wired != now && p.failed != now:
		v.attach = true
	case !both && p.wired != [2]int32{}:
		v.unwired = true
	}
	if !carry {
		return v
	}
	vm := p.tap.index != 0 && p.tap.carrier
	if p.dev.index != 0 && p.dev.up != vm {
		v.setDev = upState(vm)
		return v // tell the VM once DEV has settled: its next notification
	}
	if tell && vm {
		if want := upState(p.dev.index != 0 && p.dev.carrier); p.told != want {
			v.tellVM = want
		}
	}
	return v
}

// upState is an up/down as verdict and pairState spell it.
func upState(up bool) uint8 {
	if up {
		return 2
	}
	return 1
}

// act carries out a verdict for pair i; at is when its cause was read.
func (w *watcher) act(ctx context.Context, i int, v verdict, ls LinkState, at time.Time) {
	p := &w.state[i]
	o := w.pairs[i]
	if p.tap.index == 0 || !p.tap.carrier {
		p.told = 0 // the next VMM is told afresh
	}
	switch {
	case v.attach:
		now := [2]int32{p.dev.index, p.tap.index}
		a, err := w.attach(ctx, o)
		if errors.Is(err, ErrNotFound) || link.IsNotFound(err) {
			break // deleted meanwhile: its notification follows
		}
		if err != nil {
			p.failed = now
			w.emit(i, WatchEvent{Kind: EventError, Err: err, Latency: time.Since(at)})
			break
		}
		kind := EventWired
		if p.everWired {
			kind = EventRewired
		}
		p.wired, p.failed, p.everWired = [2]int32{a.DevIndex, a.TapIndex}, [2]int32{}, true
		w.emit(i, WatchEvent{Kind: kind, DevIndex: a.DevIndex, TapIndex: a.TapIndex, Latency: time.Since(at)})
	case v.unwired:
		w.emit(i, WatchEvent{Kind: EventUnwired, DevIndex: p.wired[0], TapIndex: p.wired[1]})
		p.wired = [2]int32{}
	}
	if v.setDev != 0 {
		up := v.setDev == 2
		if err := w.setDev(ctx, p.dev.index, o.Dev, up); err != nil && !link.IsNotFound(err) {
			w.emit(i, WatchEvent{Kind: EventError, Link: "dev " + upDown(up), Err: err})
		} else if err == nil {
			w.emit(i, WatchEvent{Kind: EventLink, Link: "dev " + upDown(up), Latency: time.Since(at)})
		}
	}
	if v.tellVM != 0 {
		up := v.tellVM == 2
		if err := ls.TellVM(ctx, up); err != nil {
			w.emit(i, WatchEvent{Kind: EventError, Link: "vm " + upDown(up), Err: err})
		} else {
			p.told = v.tellVM
			w.emit(i, WatchEvent{Kind: EventLink, Link: "vm " + upDown(up), Latency: time.Since(at)})
		}
	}
}

// attach wires a pair as Handle.Attach does (its plan, carried out the
// same way, all or nothing, under the namespace's lock), but never creates
// the tap: one that is gone is ErrNotFound, and Watch waits for the next.
// A redirect of either device into a device that is gone (its half of the
// wiring before the other end was deleted) is removed first, and the plan
// made again.
func (w *watcher) attach(ctx context.Context, o Options) (a *Attachment, err error) {
	h := w.h
	err = h.call(ctx, &o, true, func() error {
		for try := 0; ; try++ {
			p, err := h.planAttach(ctx, o)
			switch {
			case err == nil && p.tap == nil:
				return &notFoundError{name: o.Tap}
			case errors.Is(err, tc.ErrTargetGone) && try == 0:
				if err := dropStale(h.c, o); err != nil {
					return err
				}
				continue
			case err != nil:
				return err
			}
			if err := h.act(ctx); err != nil {
				return err
			}
			a, err = p.attach(h.c)
			return err
		}
	})
	return a, err
}

// setDev sets DEV up or down, under the namespace's lock.
func (w *watcher) setDev(ctx context.Context, index int32, name string, up bool) error {
	r := link.SetDownRequest(index, name)
	if up {
		r = link.SetUpRequest(index, name)
	}
	return w.h.call(ctx, nil, true, func() error { return w.h.c.Exec(r) })
}

// dropStale removes the wire redirects of o's devices into devices that
// are gone, as Detach does, leaving everything else.
func dropStale(c *nl.Conn, o Options) error {
	var devs []tc.Dev
	for _, n := range []string{o.Dev, o.Tap} {
		l, err := lookupOptional(c, n)
		if err != nil {
			return err
		}
		if l != nil {
			devs = append(devs, devOf(l))
		}
	}
	hooks, err := tc.ReadHooks(c, devs)
	if err != nil {
		return err
	}
	var reqs []nl.Request
	for _, h := range hooks {
		reqs = append(reqs, staleRequests(h, wires(h))...)
	}
	return (&tc.Plan{Requests: reqs}).Remove(c)
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// String is the event as one line of text.
func (e WatchEvent) String() string {
	s := fmt.Sprintf("%s %s %s %s (ifindex %d, %d): %s", e.Time.Format(time.RFC3339Nano), e.Kind, e.Dev, e.Tap, e.DevIndex, e.TapIndex, e.Why)
	if e.Link != "" {
		s += "; " + e.Link
	}
	if e.Latency > 0 {
		s += fmt.Sprintf(" in %v", e.Latency)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}
