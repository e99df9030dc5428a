package tcwire

import (
	"context"
	"fmt"

	"github.com/tcwire/tcwire/link"
)

// Detachment is what Detach did.
type Detachment struct {
	// Mode is the mode of the wiring Detach removed, as the kernel showed
	// it.
	Mode Mode
	// Deleted are the devices Detach deleted: a tap or macvtap of
	// tcwire's, tcwire's bridge.
	Deleted []string
	// Kept are the devices at the ends that stay, and why.
	Kept []Kept
}

// Kept is a device Detach unwired and left in place.
type Kept struct {
	Name string `json:"name"`
	// Why: KeptNotOwned or KeptInUse.
	Why string `json:"why"`
}

// Why a device stays.
const (
	// KeptNotOwned: it does not carry tcwire's mark; someone else made it.
	KeptNotOwned = "not made by tcwire"
	// KeptInUse: a process (a VMM) holds it open; it is tcwire's, and
	// the next Detach once it is closed deletes it.
	KeptInUse = "in use"
)

// keepInUse records that Detach leaves name, tcwire's, because a process
// holds it open.
func (p *Plan) keepInUse(name string) {
	p.keep(name, KeptInUse, fmt.Sprintf("%s stays: a process holds it open (a running VM), and deleting it would take it from under that process; it is unwired, and a detach once it is closed deletes it", name))
}

func (h *Handle) planAttach(ctx context.Context, o Options) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p, err := planAttach(ctx, h.c, o)
	if err != nil {
		return nil, err
	}
	p.ownTap()
	return p, nil
}

func (h *Handle) attach(ctx context.Context, o Options) (*Attachment, error) {
	p, err := h.planAttach(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := h.act(ctx); err != nil {
		return nil, err
	}
	return p.attach(h.c)
}

// read is what Detach and Check read first, in one round trip: DEV, the
// tap and the bridge bridge mode would have made (nil when missing), and
// the mode they show.
type read struct {
	dev, tap, br *link.Link
	mode         Mode
	// held: a process holds the tap (or macvtap) open, a running VM's.
	held bool
}

func (h *Handle) read(ctx context.Context, o Options) (read, error) {
	var r read
	ls, errs := link.LookupNames(h.c, o.Dev, o.Tap, BridgeName(o.Tap))
	for _, err := range errs {
		if err != nil && !link.IsNotFound(err) {
			return r, err
		}
	}
	r.dev, r.tap, r.br = ls[0], ls[1], ls[2]
	var err error
	if r.tap != nil && r.tap.Owned() {
		if r.held, err = link.Held(r.tap, o.NetNS); err != nil {
			return r, err
		}
	}
	r.mode, err = modeOf(o, r.dev, r.tap, r.br)
	if err != nil {
		return r, err
	}
	return r, ctx.Err()
}

// modeOf is the mode the kernel shows for o's devices: a macvtap called
// Tap is macvtap mode, a bridge of tcwire's for the pair (or a tap of
// tcwire's that is a bridge's port) bridge mode, anything else tc mode;
// where nothing shows, o's. A mode given in o that contradicts the
// kernel's is refused, naming both.
func modeOf(o Options, dev, tap, br *link.Link) (Mode, error) {
	var m Mode
	switch {
	case tap != nil && tap.Kind == link.KindMacvtap:
		m = ModeMacvtap
	case br != nil && isBridgeOf(br, o):
		m = ModeBridge
	case tap != nil && tap.Master != 0 && tap.Owned():
		m = ModeBridge
	case tap != nil:
		m = ModeTC
	default:
		return o.mode(), nil
	}
	if o.Mode != "" && o.mode() != m {
		return "", &MismatchError{Tap: o.Tap, Setting: "mode", Have: string(m), Want: string(o.mode())}
	}
	return m, nil
}

// isBridgeOf reports whether br is tcwire's bridge for o's pair.
func isBridgeOf(br *link.Link, o Options) bool {
	r, ok := parseBridgeAlias(br.Alias)
	return ok && br.Kind == link.KindBridge && r.Tap == o.Tap
}

func (h *Handle) planDetach(ctx context.Context, o Options) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	r, err := h.read(ctx, o)
	if err != nil {
		return nil, err
	}
	o.Mode = r.mode
	switch {
	case r.dev == nil && r.tap == nil && r.br == nil:
		return nil, fmt.Errorf("neither %s nor %s exists: %w", o.Dev, o.Tap, ErrNotFound)
	case r.mode == ModeMacvtap:
		return decideMacvtapDetach(o, r.dev, r.tap, r.held, namer(h.c))
	case r.mode == ModeBridge:
		return decideBridgeDetach(o, r.dev, r.tap, r.br, r.held)
	case r.dev == nil && r.tap == nil:
		return nil, fmt.Errorf("neither %s nor %s exists: %w", o.Dev, o.Tap, ErrNotFound)
	}
	return planDetachTC(h.c, o, r.dev, r.tap, r.held)
}

func (h *Handle) detach(ctx context.Context, o Options) (*Detachment, error) {
	p, err := h.planDetach(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := h.act(ctx); err != nil {
		return nil, err
	}
	if err := p.detach(h.c); err != nil {
		return nil, err
	}
	d := p.done
	d.Mode = p.mode
	return &d, nil
}

func (h *Handle) check(ctx context.Context, o Options) ([]Problem, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	r, err := h.read(ctx, o)
	if err != nil {
		return nil, err
	}
	if r.dev == nil {
		return nil, &notFoundError{name: o.Dev}
	}
	o.Mode = r.mode
	if r.mode != ModeTC {
		return checkMode(h.c, o, r.dev, r.tap)
	}
	return checkTC(h.c, o, r.dev, r.tap)
}
