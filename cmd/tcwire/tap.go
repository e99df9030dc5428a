package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"

	"github.com/tcwire/tcwire/tuntap"
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
		return func(io.Writer) error {
			if err := tuntap.Delete(pos[0], g.netns); err != nil {
				return fmt.Errorf("tap del %s: %w", pos[0], err)
			}
			return nil
		}, nil
	}
	return nil, usagef(tapUsage, "tap: unknown subcommand %q", args[0])
}

func parseTapAdd(g *globals, args []string) (command, error) {
	fs := newFlagSet("tap add")
	var o tapOptions
	o.register(fs)
	mtu := fs.Uint("mtu", 0, "MTU (default: the kernel's)")
	var macFlag *string // nil unless --mac is given (--mac "" is an error)
	fs.Func("mac", "MAC address", func(s string) error { macFlag = &s; return nil })
	noVnet := fs.Bool("no-vnet-hdr", false, "no virtio-net header (IFF_VNET_HDR off)")
	pos, err := parseArgs(fs, g, args, tapUsage, 1, 1)
	if err != nil {
		return nil, err
	}
	if err := o.check(tapUsage); err != nil {
		return nil, err
	}
	if *mtu != 0 && (*mtu < 68 || *mtu > 65521) {
		return nil, usagef(tapUsage, "--mtu %d: a tap takes 68 to 65521", *mtu)
	}
	var mac net.HardwareAddr
	if macFlag != nil {
		if mac, err = net.ParseMAC(*macFlag); err != nil || len(mac) != 6 {
			return nil, usagef(tapUsage, "--mac %q: not an Ethernet MAC address", *macFlag)
		}
		if mac[0]&1 != 0 {
			return nil, usagef(tapUsage, "--mac %s: a multicast address cannot be a device's", mac)
		}
		if bytes.Equal(mac, make(net.HardwareAddr, 6)) {
			// The kernel refuses it (EADDRNOTAVAIL) once the tap exists.
			return nil, usagef(tapUsage, "--mac %s: the all-zero address cannot be a device's", mac)
		}
	}
	return func(stdout io.Writer) error {
		c, err := dial(g)
		if err != nil {
			return err
		}
		defer c.Close()
		cfg := o.config(pos[0], g.netns)
		if *noVnet {
			cfg.Flags = tuntap.IFF_TAP | tuntap.IFF_NO_PI
		}
		l, err := createTapConfig(c, cfg, uint32(*mtu), mac, false)
		if err != nil {
			return fmt.Errorf("tap add %s: %w", pos[0], err)
		}
		if g.json {
			return json.NewEncoder(stdout).Encode(attachResult{Tap: l.Name, Ifindex: l.Index, MAC: l.MAC.String(), MTU: l.MTU, Queues: o.queues, Created: true})
		}
		fmt.Fprintln(stdout, l.Name)
		return nil
	}, nil
}
