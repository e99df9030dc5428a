package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"

	"github.com/tcwire/tcwire/tuntap"
)

const tapUsage = `usage: tcwire [--netns NS] [--json] tap add NAME [--queues N] [--owner UID] [--group GID] [--mtu N] [--mac MAC] [--no-vnet-hdr]
       tcwire [--netns NS] tap del NAME`

func cmdTap(g *globals, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef(tapUsage, "tap: missing add or del")
	}
	switch args[0] {
	case "help", "-h", "--help":
		return &helpError{usage: tapUsage}
	case "add":
		return cmdTapAdd(g, args[1:], stdout)
	case "del":
		pos, err := parseArgs(newFlagSet("tap del"), g, args[1:], tapUsage, 1, 1)
		if err != nil {
			return err
		}
		if err := tuntap.Delete(pos[0], g.netns); err != nil {
			return fmt.Errorf("tap del %s: %w", pos[0], err)
		}
		return nil
	}
	return usagef(tapUsage, "tap: unknown subcommand %q", args[0])
}

func cmdTapAdd(g *globals, args []string, stdout io.Writer) error {
	fs := newFlagSet("tap add")
	var o tapOptions
	o.register(fs)
	mtu := fs.Uint("mtu", 0, "MTU (default: the kernel's)")
	macFlag := fs.String("mac", "", "MAC address")
	noVnet := fs.Bool("no-vnet-hdr", false, "no virtio-net header (IFF_VNET_HDR off)")
	pos, err := parseArgs(fs, g, args, tapUsage, 1, 1)
	if err != nil {
		return err
	}
	if err := o.check(tapUsage); err != nil {
		return err
	}
	if *mtu != 0 && (*mtu < 68 || *mtu > 65521) {
		return usagef(tapUsage, "--mtu %d: a tap takes 68 to 65521", *mtu)
	}
	var mac net.HardwareAddr
	if *macFlag != "" {
		if mac, err = net.ParseMAC(*macFlag); err != nil || len(mac) != 6 {
			return usagef(tapUsage, "--mac %q: not an Ethernet MAC address", *macFlag)
		}
		if mac[0]&1 != 0 {
			return usagef(tapUsage, "--mac %s: a multicast address cannot be a device's", mac)
		}
	}
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
}
