package main

import (
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"slices"

	"github.com/tcwire/tcwire/bench"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tuntap"
)

// Bulk TCP throughput (issue 15). Each wiring is built as for the
// packet-rate rows (buildTopo); then a guest namespace gets a tap standing
// for the guest kernel, a relay copies frames with their virtio-net header
// between that tap's file and the wiring's VM side (as a VMM's virtio-net
// backend does), the veth's peer gets an address, and iperf3 runs between
// the two namespaces. The addresses exist only in these namespaces.

var (
	bulkHostIP  = netip.AddrFrom4([4]byte{10, 99, 0, 1})
	bulkGuestIP = netip.AddrFrom4([4]byte{10, 99, 0, 2})
)

const (
	bulkPrefix = 24
	// guestMTU is the guest's MTU and so its TCP MSS (1460), as on a
	// CNI network; the wirings' devices stay at 9000.
	guestMTU = 1500
	// offloads: what a virtio-net guest with checksum and TSO offloads
	// asks of its backend (TUNSETOFFLOAD).
	offloads = tuntap.TUN_F_CSUM | tuntap.TUN_F_TSO4 | tuntap.TUN_F_TSO6

	relayCeiling = "relay"
	offloadsOff  = "tcwire-offloads-off"
)

type bulkSpec struct {
	name, desc string
	wiring     string // a datapathSpecs entry; "" for the relay's ceiling
	offloads   bool
}

// bulkSpecs are the wirings of the packet-rate rows (not the floor and
// the ceilings, which have no VM side to relay to), tcwire with offloads
// off, and the relay's own ceiling.
func bulkSpecs() []bulkSpec {
	var out []bulkSpec
	for _, s := range datapathSpecs {
		if !s.ceiling && s.name != floorName {
			out = append(out, bulkSpec{s.name, s.desc, s.name, true})
		}
	}
	return append(out,
		bulkSpec{offloadsOff, "tcwire with offloads off on the guest's tap and on the VM's tap: every frame at most 1514 bytes", "tcwire", false},
		bulkSpec{relayCeiling, "ceiling: the relay between the guest's tap and a tap in the host namespace that holds the address; no wiring", "", true})
}

type bulkTrial struct {
	gbps, cpuPerGbit float64
	retransmits      int
	spurious         uint64 // retransmitted segments the receiver had already (DSACK)
	drops            uint64 // rx+tx dropped of every device of the wiring's and the guest's namespaces
}

// bulkTopo is one wiring with its guest: vm is the wiring's VM side, guest
// the guest's tap; hostNS holds the host's address and the iperf3 server.
type bulkTopo struct {
	spec            bulkSpec
	t               *topo
	hostNS, guestNS string
	vm, guest       *endpoint
	trials          map[string][]bulkTrial
	maxFrame        map[string]int
}

func specByName(name string) (dpSpec, bool) {
	for _, s := range datapathSpecs {
		if s.name == name {
			return s, true
		}
	}
	return dpSpec{}, false
}

func buildBulk(s bulkSpec) (*bulkTopo, error) {
	b := &bulkTopo{spec: s, trials: map[string][]bulkTrial{}, maxFrame: map[string]int{}}
	if err := b.build(); err != nil {
		if b.t != nil {
			b.t.close()
		}
		return nil, fmt.Errorf("bulk %s: %w", s.name, err)
	}
	return b, nil
}

func (b *bulkTopo) build() error {
	var (
		hostConn *nl.Conn
		hostDev  string
		guestMAC net.HardwareAddr
	)
	if b.spec.wiring == "" {
		// The relay's ceiling: the VM side is a tap in the host's own
		// namespace, holding the host's address.
		b.t = &topo{name: b.spec.name}
		c, _, err := b.t.namespaces(false)
		if err != nil {
			return err
		}
		if _, err := b.t.vmTap(c); err != nil {
			return err
		}
		b.hostNS, hostConn, hostDev = b.t.vmNS, c, "tap0"
		guestMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	} else {
		ds, ok := specByName(b.spec.wiring)
		if !ok {
			return fmt.Errorf("no datapath %q", b.spec.wiring)
		}
		t, err := buildTopo(ds)
		if err != nil {
			return err
		}
		b.t = t
		cvm := t.conns[0]
		b.hostNS, hostConn, hostDev = t.farNS, t.conns[1], "peer0"
		// The guest answers to the MAC the wiring delivers to: the
		// macvtap's own, else the veth's (as tc-redirect-tap gives the VM
		// the veth's MAC).
		if t.vm.kind == "macvtap" {
			guestMAC = vmMAC
		} else {
			eth, err := link.Lookup(cvm, "eth0")
			if err != nil {
				return err
			}
			guestMAC = eth.MAC
		}
		if t.bridge != "" {
			// The veth's MAC is a local address of its bridge port: without
			// moving it to the tap's port the bridge keeps every frame for
			// the guest to itself.
			if err := link.ReplaceFDB(cvm, "tap0", guestMAC); err != nil {
				return err
			}
		}
	}
	b.vm = b.t.vm
	var off uint32
	if b.spec.offloads {
		off = offloads
	}
	if err := b.vm.setOffload(off); err != nil {
		return err
	}
	if err := link.AddAddr(hostConn, hostDev, netip.PrefixFrom(bulkHostIP, bulkPrefix)); err != nil {
		return err
	}
	var err error
	if b.guestNS, err = newNS("guest", false); err != nil {
		return err
	}
	gns := b.guestNS
	b.t.cleanups = append(b.t.cleanups, func() { delNS(gns) })
	cg, err := dial(gns)
	if err != nil {
		return err
	}
	b.t.cleanups = append(b.t.cleanups, func() { cg.Close() })
	b.t.conns = append(b.t.conns, cg) // the guest's tap's drops count too
	if b.guest, _, err = tapEndpoint(cg, gns, "gtap0", guestMTU); err != nil {
		return err
	}
	b.t.cleanups = append(b.t.cleanups, b.guest.close)
	if err := b.guest.setOffload(off); err != nil {
		return err
	}
	if err := link.SetMAC(cg, "gtap0", guestMAC); err != nil {
		return err
	}
	return link.AddAddr(cg, "gtap0", netip.PrefixFrom(bulkGuestIP, bulkPrefix))
}

// runBulk builds every bulk wiring, then runs both directions of each in
// interleaved rounds, the order rotated each round.
func (h *harness) runBulk() []bench.Bulk {
	if _, err := exec.LookPath("iperf3"); err != nil {
		h.fail("bulk: iperf3 not found (Debian package iperf3)")
		return nil
	}
	var bs []*bulkTopo
	for _, s := range bulkSpecs() {
		if h.Datapaths != nil && !slices.Contains(h.Datapaths, s.wiring) && !slices.Contains(h.Datapaths, s.name) {
			continue
		}
		h.progress("build bulk %s", s.name)
		b, err := buildBulk(s)
		if err != nil {
			h.fail("%v", err)
			continue
		}
		defer b.t.close()
		bs = append(bs, b)
	}
	dirs := []string{bench.GuestToHost, bench.HostToGuest}
	for round := 0; round < h.bulkRounds; round++ {
		for _, b := range rotate(bs, round) {
			for _, dir := range rotate(dirs, round) {
				tr, err := h.iperfTrial(b, dir)
				if err != nil {
					h.fail("bulk %s %s: %v", b.spec.name, dir, err)
					continue
				}
				b.trials[dir] = append(b.trials[dir], tr)
				h.progress("bulk %-26s %-13s %6.2f Gbit/s, %5.0f CPU ms/Gbit, %d retransmits (%d spurious), %d device drops", b.spec.name, dir, tr.gbps, tr.cpuPerGbit, tr.retransmits, tr.spurious, tr.drops)
			}
		}
		h.progress("bulk round %d/%d done", round+1, h.bulkRounds)
	}
	out := []bench.Bulk{}
	for _, b := range bs {
		out = append(out, b.summary())
	}
	return out
}

func (b *bulkTopo) summary() bench.Bulk {
	r := bench.Bulk{Name: b.spec.name, Description: b.spec.desc, Offloads: b.spec.offloads, Ceiling: b.spec.wiring == "", Flows: []bench.BulkFlow{}}
	var cpus []float64
	for _, dir := range []string{bench.GuestToHost, bench.HostToGuest} {
		ts := b.trials[dir]
		if len(ts) == 0 {
			continue
		}
		var g, c, re, sp, dr []float64
		for _, t := range ts {
			g, c, dr = append(g, t.gbps), append(c, t.cpuPerGbit), append(dr, float64(t.drops))
			re, sp = append(re, float64(t.retransmits)), append(sp, float64(t.spurious))
		}
		f := bench.BulkFlow{Direction: dir, Gbps: median(g), GbpsMin: slices.Min(g), GbpsMax: slices.Max(g),
			CPUPerGbit: median(c), CPUPerGbitMin: slices.Min(c), CPUPerGbitMax: slices.Max(c),
			Retransmits: median(re), Spurious: median(sp), DevDrops: median(dr), MaxFrame: b.maxFrame[dir], Trials: len(ts)}
		r.Flows = append(r.Flows, f)
		if dir == bench.GuestToHost {
			r.GuestToHostGbps = ptr(f.Gbps)
		} else {
			r.HostToGuestGbps = ptr(f.Gbps)
		}
		cpus = append(cpus, f.CPUPerGbit)
	}
	if len(cpus) == 2 {
		r.CPUPerGbit = ptr((cpus[0] + cpus[1]) / 2)
	}
	return r
}
