package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/tuntap"
)

const (
	attachUsage = "usage: tcwire [--netns NS] [--json] attach DEV TAP [--mode tc|macvtap|bridge] [--mirror] [--queues N] [--owner UID] [--group GID] [--mtu N] [--no-vnet-hdr] [--tap-qdisc noqueue|keep] [--dev-addrgenmode none] [--tap-addrgenmode none]"
	detachUsage = "usage: tcwire [--netns NS] [--json] detach DEV TAP [--mode tc|macvtap|bridge]"
	ifupUsage   = "usage: tcwire [--netns NS] ifup TAP   (or tcwire-ifup TAP): wires tapN to ethN"
)

// tapFlags are the flags of the tap's settings, shared by attach and tap
// add. A flag left out leaves the setting unset (tcwire's default, and not
// checked against an existing tap).
type tapFlags struct {
	queues       int
	owner, group int64
	mtu          uint
	noVnetHdr    bool
}

func (f *tapFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.queues, "queues", 1, "number of queues of the tap (1-256)")
	fs.Int64Var(&f.owner, "owner", -1, "uid allowed to open the tap without CAP_NET_ADMIN (default: the caller's euid)")
	fs.Int64Var(&f.group, "group", -1, "gid allowed to open the tap without CAP_NET_ADMIN")
	fs.UintVar(&f.mtu, "mtu", 0, "MTU of the tap (default: DEV's for attach, the kernel's for tap add)")
	fs.BoolVar(&f.noVnetHdr, "no-vnet-hdr", false, "no virtio-net header (IFF_VNET_HDR off)")
}

// options sets what the flags give in o; the library checks the values
// (validate).
func (f *tapFlags) options(fs *flag.FlagSet, usage string, o *tcwire.Options) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["queues"] {
		// Options' 0 is "the default", which the command line says by
		// leaving the flag out: a count given is 1 or more.
		if f.queues == 0 {
			return usagef(usage, "--queues 0: want 1 to %d", tuntap.MaxQueues)
		}
		o.Queues = f.queues
	}
	if set["owner"] {
		o.Owner = new(int(f.owner))
	}
	if set["group"] {
		o.Group = new(int(f.group))
	}
	o.MTU = uint32(min(f.mtu, math.MaxUint32))
	o.NoVnetHdr = f.noVnetHdr
	return nil
}

// validate has the library check o (Options.Validate, the one home of the
// rules) and spells a refusal as the command line does: a usage error
// naming the flag or argument.
func validate(usage string, o tcwire.Options) error {
	err := o.Validate()
	var oe *tcwire.OptionError
	var me *tcwire.ModeError
	switch {
	case errors.As(err, &oe):
		name := "--" + oe.Option
		switch oe.Option {
		case "dev", "tap":
			name = strings.ToUpper(oe.Option)
		}
		return usagef(usage, "%s %s: %s", name, oe.Value, oe.Why)
	case errors.As(err, &me) && me.Option != "":
		opt := "--" + me.Option
		if me.Option == "name" {
			opt = "TAP" // the positional argument
		}
		if me.Value != "" {
			opt += " " + me.Value
		}
		return usagef(usage, "--mode %s and %s do not fit together: %s", me.Mode, opt, me.Why)
	case err != nil:
		return usagef(usage, "%v", err)
	}
	return nil
}

// attachResult is what a VMM needs to use the tap: printed by --json.
type attachResult struct {
	Dev        string `json:"dev,omitempty"`
	DevIfindex int32  `json:"dev_ifindex,omitempty"`
	Tap        string `json:"tap"`
	Ifindex    int32  `json:"ifindex"`
	MAC        string `json:"mac"`
	MTU        uint32 `json:"mtu"`
	Queues     int    `json:"queues"`
	Created    bool   `json:"created"`
	Mode       string `json:"mode,omitempty"`
	// DevNode is the macvtap's /dev/tapN, which the VMM opens (macvtap mode).
	DevNode string `json:"dev_node,omitempty"`
	// Bridge holds DEV and the tap (bridge mode).
	Bridge string `json:"bridge,omitempty"`
}

func resultOf(a *tcwire.Attachment) attachResult {
	r := attachResult{Dev: a.Dev, DevIfindex: a.DevIndex, Tap: a.Tap, Ifindex: a.TapIndex,
		MAC: a.MAC.String(), MTU: a.MTU, Queues: a.Queues, Created: a.Created, DevNode: a.DevNode, Bridge: a.Bridge}
	if a.Mode != "" {
		r.Mode = a.Mode.String()
	}
	return r
}

// modeFlags are --mode and --mirror, shared by attach, detach and explain.
type modeFlags struct {
	mode   string
	mirror bool
}

func (f *modeFlags) register(fs *flag.FlagSet, mirror bool) {
	fs.StringVar(&f.mode, "mode", "tc", "how DEV reaches the VM: tc (a tap wired with tc), macvtap (a passthru macvtap on DEV) or bridge (DEV and a tap in a bridge)")
	if mirror {
		fs.BoolVar(&f.mirror, "mirror", false, "tc mode: DEV keeps its traffic and the tap gets a copy of what DEV receives")
	}
}

// options sets the mode in o: the flag's, or none when it was left out
// and mode 0 is what that means (detach and check read it from the kernel).
func (f *modeFlags) options(fs *flag.FlagSet, usage string, o *tcwire.Options) error {
	m, err := tcwire.ParseMode(f.mode)
	if err != nil || f.mode == "" {
		return usagef(usage, "--mode %q: want tc, macvtap or bridge", f.mode)
	}
	o.Mirror = f.mirror
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "mode" {
			o.Mode = m
		}
	})
	return nil
}

// attachOptions parses attach's arguments into the Options of
// tcwire.Attach: the one home of attach's flags, for a command line and a
// line of a batch file.
func attachOptions(g *globals, args []string) (tcwire.Options, error) {
	fs := newFlagSet("attach")
	var f tapFlags
	f.register(fs)
	tapQdisc := fs.String("tap-qdisc", "noqueue", "root qdisc of a tap tcwire creates: noqueue or keep")
	var quietDev, quietTap bool
	fs.Func("dev-addrgenmode", "none: silence DEV's own IPv6 (no address generation, no link-local address; detach restores them)", addrGenNone(&quietDev))
	fs.Func("tap-addrgenmode", "none: silence an existing tap's IPv6, as tcwire does to every tap it creates", addrGenNone(&quietTap))
	var mf modeFlags
	mf.register(fs, true)
	pos, err := parseArgs(fs, g, args, attachUsage, 2, 2)
	if err != nil {
		return tcwire.Options{}, err
	}
	o := tcwire.Options{NetNS: g.netns, Dev: pos[0], Tap: pos[1]}
	if err := f.options(fs, attachUsage, &o); err != nil {
		return tcwire.Options{}, err
	}
	if *tapQdisc != "noqueue" && *tapQdisc != "keep" {
		return tcwire.Options{}, usagef(attachUsage, "--tap-qdisc %q: want noqueue or keep", *tapQdisc)
	}
	o.KeepTapQdisc = *tapQdisc == "keep"
	o.QuietDev, o.QuietTap = quietDev, quietTap
	if err := mf.options(fs, attachUsage, &o); err != nil {
		return tcwire.Options{}, err
	}
	if err := validate(attachUsage, o); err != nil {
		return tcwire.Options{}, err
	}
	return o, nil
}

func parseAttach(g *globals, args []string) (command, error) {
	o, err := attachOptions(g, args)
	if err != nil {
		return nil, err
	}
	return func(stdout, _ io.Writer) error {
		a, err := tcwire.Attach(context.Background(), o)
		if err != nil {
			return attachError(o, err)
		}
		if g.json {
			return json.NewEncoder(stdout).Encode(resultOf(a))
		}
		printAttachment(stdout, a)
		return nil
	}, nil
}

// attachError names the failed attach as the command line does.
func attachError(o tcwire.Options, err error) error {
	return fmt.Errorf("attach %s %s: %w", o.Dev, o.Tap, err)
}

// detachError names the failed detach as the command line does.
func detachError(o tcwire.Options, err error) error {
	return fmt.Errorf("detach %s %s: %w", o.Dev, o.Tap, err)
}

// printAttachment prints what attach prints without --json.
func printAttachment(w io.Writer, a *tcwire.Attachment) {
	// The VM's NIC must use DEV's MAC: anti-spoofing CNIs drop anything else.
	fmt.Fprintln(w, a.MAC)
	if a.DevNode != "" {
		// What the VMM opens and is given as a file descriptor.
		fmt.Fprintln(w, a.DevNode)
	}
}

// detachOptions parses detach's arguments into the Options of
// tcwire.Detach, for a command line and a line of a batch file.
func detachOptions(g *globals, args []string) (tcwire.Options, error) {
	fs := newFlagSet("detach")
	var mf modeFlags
	mf.register(fs, false)
	pos, err := parseArgs(fs, g, args, detachUsage, 2, 2)
	if err != nil {
		return tcwire.Options{}, err
	}
	o := tcwire.Options{NetNS: g.netns, Dev: pos[0], Tap: pos[1]}
	if err := mf.options(fs, detachUsage, &o); err != nil {
		return tcwire.Options{}, err
	}
	if err := validate(detachUsage, o); err != nil {
		return tcwire.Options{}, err
	}
	return o, nil
}

func parseDetach(g *globals, args []string) (command, error) {
	o, err := detachOptions(g, args)
	if err != nil {
		return nil, err
	}
	return func(stdout, _ io.Writer) error {
		d, err := detach(o)
		if err != nil {
			return detachError(o, err)
		}
		if g.json {
			return json.NewEncoder(stdout).Encode(detachResultOf(d))
		}
		printDetachment(stdout, d)
		return nil
	}, nil
}

// printDetachment prints what detach prints without --json: what it left.
func printDetachment(w io.Writer, d *tcwire.Detachment) {
	for _, k := range d.Kept {
		fmt.Fprintf(w, "%s stays: %s\n", escapeControls(k.Name), k.Why)
	}
}

// detach is Detach on a Handle of its own, for the Detachment.
func detach(o tcwire.Options) (*tcwire.Detachment, error) {
	h, err := tcwire.Open(o.NetNS)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return h.Detach(context.Background(), o)
}

// detachResult is what --json detach prints.
type detachResult struct {
	Mode    string        `json:"mode"`
	Deleted []string      `json:"deleted"`
	Kept    []tcwire.Kept `json:"kept"`
}

func detachResultOf(d *tcwire.Detachment) detachResult {
	r := detachResult{Mode: d.Mode.String(), Deleted: d.Deleted, Kept: d.Kept}
	if r.Deleted == nil {
		r.Deleted = []string{}
	}
	if r.Kept == nil {
		r.Kept = []tcwire.Kept{}
	}
	return r
}

func parseIfup(g *globals, args []string) (command, error) {
	pos, err := parseArgs(newFlagSet("ifup"), g, args, ifupUsage, 1, 1)
	if err != nil {
		return nil, err
	}
	dev, err := ifupPeer(pos[0])
	if err != nil {
		return nil, usagef(ifupUsage, "%v", err)
	}
	return func(io.Writer, io.Writer) error {
		// qemu made the tap (and holds it open): it is wired as it is,
		// and kept from speaking into the VM, as vrnetlab does.
		o := tcwire.Options{NetNS: g.netns, Dev: dev, Tap: pos[0], KeepTapQdisc: true, QuietTap: true}
		if _, err := tcwire.Attach(context.Background(), o); err != nil {
			return fmt.Errorf("ifup %s: %w", pos[0], err)
		}
		return nil
	}, nil
}

// addrGenNone is the value of --dev-addrgenmode and --tap-addrgenmode:
// none, as `ip link set DEV addrgenmode none` takes it; leaving the flag
// out keeps the device's own mode.
func addrGenNone(p *bool) func(string) error {
	return func(s string) error {
		if s != "none" {
			return fmt.Errorf("%q: want none (leave the flag out to keep the device's own mode)", s)
		}
		*p = true
		return nil
	}
}

// ifupPeer maps tapN to ethN, vrnetlab's convention.
func ifupPeer(tap string) (string, error) {
	n, ok := strings.CutPrefix(tap, "tap")
	if _, err := strconv.ParseUint(n, 10, 16); !ok || err != nil {
		return "", fmt.Errorf("tap name %q is not tapN: cannot tell which ethN to wire it to", tap)
	}
	return "eth" + n, nil
}
