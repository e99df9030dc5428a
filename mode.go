package tcwire

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// Mode is how Attach connects DEV to the VM: the device the VMM gets and
// what carries DEV's frames to it.
type Mode string

// The modes.
const (
	// ModeTC (the default, also "") wires DEV to a tap with tc: an ingress
	// qdisc, a u32 catch-all and a mirred redirect each way. Every frame
	// passes, link-local groups and pause included.
	ModeTC Mode = "tc"
	// ModeMacvtap makes a macvtap on DEV in passthru mode (it takes DEV's
	// MAC) with allmulticast on; the VMM opens its character device
	// /dev/tapN (Attachment.DevNode). DEV becomes the macvtap's lower
	// device: DEV's own stack still sees broadcasts.
	ModeMacvtap Mode = "macvtap"
	// ModeBridge puts DEV and a tap in a bridge of tcwire's
	// (BridgeName), with learning and unknown-unicast flooding off on the
	// tap's port and a static FDB entry sending DEV's MAC to the tap. A
	// bridge never forwards pause frames nor 01:80:c2:00:00:01-02 (LACP
	// …), and STP's 01:80:c2:00:00:00 only while it runs no STP.
	ModeBridge Mode = "bridge"
)

// ParseMode parses a mode's name: "tc", "macvtap" or "bridge" ("" is tc).
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", ModeTC:
		return ModeTC, nil
	case ModeMacvtap, ModeBridge:
		return m, nil
	}
	return "", fmt.Errorf("mode %q: want tc, macvtap or bridge", s)
}

// String returns the mode's name; the zero Mode is "tc".
func (m Mode) String() string {
	if m == "" {
		return string(ModeTC)
	}
	return string(m)
}

// ModeError is an option the mode does not take, or a mode tcwire does not
// know. errors.Is(err, ErrInvalid) holds.
type ModeError struct {
	Mode Mode
	// Option and Value name the option as the command line spells it
	// ("queues", "4"); Option is "" for an unknown mode.
	Option, Value string
	// Why says why they do not fit together.
	Why string
}

func (e *ModeError) Error() string {
	if e.Option == "" {
		return fmt.Sprintf("mode %q: want tc, macvtap or bridge", string(e.Mode))
	}
	return fmt.Sprintf("mode %s and %s %s do not fit together: %s", e.Mode, e.Option, e.Value, e.Why)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ModeError) Is(target error) bool { return target == ErrInvalid }

// CheckMode tells whether o.Mode is known and takes the other options of
// o: a *ModeError naming the mode and the first option that does not fit,
// or nil. Attach, Detach, their plans and Check refuse the same.
func (o Options) CheckMode() error {
	m, err := ParseMode(string(o.Mode))
	if err != nil {
		return &ModeError{Mode: o.Mode}
	}
	bad := func(option, value, why string) error {
		return &ModeError{Mode: m, Option: option, Value: value, Why: why}
	}
	if strings.Contains(o.Tap, "%") {
		// The kernel would pick the name (vm0 for vm%d); Detach, Check
		// and a repeated Attach find the tap by the name they are given.
		return bad("name", o.Tap, "Detach finds what Attach makes by name: give a fixed one")
	}
	if m != ModeTC && (o.QuietDev || o.QuietTap) {
		opt := "dev-addrgenmode"
		if o.QuietTap {
			opt = "tap-addrgenmode"
		}
		return bad(opt, "none", "silencing IPv6 is tc mode's: this mode does not record and restore it")
	}
	switch m {
	case ModeMacvtap:
		const none = "a macvtap is no tap: "
		switch {
		case o.Queues > 1:
			return bad("queues", fmt.Sprint(o.Queues), none+"its queues are the files a VMM opens on /dev/tapN")
		case o.MTU != 0:
			return bad("mtu", fmt.Sprint(o.MTU), "a passthru macvtap has DEV's MTU")
		case o.NoVnetHdr:
			return bad("no-vnet-hdr", "", none+"the VMM sets the virtio-net header on its file (TUNSETVNETHDRSZ, IFF_VNET_HDR)")
		case o.KeepTapQdisc:
			return bad("tap-qdisc", "keep", none+"it keeps the kernel's qdisc")
		case o.Mirror:
			return bad("mirror", "", "mirroring is tc's (--mode tc)")
		}
	case ModeBridge:
		if o.Mirror {
			return bad("mirror", "", "mirroring is tc's (--mode tc)")
		}
	}
	return nil
}

func (o Options) mode() Mode {
	m, _ := ParseMode(string(o.Mode))
	return m
}

// lookupPair finds DEV (nil when missing, unless needDev makes that an
// error) and the tap (nil when missing), both in one round trip.
func lookupPair(ctx context.Context, c *nl.Conn, o Options, needDev bool) (dev, tap *link.Link, err error) {
	ls, errs := link.LookupNames(c, o.Dev, o.Tap)
	for i, err := range errs {
		switch {
		case i == 0 && needDev && link.IsNotFound(err):
			return nil, nil, &notFoundError{name: o.Dev, err: err}
		case err != nil && !link.IsNotFound(err):
			return nil, nil, err
		}
	}
	return ls[0], ls[1], ctx.Err()
}

// planModeAttach reads what the mode's attach decides from, and decides.
func planModeAttach(ctx context.Context, c *nl.Conn, o Options) (*Plan, error) {
	dev, tap, err := lookupPair(ctx, c, o, true)
	if err != nil {
		return nil, err
	}
	hooks, err := tc.ReadHooks(c, []tc.Dev{devOf(dev)})
	if err != nil {
		return nil, err
	}
	var uppers []*link.Link
	if o.mode() != ModeTC {
		if uppers, err = uppersOf(c, dev); err != nil {
			return nil, err
		}
	}
	switch o.mode() {
	case ModeMacvtap:
		var node *devNode
		if tap != nil && tap.Kind == link.KindMacvtap {
			if node, err = readDevNode(tap); err != nil {
				return nil, err
			}
		}
		stepHook("read")
		return decideMacvtapAttach(o, dev, hooks[0], uppers, tap, node, namer(c), os.Geteuid())
	case ModeBridge:
		r, err := readBridge(c, o, dev, tap)
		if err != nil {
			return nil, err
		}
		r.devHook, r.uppers = hooks[0], uppers
		stepHook("read")
		return decideBridgeAttach(o, r, namer(c))
	}
	stepHook("read")
	return decideMirror(o, dev, tap, hooks[0], namer(c))
}

// uppersOf lists the macvlans and macvtaps on dev.
func uppersOf(c *nl.Conn, dev *link.Link) ([]*link.Link, error) {
	links, err := link.List(c)
	if err != nil {
		return nil, err
	}
	var out []*link.Link
	for _, l := range links {
		if (l.Kind == link.KindMacvtap || l.Kind == link.KindMacvlan) && l.ParentIndex == dev.Index && l.NetNSID < 0 {
			out = append(out, l)
		}
	}
	return out, nil
}

// readBridge reads the bridge of bridge mode and the FDB of the tap's port.
func readBridge(c *nl.Conn, o Options, dev, tap *link.Link) (bridgeRead, error) {
	r := bridgeRead{dev: dev, tap: tap}
	var err error
	if r.br, err = lookupOptional(c, BridgeName(o.Tap)); err != nil {
		return r, err
	}
	if tap != nil && tap.Master != 0 {
		if r.fdb, err = link.ListFDB(c, tap.Name); err != nil {
			return r, err
		}
	}
	return r, nil
}

// checkMode is Check in the macvtap and bridge modes.
func checkMode(c *nl.Conn, o Options, dev, tap *link.Link) ([]Problem, error) {
	var err error
	if o.mode() == ModeMacvtap {
		var node *devNode
		if tap != nil && tap.Kind == link.KindMacvtap {
			if node, err = readDevNode(tap); err != nil {
				return nil, err
			}
		}
		return checkMacvtapMode(o, dev, tap, node, namer(c), os.Geteuid()), nil
	}
	r, err := readBridge(c, o, dev, tap)
	if err != nil {
		return nil, err
	}
	return checkBridgeMode(o, r), nil
}
