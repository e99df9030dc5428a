package main

import (
	"fmt"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tuntap"
)

// Endpoints: the file descriptors the two sides of a datapath hold, as a
// VMM holds a tap's or a macvtap's file and a far-side process its
// AF_PACKET socket.

// endpoint is one side's file descriptor, as a VMM (tap, macvtap) or a
// process on the far side (AF_PACKET) holds it. Non-blocking.
type endpoint struct {
	fd      int
	hdr     int // virtio-net header bytes before each frame
	kind    string
	ns      string
	ifindex int32
	tap     *tuntap.Tap // the tap's files, when kind is "tap"
	close   func()
}

// setOffload tells the kernel which offloads the VM side's reader handles
// (TUNSETOFFLOAD): GSO frames reach it whole only with TSO on. A macvtap's
// /dev/tapN takes the same ioctl; tuntap.Tap does not wrap that file.
func (e *endpoint) setOffload(flags uint32) error {
	if e.tap != nil {
		return e.tap.SetOffload(flags)
	}
	if err := unix.IoctlSetInt(e.fd, unix.TUNSETOFFLOAD, int(flags)); err != nil {
		return fmt.Errorf("TUNSETOFFLOAD %#x on the %s file of ifindex %d: %w", flags, e.kind, e.ifindex, err)
	}
	return nil
}

// packetEndpoint opens a non-blocking AF_PACKET socket in ns, bound to
// ifindex and protocol proto (0: send only).
func packetEndpoint(ns string, ifindex int32, proto uint16) (*endpoint, error) {
	fd := -1
	err := netns.Do(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(htons(proto)))
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: int(ifindex)}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind AF_PACKET to ifindex %d: %w", ifindex, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &endpoint{fd: fd, kind: "packet", ns: ns, ifindex: ifindex, close: func() { unix.Close(fd) }}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// tapEndpoint creates the tap name in ns (vnet_hdr, no_pi: a VMM's tap),
// with the MTU given, up, and keeps its file open as the VMM does.
func tapEndpoint(c *nl.Conn, ns, name string, mtu uint32) (*endpoint, *link.Link, error) {
	tap, err := tuntap.Create(tuntap.Config{Name: name, NetNS: ns})
	if err != nil {
		return nil, nil, err
	}
	ep := &endpoint{hdr: tuntap.VirtioNetHdrLen, kind: "tap", ns: ns, tap: tap, close: func() { tap.Close() }}
	rc, err := tap.Files()[0].SyscallConn()
	if err != nil {
		tap.Close()
		return nil, nil, err
	}
	rc.Control(func(fd uintptr) { ep.fd = int(fd) })
	if err := link.SetMTU(c, name, mtu); err != nil {
		tap.Close()
		return nil, nil, err
	}
	if err := link.SetUp(c, name); err != nil {
		tap.Close()
		return nil, nil, err
	}
	l, err := link.Lookup(c, name)
	if err != nil {
		tap.Close()
		return nil, nil, err
	}
	ep.ifindex = l.Index
	return ep, l, nil
}

// vmTap makes the VM's tap in the VM namespace (see tapEndpoint), holds it
// as the VM side of t and closes it with t.
func (t *topo) vmTap(c *nl.Conn) (*link.Link, error) {
	ep, tap, err := tapEndpoint(c, t.vmNS, "tap0", jumboMTU)
	if err != nil {
		return nil, err
	}
	t.vm = ep
	t.cleanups = append(t.cleanups, ep.close)
	return tap, nil
}

// holdFiles makes the VM side of t the first of a's files, non-blocking,
// closed with t.
func (t *topo) holdFiles(kind string, a *tcwire.Attachment) error {
	ep := &endpoint{hdr: tuntap.VirtioNetHdrLen, kind: kind, ns: t.vmNS, ifindex: a.TapIndex, close: func() {
		for _, f := range a.Files {
			f.Close()
		}
	}}
	t.vm = ep
	t.cleanups = append(t.cleanups, ep.close)
	rc, err := a.Files[0].SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { ep.fd, serr = int(fd), unix.SetNonblock(int(fd), true) }); err != nil {
		return err
	}
	return serr
}
