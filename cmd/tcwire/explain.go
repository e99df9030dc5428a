package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

const explainUsage = "usage: tcwire [--netns NS] explain attach|detach DEV TAP"

// cmdExplain prints, without sending anything, every message a command
// would send on devices with no tc state, each with its tc command line and
// an annotated hex dump: the byte-level reference.
func parseExplain(g *globals, args []string) (command, error) {
	if len(args) == 0 {
		return nil, usagef(explainUsage, "explain: which command?")
	}
	what := args[0]
	if what == "help" || what == "-h" || what == "--help" {
		return nil, &helpError{usage: explainUsage}
	}
	if what != "attach" && what != "detach" {
		return nil, usagef(explainUsage, "explain: cannot explain %q (attach or detach)", what)
	}
	pos, err := parseArgs(newFlagSet("explain"), g, args[1:], explainUsage, 2, 2)
	if err != nil {
		return nil, err
	}
	return func(stdout io.Writer) error { return explain(g, what, pos, stdout) }, nil
}

func explain(g *globals, what string, pos []string, stdout io.Writer) error {
	var err error
	var devs [2]tc.Dev
	for i, name := range pos {
		index, err := resolve(g.netns, name)
		switch {
		case errors.Is(err, unix.ENODEV):
			index = int32(1001 + i)
			fmt.Fprintf(stdout, "# %s not found: shown with ifindex %d\n", name, index)
		case err != nil:
			// Not "not found": the namespace could not be entered (no
			// CAP_SYS_ADMIN, not a namespace …).
			return fmt.Errorf("explain: look up %s: %w", name, err)
		}
		devs[i] = tc.Dev{Name: name, Index: index}
	}
	a, b := devs[0], devs[1]
	ha, hb := tc.Hook{Dev: a}, tc.Hook{Dev: b}
	var plan *tc.Plan
	if what == "attach" {
		if plan, err = tc.PlanWire(ha, hb, tc.WireOptions{}); err != nil {
			return err
		}
	} else {
		// Detach as it runs after attach: both hooks hold an ingress qdisc
		// with one wire filter (the kernel's first pref and handle).
		ha, hb = wiredHook(a, b), wiredHook(b, a)
		plan = tc.PlanUnwire(ha, hb)
	}
	fmt.Fprintf(stdout, "# tcwire %s %s %s: %d netlink messages in one sendmsg (seq and pid are filled in when sent)\n", what, a.Name, b.Name, len(plan.Requests))
	schema := nl.Merge(tc.Schema, link.Schema)
	for i, r := range plan.Requests {
		raw, err := r.MarshalBinary()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n# %d. %s\n%s", i+1, r.Cmd, nl.Dump(raw, schema))
	}
	return nil
}

// resolve finds a device's index with SIOCGIFINDEX (an ioctl, not netlink,
// so explain sends no message). A missing device gives an error wrapping
// ENODEV.
func resolve(ns, name string) (index int32, err error) {
	find := func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
			return err
		}
		index = int32(ifr.Uint32())
		return nil
	}
	if ns == "" {
		return index, find()
	}
	return index, netns.Do(ns, find)
}

// wiredHook is a hook as attach leaves it: an ingress qdisc with the wire
// filter at the kernel's first pref (49152) and handle (800::800).
func wiredHook(from, to tc.Dev) tc.Hook {
	f := tc.WireFilter(from, to, tc.IngressHandle, tc.WireOptions{})
	f.Pref, f.Handle, f.Kind = 0xc000, 0x80000800, tc.KindU32
	return tc.Hook{Dev: from, Qdisc: tc.KindIngress, Filters: []tc.Filter{f}}
}
