package main

import (
	"context"
	"encoding/json"
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
	attachUsage = "usage: tcwire [--netns NS] [--json] attach DEV TAP [--queues N] [--owner UID] [--group GID] [--mtu N] [--no-vnet-hdr] [--tap-qdisc noqueue|keep] [--dev-addrgenmode none] [--tap-addrgenmode none]"
	detachUsage = "usage: tcwire [--netns NS] [--json] detach DEV TAP"
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

// maxID is the largest uid or gid: (uid_t)-1 is the kernel's "none".
const maxID = math.MaxUint32 - 1

// options checks the flags and sets what they give in o.
func (f *tapFlags) options(fs *flag.FlagSet, usage string, o *tcwire.Options) error {
	switch {
	case f.queues < 1 || f.queues > tuntap.MaxQueues:
		return usagef(usage, "--queues %d: want 1 to %d", f.queues, tuntap.MaxQueues)
	case f.owner < -1 || f.owner > maxID:
		return usagef(usage, "--owner %d: not a uid (0 to %d)", f.owner, maxID)
	case f.group < -1 || f.group > maxID:
		return usagef(usage, "--group %d: not a gid (0 to %d)", f.group, maxID)
	case f.mtu != 0 && (f.mtu < 68 || f.mtu > 65521):
		return usagef(usage, "--mtu %d: a tap takes 68 to 65521", f.mtu)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["queues"] {
		o.Queues = f.queues
	}
	if f.owner >= 0 {
		o.Owner = new(int(f.owner))
	}
	if f.group >= 0 {
		o.Group = new(int(f.group))
	}
	o.MTU = uint32(f.mtu)
	o.NoVnetHdr = f.noVnetHdr
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
}

func resultOf(a *tcwire.Attachment) attachResult {
	return attachResult{Dev: a.Dev, DevIfindex: a.DevIndex, Tap: a.Tap, Ifindex: a.TapIndex,
		MAC: a.MAC.String(), MTU: a.MTU, Queues: a.Queues, Created: a.Created}
}

func parseAttach(g *globals, args []string) (command, error) {
	fs := newFlagSet("attach")
	var f tapFlags
	f.register(fs)
	tapQdisc := fs.String("tap-qdisc", "noqueue", "root qdisc of a tap tcwire creates: noqueue or keep")
	var quietDev, quietTap bool
	fs.Func("dev-addrgenmode", "none: silence DEV's own IPv6 (no address generation, no link-local address; detach restores them)", addrGenNone(&quietDev))
	fs.Func("tap-addrgenmode", "none: silence an existing tap's IPv6, as tcwire does to every tap it creates", addrGenNone(&quietTap))
	pos, err := parseArgs(fs, g, args, attachUsage, 2, 2)
	if err != nil {
		return nil, err
	}
	o := tcwire.Options{NetNS: g.netns, Dev: pos[0], Tap: pos[1]}
	if err := f.options(fs, attachUsage, &o); err != nil {
		return nil, err
	}
	if *tapQdisc != "noqueue" && *tapQdisc != "keep" {
		return nil, usagef(attachUsage, "--tap-qdisc %q: want noqueue or keep", *tapQdisc)
	}
	o.KeepTapQdisc = *tapQdisc == "keep"
	o.QuietDev, o.QuietTap = quietDev, quietTap
	return func(stdout io.Writer) error {
		a, err := tcwire.Attach(context.Background(), o)
		if err != nil {
			return fmt.Errorf("attach %s %s: %w", o.Dev, o.Tap, err)
		}
		if g.json {
			return json.NewEncoder(stdout).Encode(resultOf(a))
		}
		// The VM's NIC must use DEV's MAC: anti-spoofing CNIs drop anything else.
		fmt.Fprintln(stdout, a.MAC)
		return nil
	}, nil
}

func parseDetach(g *globals, args []string) (command, error) {
	pos, err := parseArgs(newFlagSet("detach"), g, args, detachUsage, 2, 2)
	if err != nil {
		return nil, err
	}
	return func(io.Writer) error {
		if err := tcwire.Detach(context.Background(), tcwire.Options{NetNS: g.netns, Dev: pos[0], Tap: pos[1]}); err != nil {
			return fmt.Errorf("detach %s %s: %w", pos[0], pos[1], err)
		}
		return nil
	}, nil
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
	return func(io.Writer) error {
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
