package tcwire

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/nl"
)

// Handle is tcwire in one network namespace: one netlink socket, and one
// thread inside the namespace for the work that needs one (the lock below,
// /dev/net/tun), for the Handle's life. It is safe for concurrent use by
// goroutines; its calls run one at a time.
//
// Callers converge. Every call that changes the namespace (Attach,
// Detach, AddTap, DeleteTap, AttachAll, DetachAll) holds the namespace's
// lock from its first read to its last request: an abstract unix socket
// bound inside the namespace, which the kernel frees when its holder exits
// however it ends (SIGKILL included). So any number of callers — goroutines,
// processes, a mix — attaching the same pair see one another's work
// whole: one creates the tap, the others find the pair wired and report
// the same Attachment (Created false); an Attach racing a Detach ends
// wired or empty, never half. What tcwire creates carries its mark from
// the sendmsg that creates it (a tap is persistent only once marked), so a
// caller killed at any instant leaves nothing the next Attach or Detach
// cannot finish or undo.
type Handle struct {
	ns  string
	mu  sync.Mutex
	c   *nl.Conn
	thr *netns.Thread
	// unbind ends the binding of c's reads to the running call's ctx.
	unbind func()
}

// Open returns a Handle on the network namespace ns: a name under
// /run/netns or a path (/proc/PID/ns/net, a CNI_NETNS); "" is the
// caller's. Close it when done.
func Open(ns string) (*Handle, error) {
	if err := checkNetNS(ns); err != nil {
		return nil, err
	}
	thr, err := netns.NewThread(ns)
	if err != nil {
		return nil, err
	}
	c, err := nl.Dial(&nl.Config{NetNS: ns})
	if err != nil {
		thr.Close()
		return nil, err
	}
	return &Handle{ns: ns, c: c, thr: thr}, nil
}

// NetNS is the namespace the Handle was opened on, as given to Open.
func (h *Handle) NetNS() string { return h.ns }

// Close releases the socket and the thread.
func (h *Handle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.thr.Close()
	return h.c.Close()
}

// call runs fn with the Handle to itself and its reads bound to ctx (a
// blocked read ends at ctx's deadline or cancellation); with lock, under
// the namespace's lock too. o, when not nil, is checked to name the
// Handle's namespace and is set to it.
func (h *Handle) call(ctx context.Context, o *Options, lock bool, fn func() error) error {
	if o != nil {
		if err := h.own(o); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if lock {
		unlock, err := h.lock(ctx)
		if err != nil {
			return err
		}
		defer unlock()
	}
	h.unbind = h.c.Bind(ctx)
	err := fn()
	h.unbind()
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return classify(err)
}

// own checks that o names the Handle's namespace ("" does) and makes it so.
func (h *Handle) own(o *Options) error {
	if o.NetNS != "" && o.NetNS != h.ns {
		a, errA := netns.Path(o.NetNS)
		b, errB := netns.Path(h.ns)
		if errA != nil || errB != nil || a != b {
			return invalidf("NetNS %q: the Handle is on %q", o.NetNS, h.ns)
		}
	}
	o.NetNS = h.ns
	return nil
}

// lock takes the namespace's lock, waiting while another caller holds it
// until ctx ends.
func (h *Handle) lock(ctx context.Context) (unlock func(), err error) {
	wait := 50 * time.Microsecond
	for {
		fd, err := h.thr.TryLock()
		if err != nil {
			return nil, fmt.Errorf("network namespace lock: %w", err)
		}
		if fd >= 0 {
			return func() { unix.Close(fd) }, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for another tcwire in the namespace: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Millisecond)
	}
}

// act ends the reading half of a call: past it, a change runs to its end
// (or its rollback) whatever ctx does, so that a cancelled ctx never leaves
// half a change. It fails if ctx has ended already: nothing is changed.
func (h *Handle) act(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.unbind()
	h.unbind = func() {}
	return nil
}

// Attach is the package-level Attach on the Handle's namespace.
func (h *Handle) Attach(ctx context.Context, o Options) (a *Attachment, err error) {
	err = h.call(ctx, &o, true, func() error {
		a, err = h.attach(ctx, o)
		return err
	})
	return a, err
}

// Detach is the package-level Detach on the Handle's namespace, and says
// what it removed and what it left.
func (h *Handle) Detach(ctx context.Context, o Options) (d *Detachment, err error) {
	err = h.call(ctx, &o, true, func() error {
		d, err = h.detach(ctx, o)
		return err
	})
	return d, err
}

// PlanAttach is the package-level PlanAttach on the Handle's namespace.
func (h *Handle) PlanAttach(ctx context.Context, o Options) (p *Plan, err error) {
	err = h.call(ctx, &o, false, func() error {
		p, err = h.planAttach(ctx, o)
		return err
	})
	return p, err
}

// PlanDetach is the package-level PlanDetach on the Handle's namespace.
func (h *Handle) PlanDetach(ctx context.Context, o Options) (p *Plan, err error) {
	err = h.call(ctx, &o, false, func() error {
		p, err = h.planDetach(ctx, o)
		return err
	})
	return p, err
}

// Check is the package-level Check on the Handle's namespace.
func (h *Handle) Check(ctx context.Context, o Options) (ps []Problem, err error) {
	err = h.call(ctx, &o, false, func() error {
		ps, err = h.check(ctx, o)
		return err
	})
	return ps, err
}

// Redirects is ReadRedirects on the Handle's namespace.
func (h *Handle) Redirects(ctx context.Context, devs ...string) (rs []Redirect, err error) {
	err = h.call(ctx, nil, false, func() error {
		rs, err = readRedirects(h.c, devs)
		return err
	})
	return rs, err
}

// Bindings is ReadBindings on the Handle's namespace.
func (h *Handle) Bindings(ctx context.Context, devs ...string) (bs []Binding, err error) {
	err = h.call(ctx, nil, false, func() error {
		bs, err = readBindings(h.c, devs)
		return err
	})
	return bs, err
}

// AddTap is the package-level AddTap on the Handle's namespace
// (to.NetNS "" or the Handle's).
func (h *Handle) AddTap(ctx context.Context, to TapOptions) (a *Attachment, err error) {
	o := to.options()
	err = h.call(ctx, &o, true, func() error {
		if err := h.act(ctx); err != nil {
			return err
		}
		a, err = addTap(h.c, o, to)
		return err
	})
	return a, err
}

// DeleteTap is the package-level DeleteTap on the Handle's namespace.
func (h *Handle) DeleteTap(ctx context.Context, name string) error {
	o := Options{Tap: name}
	return h.call(ctx, &o, true, func() error {
		if err := o.validateTap(); err != nil {
			return err
		}
		if err := h.act(ctx); err != nil {
			return err
		}
		return deleteTapFile(o)
	})
}

// oneShot runs fn on a Handle of its own on ns, closed after.
func oneShot(ns string, fn func(h *Handle) error) error {
	h, err := Open(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return fn(h)
}
