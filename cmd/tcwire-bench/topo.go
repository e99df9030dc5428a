package main

import (
	"fmt"
	"net"
	"time"

	"github.com/tcwire/tcwire"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
)

// The VM's MAC: the tap side writes with it, the far side sends to it, the
// static FDB entry and the macvtaps carry it.
var vmMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

const jumboMTU = 9000

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
