package tcwire

// A stand-in for the engine's Handle until handle.go lands: the API the
// batch code is written against, each call on the handle's one socket.

import (
	"context"

	"github.com/tcwire/tcwire/nl"
)

// Handle is a netlink socket in one network namespace.
type Handle struct {
	netns string
	c     *nl.Conn
}

// Detachment says what Detach removed.
type Detachment struct{}

// Open opens a Handle on netns ("" is the caller's namespace).
func Open(netns string) (*Handle, error) {
	if err := (Options{NetNS: netns, Dev: "x", Tap: "y"}).checkNames(); err != nil {
		return nil, err
	}
	c, err := nl.Dial(&nl.Config{NetNS: netns})
	if err != nil {
		return nil, err
	}
	return &Handle{netns: netns, c: c}, nil
}

// Close closes the handle's socket.
func (h *Handle) Close() error { return h.c.Close() }

// NetNS is the handle's namespace.
func (h *Handle) NetNS() string { return h.netns }

func (h *Handle) check(o Options) error {
	if o.NetNS != "" && o.NetNS != h.netns {
		return invalidf("NetNS %q: the handle is in %q", o.NetNS, h.netns)
	}
	return nil
}

// Attach is Attach on the handle.
func (h *Handle) Attach(ctx context.Context, o Options) (*Attachment, error) {
	if err := h.check(o); err != nil {
		return nil, err
	}
	o.NetNS = h.netns
	if err := o.checkNames(); err != nil {
		return nil, err
	}
	p, err := planAttach(ctx, h.c, o)
	if err != nil {
		return nil, classify(err)
	}
	a, err := p.attach(ctx, h.c)
	return a, classify(err)
}

// Detach is Detach on the handle.
func (h *Handle) Detach(ctx context.Context, o Options) (*Detachment, error) {
	if err := h.check(o); err != nil {
		return nil, err
	}
	o.NetNS = h.netns
	if err := o.checkNames(); err != nil {
		return nil, err
	}
	p, err := planDetach(ctx, h.c, o)
	if err != nil {
		return nil, classify(err)
	}
	if err := classify(p.detach(ctx, h.c)); err != nil {
		return nil, err
	}
	return &Detachment{}, nil
}
