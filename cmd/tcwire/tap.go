package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/tcwire/tcwire"
)

const tapUsage = `usage: tcwire [--netns NS] [--json] tap add NAME [--queues N] [--owner UID] [--group GID] [--mtu N] [--mac MAC] [--no-vnet-hdr]
       tcwire [--netns NS] tap del NAME`

func parseTap(g *globals, args []string) (command, error) {
	if len(args) == 0 {
		return nil, usagef(tapUsage, "tap: missing add or del")
	}
	switch args[0] {
	case "help", "-h", "--help":
		return nil, &helpError{usage: tapUsage}
	case "add":
		return parseTapAdd(g, args[1:])
	case "del":
		pos, err := parseArgs(newFlagSet("tap del"), g, args[1:], tapUsage, 1, 1)
		if err != nil {
			return nil, err
		}
		return func(io.Writer, io.Writer) error {
			if err := tcwire.DeleteTap(context.Background(), g.netns, pos[0]); err != nil {
				return fmt.Errorf("tap del %s: %w", pos[0], err)
			}
			return nil
		}, nil
	}
	return nil, usagef(tapUsage, "tap: unknown subcommand %q", args[0])
}

func parseTapAdd(g *globals, args []string) (command, error) {
	fs := newFlagSet("tap add")
	var f tapFlags
	f.register(fs)
	var macFlag *string // nil unless --mac is given (--mac "" is an error)
	fs.Func("mac", "MAC address", func(s string) error { macFlag = &s; return nil })
	pos, err := parseArgs(fs, g, args, tapUsage, 1, 1)
	if err != nil {
		return nil, err
	}
	var o tcwire.Options
	if err := f.options(fs, tapUsage, &o); err != nil {
		return nil, err
	}
	var mac net.HardwareAddr
	if macFlag != nil {
		if mac, err = net.ParseMAC(*macFlag); err != nil || len(mac) != 6 {
			return nil, usagef(tapUsage, "--mac %q: not an Ethernet MAC address", *macFlag)
		}
	}
	to := tcwire.TapOptions{NetNS: g.netns, Name: pos[0], Queues: o.Queues, Owner: o.Owner, Group: o.Group,
		MTU: o.MTU, MAC: mac, NoVnetHdr: o.NoVnetHdr}
	if err := to.Validate(); err != nil {
		var oe *tcwire.OptionError
		if errors.As(err, &oe) {
			return nil, usagef(tapUsage, "--%s %s: %s", oe.Option, oe.Value, oe.Why)
		}
		return nil, usagef(tapUsage, "%v", err)
	}
	return func(stdout, _ io.Writer) error {
		a, err := tcwire.AddTap(context.Background(), to)
		if err != nil {
			return fmt.Errorf("tap add %s: %w", pos[0], err)
		}
		if g.json {
			return json.NewEncoder(stdout).Encode(resultOf(a))
		}
		fmt.Fprintln(stdout, a.Tap)
		return nil
	}, nil
}
