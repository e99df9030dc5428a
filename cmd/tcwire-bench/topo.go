package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// The VM's MAC: the tap side writes with it, the far side sends to it, the
// static FDB entry and the macvtaps carry it.
var vmMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

const jumboMTU = 9000

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

// topo is one datapath built in two namespaces: vmNS holds the VM's side
// (tap, macvtap or a veth end), farNS the veth peer with an AF_PACKET
// socket. A ceiling has one side only.
type topo struct {
	name, desc  string
	ceiling     bool
	shared      bool // more VMs can join the segment (dpSpec.shared)
	dirs        []string
	vmNS, farNS string
	vm, far     *endpoint
	farMAC      net.HardwareAddr
	conns       []*nl.Conn // for device drop counters
	cleanups    []func()
	bridge      string    // the bridge joining the veth and the tap, if any
	built       time.Time // when the wiring was complete
}

func (t *topo) close() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
	t.cleanups = nil
}

func (t *topo) drops() uint64 {
	var s uint64
	for _, c := range t.conns {
		s += devDrops(c)
	}
	return s
}

type dpSpec struct {
	name, desc string
	ceiling    bool
	build      func(t *topo) error
	// shared: more VMs can join the same segment (a bridge's ports, a
	// lower device's macvtaps in bridge mode); tc redirect and passthru
	// join one veth to one VM.
	shared bool
}

var datapathSpecs = []dpSpec{
	{"tc-redirect", "tap with the kernel's default qdisc; ingress qdisc + u32 catch-all + mirred egress redirect both ways (tc-redirect-tap's setup)", false, buildTC, false},
	{"tcwire", "as `tcwire attach` builds it (package tcwire's Attach): as tc-redirect, plus a noqueue root qdisc and addrgenmode none on the tap", false, buildTcwire, false},
	{"bridge", "veth and tap in a Linux bridge with the kernel's defaults (STP off)", false, buildBridge(false), true},
	{"bridge-static-fdb", "bridge; learning and unicast flooding off on the tap port, static FDB entry for the VM's MAC (libvirt-style)", false, buildBridge(true), true},
	{"macvtap-bridge", "macvtap in bridge mode on the veth, /dev/tapN opened by the VM side", false, buildMacvtapBridge, true},
	{"macvtap-passthru", "macvtap in passthru mode on the veth, /dev/tapN opened by the VM side", false, buildMacvtapPassthru, false},
	{"tcwire-macvtap", "as `tcwire attach --mode macvtap` builds it (package tcwire's Attach): a passthru macvtap with allmulticast on, its /dev/tapN opened by the VM side", false, buildTcwireMode(tcwire.ModeMacvtap), false},
	{"tcwire-bridge", "as `tcwire attach --mode bridge` builds it: bridge with learning and unicast flooding off on the tap port, DEV's MAC static on it, group_fwd_mask 0xfff8", false, buildTcwireMode(tcwire.ModeBridge), true},
	{"veth", "floor: AF_PACKET on both ends of a plain veth pair", false, buildVeth, false},
	{"tap-write", "ceiling: write(2) to a tap that nothing is attached to (frames die in the stack)", true, buildTapWrite, false},
	{"packet-send", "ceiling: AF_PACKET send on a veth whose other end nobody reads", true, buildPacketSend, false},
}

const floorName = "veth"

func dial(ns string) (*nl.Conn, error) { return nl.Dial(&nl.Config{NetNS: ns}) }

// namespaces makes vmNS and farNS and keeps a netlink connection to each.
func (t *topo) namespaces(far bool) (cvm, cfar *nl.Conn, err error) {
	if t.vmNS, err = newNS("vm", true); err != nil {
		return nil, nil, err
	}
	vm := t.vmNS
	t.cleanups = append(t.cleanups, func() { delNS(vm) })
	if cvm, err = dial(vm); err != nil {
		return nil, nil, err
	}
	t.cleanups = append(t.cleanups, func() { cvm.Close() })
	t.conns = append(t.conns, cvm)
	if !far {
		return cvm, nil, nil
	}
	if t.farNS, err = newNS("far", false); err != nil {
		return nil, nil, err
	}
	fns := t.farNS
	t.cleanups = append(t.cleanups, func() { delNS(fns) })
	if cfar, err = dial(fns); err != nil {
		return nil, nil, err
	}
	t.cleanups = append(t.cleanups, func() { cfar.Close() })
	t.conns = append(t.conns, cfar)
	return cvm, cfar, nil
}

// base makes the namespaces and the veth pair eth0 (vm) – peer0 (far), both
// up with MTU 9000, and the far side's AF_PACKET socket on peer0.
func (t *topo) base() (cvm, cfar *nl.Conn, err error) {
	if cvm, cfar, err = t.namespaces(true); err != nil {
		return nil, nil, err
	}
	return cvm, cfar, t.vethInto(cvm)
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

// buildTC is tc-redirect-tap's setup: a tap as a VMM makes it, wired with
// the four tc objects.
func buildTC(t *topo) error {
	cvm, _, err := t.base()
	if err != nil {
		return err
	}
	tap, err := t.vmTap(cvm)
	if err != nil {
		return err
	}
	eth, err := link.Lookup(cvm, "eth0")
	if err != nil {
		return err
	}
	return tc.Wire(cvm, tc.Dev{Name: eth.Name, Index: eth.Index}, tc.Dev{Name: tap.Name, Index: tap.Index}, tc.WireOptions{})
}

// buildTcwire wires eth0 exactly as `tcwire attach` does, with package
// tcwire's Attach: it creates the tap (DEV's MTU, noqueue, addrgenmode
// none) and hands out its file, which the VM side holds as a VMM would.
func buildTcwire(t *topo) error {
	if _, _, err := t.base(); err != nil {
		return err
	}
	a, err := tcwire.Attach(context.Background(), tcwire.Options{NetNS: t.vmNS, Dev: "eth0", Tap: "tap0", Files: true})
	if err != nil {
		return err
	}
	return t.holdFiles("tap", a)
}

func buildBridge(static bool) func(t *topo) error {
	return func(t *topo) error {
		cvm, _, err := t.base()
		if err != nil {
			return err
		}
		if _, err := t.vmTap(cvm); err != nil {
			return err
		}
		if err := link.AddBridge(cvm, "br0"); err != nil {
			return err
		}
		t.bridge = "br0"
		for _, p := range []string{"eth0", "tap0"} {
			if err := link.SetMaster(cvm, p, "br0"); err != nil {
				return err
			}
		}
		if err := link.SetMTU(cvm, "br0", jumboMTU); err != nil {
			return err
		}
		if static {
			off := false
			if err := link.SetBridgePort(cvm, "tap0", link.PortFlags{Learning: &off, UnicastFlood: &off}); err != nil {
				return err
			}
			if err := link.AddFDB(cvm, "tap0", vmMAC); err != nil {
				return err
			}
		}
		if err := link.SetUp(cvm, "br0"); err != nil {
			return err
		}
		// With STP off the ports forward at once; check rather than assume.
		deadline := time.Now().Add(5 * time.Second)
		for {
			ready := true
			for _, p := range []string{"eth0", "tap0"} {
				l, err := link.Lookup(cvm, p)
				if err != nil {
					return err
				}
				if l.Port == nil || l.Port.State != 3 {
					ready = false
				}
			}
			if ready {
				return nil
			}
			if time.Now().After(deadline) {
				return errors.New("bridge ports not forwarding after 5s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

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

// buildTcwireMode wires eth0 exactly as `tcwire attach --mode m` does, with
// package tcwire's Attach. The VM's MAC is DEV's in tcwire's modes, so eth0
// takes vmMAC first; the VM side holds the file Attach hands out (the
// macvtap's /dev/tapN, or the bridge's tap), as a VMM would.
func buildTcwireMode(m tcwire.Mode) func(t *topo) error {
	return func(t *topo) error {
		var cvm *nl.Conn
		var err error
		if m == tcwire.ModeMacvtap {
			cvm, err = t.macvtapBase()
		} else {
			cvm, _, err = t.base()
		}
		if err != nil {
			return err
		}
		if err := link.SetMAC(cvm, "eth0", vmMAC); err != nil {
			return err
		}
		o := tcwire.Options{NetNS: t.vmNS, Dev: "eth0", Tap: "tap0", Mode: m, Files: true}
		if m == tcwire.ModeMacvtap {
			o.Tap = "mvt0"
		}
		a, err := tcwire.Attach(context.Background(), o)
		if err != nil {
			return err
		}
		if a.Bridge != "" {
			t.bridge = a.Bridge
		}
		kind := "tap"
		if m == tcwire.ModeMacvtap {
			kind = "macvtap"
			// A node Attach had to make with mknod goes with its detach;
			// the namespace's deletion does not remove it.
			t.cleanups = append(t.cleanups, func() { tcwire.Detach(context.Background(), o) })
		}
		return t.holdFiles(kind, a)
	}
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

// vethInto is base for namespaces already made.
func (t *topo) vethInto(cvm *nl.Conn) error {
	cfar := t.conns[1]
	if err := link.AddVeth(cvm, link.Veth{Name: "eth0", Peer: "peer0", PeerNetNS: t.farNS}); err != nil {
		return err
	}
	for _, x := range []struct {
		c    *nl.Conn
		name string
	}{{cvm, "eth0"}, {cfar, "peer0"}} {
		if err := link.SetMTU(x.c, x.name, jumboMTU); err != nil {
			return err
		}
		if err := link.SetUp(x.c, x.name); err != nil {
			return err
		}
	}
	l, err := link.Lookup(cfar, "peer0")
	if err != nil {
		return err
	}
	t.farMAC = l.MAC
	if t.far, err = packetEndpoint(t.farNS, l.Index, etherBench); err != nil {
		return err
	}
	t.cleanups = append(t.cleanups, t.far.close)
	return nil
}

func buildVeth(t *topo) error {
	cvm, _, err := t.base()
	if err != nil {
		return err
	}
	l, err := link.Lookup(cvm, "eth0")
	if err != nil {
		return err
	}
	if err := link.SetMAC(cvm, "eth0", vmMAC); err != nil {
		return err
	}
	if t.vm, err = packetEndpoint(t.vmNS, l.Index, etherBench); err != nil {
		return err
	}
	t.cleanups = append(t.cleanups, t.vm.close)
	return nil
}

func buildTapWrite(t *topo) error {
	cvm, _, err := t.namespaces(false)
	if err != nil {
		return err
	}
	if _, err := t.vmTap(cvm); err != nil {
		return err
	}
	t.farMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
	return nil
}

func buildPacketSend(t *topo) error {
	_, _, err := t.base()
	return err
}

func buildTopo(s dpSpec) (*topo, error) {
	t := &topo{name: s.name, desc: s.desc, ceiling: s.ceiling, shared: s.shared}
	switch s.name {
	case "tap-write":
		t.dirs = []string{dirTapToVeth}
	case "packet-send":
		t.dirs = []string{dirVethToTap}
	default:
		t.dirs = []string{dirTapToVeth, dirVethToTap}
	}
	if err := s.build(t); err != nil {
		t.close()
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	t.built = time.Now()
	return t, nil
}
