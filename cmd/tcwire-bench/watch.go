package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/internal/uapi"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// The watch repair latency: the VM's tap deleted and made again (a VMM
// restarted) while a repairer keeps the pair wired, timed by an observer
// of its own in the repairer's namespace (see bench.Watch).

const (
	watchFloorName = "netlink-floor"
	watchDev       = "eth0"
	watchTap       = "tap0"
	// watchStep bounds one recreation: the repairer's reaction to the
	// tap's deletion, then the repair.
	watchStep = 5 * time.Second
)

// repairer keeps eth0 and tap0 of a namespace wired. start returns once
// it is running; settled receives a value each time it has taken the
// tap's deletion in (it is idle again); reported receives its own timing
// of each repair, when it has one. stop ends it.
type repairer struct {
	name, desc string
	start      func(ns string, dev int32, settled chan<- struct{}, reported chan<- time.Duration) (stop func() error, err error)
}

var repairers = []repairer{
	{name: "tcwire-watch", desc: "Handle.Watch in process (its own event socket; each repair an attach: read both devices, drop the stale redirect, plan, send, under the namespace's lock)", start: startWatch},
	{name: watchFloorName, desc: "a loop on one raw socket subscribed to link notifications: on the new tap's RTM_NEWLINK, the four requests of a fresh wiring in one write, four acks read", start: startWatchFloor},
}

// watchEnv is one repairer's namespace: eth0 (a veth), the tap as a VMM
// holds it, and the observer.
type watchEnv struct {
	r        repairer
	ns       string
	dev      int32
	tap      *tuntap.Tap
	obs      *nl.Events
	seen     chan obsEvent
	settled  chan struct{}
	reported chan time.Duration
	stop     func() error
	cancel   context.CancelFunc
	lat, own []int64 // ns
}

// obsEvent is what the observer read and when: a new tap0 (index), or a
// wire redirect from → to.
type obsEvent struct {
	at            time.Time
	tap           int32
	from, to      int32
	redirect, bad bool
}

func (h *harness) runWatch() []bench.Watch {
	n := 200
	if h.quick {
		n = 50
	}
	var envs []*watchEnv
	defer func() {
		for _, e := range envs {
			e.close()
		}
	}()
	for _, r := range repairers {
		e, err := newWatchEnv(r)
		if err != nil {
			h.fail("watch %s: set-up: %v", r.name, err)
			return nil
		}
		envs = append(envs, e)
	}
	for i := range n + 1 { // the first round warms up
		for _, e := range rotate(envs, i) {
			lat, err := e.recreate()
			if err != nil {
				h.fail("watch %s: recreation %d: %v", e.r.name, i, err)
				return nil
			}
			if i > 0 {
				e.lat = append(e.lat, lat.Nanoseconds())
			}
			select {
			case d := <-e.reported:
				if i > 0 {
					e.own = append(e.own, d.Nanoseconds())
				}
			default:
			}
		}
	}
	var out []bench.Watch
	for _, e := range envs {
		slices.Sort(e.lat)
		slices.Sort(e.own)
		w := bench.Watch{Name: e.r.name, Description: e.r.desc, Recreations: len(e.lat),
			MinUs: percentile(e.lat, 0), P50us: percentile(e.lat, 0.5), P99us: percentile(e.lat, 0.99), MaxUs: percentile(e.lat, 1)}
		if len(e.own) > 0 {
			w.ReportedP50us, w.ReportedP99us = ptr(percentile(e.own, 0.5)), ptr(percentile(e.own, 0.99))
		}
		out = append(out, w)
	}
	for i := range out {
		out[i].Ratio = out[i].P50us / out[len(out)-1].P50us
		h.progress("watch %s: p50 %.0f µs, p99 %.0f µs over %d recreations", out[i].Name, out[i].P50us, out[i].P99us, out[i].Recreations)
	}
	return out
}

func newWatchEnv(r repairer) (e *watchEnv, err error) {
	ns, err := newNS("watch", false)
	if err != nil {
		return nil, err
	}
	e = &watchEnv{r: r, ns: ns, seen: make(chan obsEvent, 64), settled: make(chan struct{}, 1), reported: make(chan time.Duration, 1)}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	c, err := dial(ns)
	if err != nil {
		return e, err
	}
	defer c.Close()
	if err := c.Exec(link.AddVethRequest(link.Veth{Name: watchDev, Peer: "peer0"}, -1)); err != nil {
		return e, err
	}
	l, err := link.Lookup(c, watchDev)
	if err != nil {
		return e, err
	}
	e.dev = l.Index
	if err := c.Exec(link.SetUpRequest(l.Index, watchDev)); err != nil {
		return e, err
	}
	if e.tap, err = tuntap.Create(tuntap.Config{Name: watchTap, NetNS: ns}); err != nil {
		return e, err
	}
	if e.obs, err = nl.DialEvents(&nl.Config{NetNS: ns}, uapi.RTNLGRP_LINK, uapi.RTNLGRP_TC); err != nil {
		return e, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go e.observe(ctx)
	if e.stop, err = r.start(ns, e.dev, e.settled, e.reported); err != nil {
		return e, err
	}
	// The pair wired at start (the tap exists).
	_, err = e.whole(0, time.Now().Add(watchStep))
	return e, err
}

func (e *watchEnv) close() {
	if e.stop != nil {
		e.stop()
	}
	if e.cancel != nil {
		e.cancel()
	}
	if e.obs != nil {
		e.obs.Close()
	}
	if e.tap != nil {
		e.tap.Close()
	}
	delNS(e.ns)
}

// observe reads the namespace's link and tc notifications and passes on
// those the clock needs, stamped with the time they were read.
func (e *watchEnv) observe(ctx context.Context) {
	for {
		err := e.obs.Read(ctx, func(m nl.Message) error {
			at := time.Now()
			switch m.Header.Type {
			case uapi.RTM_NEWLINK:
				l, _, err := link.ParseEvent(m)
				if err == nil && l.Name == watchTap {
					e.seen <- obsEvent{at: at, tap: l.Index}
				}
			case uapi.RTM_NEWTFILTER:
				var f tc.Filter
				if f.UnmarshalBinary(m.Data) != nil {
					return nil
				}
				for _, r := range (tc.Hook{Filters: []tc.Filter{f}}).Redirects() {
					if r.IsWire() {
						e.seen <- obsEvent{at: at, redirect: true, from: r.Ifindex, to: r.TargetIfindex}
					}
				}
			}
			return nil
		})
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// An overrun loses the clock's marks: the recreation
			// waiting for them fails by its deadline.
			e.seen <- obsEvent{at: time.Now(), bad: true}
		}
	}
}

// recreate closes the tap (the VMM exits), waits for the repairer to take
// it in, makes the tap again, and returns the observer's time from the new
// tap's RTM_NEWLINK to the wire whole.
func (e *watchEnv) recreate() (time.Duration, error) {
	old := e.tap
	e.tap = nil
	if err := old.Close(); err != nil {
		return 0, err
	}
	select {
	case <-e.settled:
	case <-time.After(watchStep):
		return 0, errors.New("the repairer did not take the tap's deletion in")
	}
	// Marks of the old tap's repair and deletion are stale.
	for len(e.seen) > 0 {
		<-e.seen
	}
	var err error
	if e.tap, err = tuntap.Create(tuntap.Config{Name: watchTap, NetNS: e.ns}); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(watchStep)
	var t0 obsEvent
	for t0.tap == 0 {
		if t0, err = e.next(deadline); err != nil {
			return 0, fmt.Errorf("the new tap's RTM_NEWLINK: %w", err)
		}
	}
	t1, err := e.whole(t0.tap, deadline)
	if err != nil {
		return 0, err
	}
	return t1.Sub(t0.at), nil
}

func (e *watchEnv) next(deadline time.Time) (obsEvent, error) {
	select {
	case ev := <-e.seen:
		if ev.bad {
			return ev, errors.New("the observer lost notifications")
		}
		return ev, nil
	case <-time.After(time.Until(deadline)):
		return obsEvent{}, errors.New("not seen in time")
	}
}

// whole waits for both redirects between eth0 and tap (index; 0: any) and
// returns when the second was read.
func (e *watchEnv) whole(tap int32, deadline time.Time) (time.Time, error) {
	var there, back bool
	for {
		ev, err := e.next(deadline)
		if err != nil {
			return time.Time{}, fmt.Errorf("the wire whole (eth0 → tap %v, tap → eth0 %v): %w", there, back, err)
		}
		if !ev.redirect {
			continue
		}
		there = there || ev.from == e.dev && (tap == 0 || ev.to == tap)
		back = back || ev.to == e.dev && (tap == 0 || ev.from == tap)
		if there && back {
			return ev.at, nil
		}
	}
}

// startWatch runs tcwire's Watch on the pair.
func startWatch(ns string, _ int32, settled chan<- struct{}, reported chan<- time.Duration) (func() error, error) {
	h, err := tcwire.Open(ns)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var failed atomic.Value
	go func() {
		done <- h.Watch(ctx, []tcwire.Options{{NetNS: ns, Dev: watchDev, Tap: watchTap}}, tcwire.WatchOptions{Event: func(ev tcwire.WatchEvent) {
			switch ev.Kind {
			case tcwire.EventUnwired:
				notify(settled)
			case tcwire.EventRewired:
				select {
				case reported <- ev.Latency:
				default:
				}
			case tcwire.EventError:
				failed.Store(ev.Err)
			}
		}})
	}()
	return func() error {
		cancel()
		err := <-done
		h.Close()
		if e, ok := failed.Load().(error); ok && err == nil {
			err = e
		}
		return err
	}, nil
}

// notify sends on a channel of one that may be full already.
func notify(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
