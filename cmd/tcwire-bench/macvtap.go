package main

import (
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tuntap"
)

// The macvtap wirings, and the spare veth pairs that keep each macvtap's
// /dev/tapN its own.

// The macvtap topologies, one function each, so that each can become a
// call into the library's own macvtap mode.
func buildMacvtapBridge(t *topo) error   { return buildMacvtap(t, link.ModeBridge) }
func buildMacvtapPassthru(t *topo) error { return buildMacvtap(t, link.ModePassthru) }

// macvtapSlots numbers the macvtaps this process makes: /dev/tapN is
// named by ifindex and shared by all namespaces (and a deleted
// namespace's node can outlive it for a while), so macvtap number k sits
// behind k spare veth pairs in its namespace and never wants another's
// node.
var macvtapSlots atomic.Int32

// macvtapBase is base for a macvtap: the namespaces, this macvtap's spare
// veth pairs, then eth0/peer0.
func (t *topo) macvtapBase() (*nl.Conn, error) {
	cvm, _, err := t.namespaces(true)
	if err != nil {
		return nil, err
	}
	for i := range macvtapSlots.Add(1) - 1 {
		if err := link.AddVeth(cvm, link.Veth{Name: fmt.Sprintf("skip%da", i), Peer: fmt.Sprintf("skip%db", i)}); err != nil {
			return nil, err
		}
	}
	return cvm, t.vethInto(cvm)
}

func buildMacvtap(t *topo, mode link.MacvlanMode) error {
	cvm, err := t.macvtapBase()
	if err != nil {
		return err
	}
	if err := link.AddMacvlan(cvm, link.Macvlan{Name: "mvt0", Parent: "eth0", Mode: mode, Tap: true}); err != nil {
		return err
	}
	if err := link.SetMAC(cvm, "mvt0", vmMAC); err != nil {
		return err
	}
	if err := link.SetMTU(cvm, "mvt0", jumboMTU); err != nil {
		return err
	}
	if err := link.SetUp(cvm, "mvt0"); err != nil {
		return err
	}
	l, err := link.Lookup(cvm, "mvt0")
	if err != nil {
		return err
	}
	_, statErr := os.Stat(link.MacvtapDevPath(l.Index))
	path, err := link.MakeMacvtapDev(l.Index, l.Name)
	if err != nil {
		return err
	}
	if statErr != nil {
		// No devtmpfs or udev made the node: MakeMacvtapDev did, and
		// nothing else will remove it.
		t.cleanups = append(t.cleanups, func() { os.Remove(path) })
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	t.vm = &endpoint{fd: fd, hdr: tuntap.VirtioNetHdrLen, kind: "macvtap", ns: t.vmNS, ifindex: l.Index, close: func() { unix.Close(fd) }}
	t.cleanups = append(t.cleanups, t.vm.close)
	// The macvtap's character device has IFF_VNET_HDR on by default;
	// make sure, since every frame's offset depends on it.
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.TUNGETIFF, ifr); err != nil {
		return fmt.Errorf("TUNGETIFF %s: %w", path, err)
	}
	if ifr.Uint16()&unix.IFF_VNET_HDR == 0 {
		return fmt.Errorf("%s: no virtio-net header (flags %#x)", path, ifr.Uint16())
	}
	return nil
}
