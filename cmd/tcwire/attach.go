package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

const (
	attachUsage = "usage: tcwire [--netns NS] [--json] attach DEV TAP [--queues N] [--owner UID] [--group GID] [--tap-qdisc noqueue|keep]"
	detachUsage = "usage: tcwire [--netns NS] [--json] detach DEV TAP"
	ifupUsage   = "usage: tcwire [--netns NS] ifup TAP   (or tcwire-ifup TAP): wires tapN to ethN"
)

// errNotTap is wrapped by the error for a tap name that another kind of
// device has.
var errNotTap = errors.New("not a tap")

// tapOptions are the settings of a tap tcwire creates.
type tapOptions struct {
	queues, owner, group int
	// mtu of a tap tcwire creates; 0 means the wired device's.
	mtu uint32
}

func (o *tapOptions) register(fs *flag.FlagSet) {
	fs.IntVar(&o.queues, "queues", 1, "number of queues of a tap tcwire creates (1-256)")
	fs.IntVar(&o.owner, "owner", -1, "uid allowed to open the tap without CAP_NET_ADMIN (default: the caller's euid)")
	fs.IntVar(&o.group, "group", -1, "gid allowed to open the tap without CAP_NET_ADMIN")
}

// maxID is the largest uid or gid: (uid_t)-1 is the kernel's "none".
const maxID = math.MaxUint32 - 1

func (o *tapOptions) check(usage string) error {
	switch {
	case o.queues < 1 || o.queues > tuntap.MaxQueues:
		return usagef(usage, "--queues %d: want 1 to %d", o.queues, tuntap.MaxQueues)
	case o.owner < -1 || o.owner > maxID:
		return usagef(usage, "--owner %d: not a uid (0 to %d)", o.owner, maxID)
	case o.group < -1 || o.group > maxID:
		return usagef(usage, "--group %d: not a gid (0 to %d)", o.group, maxID)
	}
	return nil
}

func (o *tapOptions) config(name, netns string) tuntap.Config {
	cfg := tuntap.Config{Name: name, Persist: true, Queues: o.queues, NetNS: netns}
	// A persistent tap with neither owner nor group may be opened (and
	// deleted) by any user, so it gets the caller's euid unless told
	// otherwise, as tc-redirect-tap does.
	owner := o.owner
	if owner < 0 && o.group < 0 {
		owner = os.Geteuid()
	}
	if owner >= 0 {
		cfg.Owner = &owner
	}
	if o.group >= 0 {
		cfg.Group = &o.group
	}
	return cfg
}

// attachResult is what a VMM needs to use the tap: printed by --json.
type attachResult struct {
	Dev        string `json:"dev"`
	DevIfindex int32  `json:"dev_ifindex"`
	Tap        string `json:"tap"`
	Ifindex    int32  `json:"ifindex"`
	MAC        string `json:"mac"`
	MTU        uint32 `json:"mtu"`
	Queues     int    `json:"queues"`
	Created    bool   `json:"created"`
}

func parseAttach(g *globals, args []string) (command, error) {
	fs := newFlagSet("attach")
	var o tapOptions
	o.register(fs)
	tapQdisc := fs.String("tap-qdisc", "noqueue", "root qdisc of a tap tcwire creates: noqueue or keep")
	pos, err := parseArgs(fs, g, args, attachUsage, 2, 2)
	if err != nil {
		return nil, err
	}
	if err := o.check(attachUsage); err != nil {
		return nil, err
	}
	if *tapQdisc != "noqueue" && *tapQdisc != "keep" {
		return nil, usagef(attachUsage, "--tap-qdisc %q: want noqueue or keep", *tapQdisc)
	}
	return func(stdout io.Writer) error {
		c, err := dial(g)
		if err != nil {
			return err
		}
		defer c.Close()
		res, err := attach(c, g.netns, pos[0], pos[1], o, *tapQdisc == "noqueue")
		if err != nil {
			return fmt.Errorf("attach %s %s: %w", pos[0], pos[1], err)
		}
		if g.json {
			return json.NewEncoder(stdout).Encode(res)
		}
		// The VM's NIC must use DEV's MAC: anti-spoofing CNIs drop anything else.
		fmt.Fprintln(stdout, res.MAC)
		return nil
	}, nil
}

func dial(g *globals) (*nl.Conn, error) {
	return nl.Dial(&nl.Config{NetNS: g.netns})
}

// attach wires dev and tap both ways, creating the tap when it does not
// exist. All or nothing: on failure, a tap it created is deleted again (the
// tc objects are rolled back by tc.Wire).
func attach(c *nl.Conn, netns, devName, tapName string, o tapOptions, noqueue bool) (*attachResult, error) {
	w, err := wire(c, netns, devName, tapName, o, noqueue)
	if err != nil {
		return nil, err
	}
	return w.result(o), nil
}

// wired is what wire did: both devices as they are now.
type wired struct {
	dev, tap *link.Link
	created  bool // the tap is new
}

func (w *wired) result(o tapOptions) *attachResult {
	// A multiqueue tap always has MaxQueues kernel queues; the number the
	// VMM must open (and be told) is the one asked for.
	queues := int(w.tap.NumTxQueues)
	if w.created {
		queues = o.queues
	}
	return &attachResult{
		Dev: w.dev.Name, DevIfindex: w.dev.Index, Tap: w.tap.Name, Ifindex: w.tap.Index,
		MAC: w.dev.MAC.String(), MTU: w.tap.MTU, Queues: queues, Created: w.created,
	}
}

// wire is the one path of `tcwire attach`, ifup and the CNI plugin's ADD:
// look dev up, refuse a stale redirect, create the tap (persistent, DEV's
// MTU unless o.mtu says otherwise) or bring an existing one up, and wire
// both ways.
func wire(c *nl.Conn, netns, devName, tapName string, o tapOptions, noqueue bool) (*wired, error) {
	dev, err := link.Lookup(c, devName)
	if err != nil {
		return nil, err
	}
	tap, err := link.Lookup(c, tapName)
	created := false
	switch {
	case link.IsNotFound(err):
		mtu := dev.MTU
		if o.mtu != 0 {
			mtu = o.mtu
		}
		if tap, err = createTap(c, netns, tapName, o, mtu, noqueue); err != nil {
			return nil, err
		}
		created = true
	case err != nil:
		return nil, err
	case tap.Kind != "tun":
		return nil, fmt.Errorf("%s is a %s device, %w", tapName, orNone(tap.Kind), errNotTap)
	default:
		// An existing tap is only brought up: its owner set it up as it wants.
		if err := c.Exec(link.SetUpRequest(tap.Index, tap.Name)); err != nil {
			return nil, err
		}
	}
	err = tc.Wire(c, tc.Dev{Name: dev.Name, Index: dev.Index}, tc.Dev{Name: tap.Name, Index: tap.Index}, tc.WireOptions{})
	if errors.Is(err, tc.ErrTargetGone) {
		err = fmt.Errorf("%w; `tcwire detach %s %s` removes the stale redirect", err, devName, tapName)
	}
	if err != nil {
		if created {
			err = errors.Join(err, deleteTap(c, tap.Name))
		}
		return nil, err
	}
	return &wired{dev: dev, tap: tap, created: created}, nil
}

func orNone(kind string) string {
	if kind == "" {
		return "plain"
	}
	return kind
}

// createTap makes a persistent tap (vnet_hdr, no_pi), marks it as tcwire's,
// gives it mtu (and mac), a noqueue root qdisc when asked — tun never stops
// its queue, so a queueing qdisc only adds cost and, with a host-wide fq
// default, drops — and brings it up. On failure the tap is deleted.
func createTap(c *nl.Conn, netns, name string, o tapOptions, mtu uint32, noqueue bool) (*link.Link, error) {
	return createTapConfig(c, o.config(name, netns), mtu, nil, noqueue)
}

func createTapConfig(c *nl.Conn, cfg tuntap.Config, mtu uint32, mac net.HardwareAddr, noqueue bool) (*link.Link, error) {
	// The tap is made persistent last, once it is set up: until then it
	// lives only as long as this process's file, so a tcwire killed half
	// way (SIGKILL, a crash) leaves no half-made tap behind for the next
	// attach to take for a tap someone else made, and a failure here
	// needs no rollback but closing the file.
	persist := cfg.Persist
	cfg.Persist = false
	t, err := tuntap.Create(cfg)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	name := t.Name() // the kernel's choice when cfg.Name has %d
	l, err := link.Lookup(c, name)
	if err != nil {
		return nil, err
	}
	reqs := []nl.Request{link.MarkRequest(l.Index, name)}
	if mtu != 0 {
		reqs = append(reqs, link.SetMTURequest(l.Index, name, mtu))
	}
	if mac != nil {
		reqs = append(reqs, link.SetMACRequest(l.Index, name, mac))
	}
	reqs = append(reqs, link.SetUpRequest(l.Index, name))
	if noqueue {
		reqs = append(reqs, tc.AddQdiscRequest(tc.Qdisc{Dev: name, Ifindex: l.Index, Parent: tc.TC_H_ROOT, Kind: "noqueue"}))
	}
	if err := errors.Join(c.Do(reqs...)...); err != nil {
		return nil, err
	}
	if persist {
		if err := t.SetPersist(true); err != nil {
			return nil, err
		}
	}
	if err := t.Close(); err != nil {
		return nil, errors.Join(err, deleteTap(c, name))
	}
	return link.Lookup(c, name)
}

func deleteTap(c *nl.Conn, name string) error {
	if err := link.Delete(c, name); err != nil && !link.IsNotFound(err) {
		return fmt.Errorf("rollback: delete tap %s: %w", name, err)
	}
	return nil
}

func parseDetach(g *globals, args []string) (command, error) {
	pos, err := parseArgs(newFlagSet("detach"), g, args, detachUsage, 2, 2)
	if err != nil {
		return nil, err
	}
	return func(io.Writer) error {
		c, err := dial(g)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := detach(c, pos[0], pos[1]); err != nil {
			return fmt.Errorf("detach %s %s: %w", pos[0], pos[1], err)
		}
		return nil
	}, nil
}

// detach removes what attach added: the wire filters, the ingress qdiscs
// they leave empty, and the tap if tcwire created it. A device already gone
// is not an error.
func detach(c *nl.Conn, devName, tapName string) error {
	dev, err := link.Lookup(c, devName)
	if err != nil && !link.IsNotFound(err) {
		return err
	}
	tap, terr := link.Lookup(c, tapName)
	if terr != nil && !link.IsNotFound(terr) {
		return terr
	}
	if dev != nil && tap != nil {
		err := tc.Unwire(c, tc.Dev{Name: dev.Name, Index: dev.Index}, tc.Dev{Name: tap.Name, Index: tap.Index})
		if err != nil {
			return err
		}
	}
	if dev != nil && tap == nil {
		// The tap was deleted first: DEV still redirects into the void.
		return unwireDead(c, dev)
	}
	if tap != nil && tap.Owned() {
		return link.Delete(c, tap.Name)
	}
	if tap != nil && dev == nil {
		// DEV went away (its container did) but the tap is not ours to
		// delete: it keeps only its redirect into the void, remove that.
		return unwireDead(c, tap)
	}
	return nil
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
		c, err := dial(g)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := attach(c, g.netns, dev, pos[0], tapOptions{queues: 1, owner: -1, group: -1}, false); err != nil {
			return fmt.Errorf("ifup %s: %w", pos[0], err)
		}
		return nil
	}, nil
}

// ifupPeer maps tapN to ethN, vrnetlab's convention.
func ifupPeer(tap string) (string, error) {
	n, ok := strings.CutPrefix(tap, "tap")
	if _, err := strconv.ParseUint(n, 10, 16); !ok || err != nil {
		return "", fmt.Errorf("tap name %q is not tapN: cannot tell which ethN to wire it to", tap)
	}
	return "eth" + n, nil
}

// unwireDead removes dev's wire filters (the shape attach installs) whose
// target device no longer exists, and the ingress qdisc when that leaves it
// empty, as detach does when both devices are there.
func unwireDead(c *nl.Conn, dev *link.Link) error {
	h, err := tc.ReadHook(c, tc.Dev{Name: dev.Name, Index: dev.Index})
	if err != nil {
		return err
	}
	// The kernel reports a deleted target as ifindex 0.
	gone := tc.Hook{Dev: tc.Dev{Name: "(deleted)", Index: 0}}
	var errs []error
	for _, err := range c.Do(tc.PlanUnwire(h, gone).Requests...) {
		if err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
