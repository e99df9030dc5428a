package main

import (
	"bytes"
	"encoding/binary"
	"net"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/bench"
)

// l2Frame is one frame of the L2 transparency test, sent by the far side
// toward the VM.
type l2Frame struct {
	name  string
	frame []byte
}

func linkLocal(last byte) net.HardwareAddr { return net.HardwareAddr{0x01, 0x80, 0xc2, 0, 0, last} }

// otherMAC is another VM's MAC: a point-to-point link passes frames to it,
// a switch that knows where the VM is does not.
var otherMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x65, 0x43, 0x21}

// l2Window is how long the L2 test watches the VM side, counted from the
// wiring's creation: a new device's IPv6 DAD, MLD reports and first
// router solicitation fall within it.
const l2Window = 3 * time.Second

// l2Marker is the start of every test frame's marker: magic and run id.
func l2Marker() []byte {
	var m [8]byte
	binary.BigEndian.PutUint32(m[0:], magic)
	binary.BigEndian.PutUint32(m[4:], runID)
	return m[:]
}

// l2Frames builds the test frames; each carries a marker (magic, run id,
// test number) in its padding so it cannot be mistaken for another.
func l2Frames(src net.HardwareAddr) []l2Frame {
	mk := func(i int, dst net.HardwareAddr, typ uint16, body []byte, size int) []byte {
		f := make([]byte, 14, size)
		copy(f, dst)
		copy(f[6:], src)
		binary.BigEndian.PutUint16(f[12:], typ)
		f = append(f, body...)
		f = append(f, l2Marker()...)
		f = binary.BigEndian.AppendUint32(f, uint32(i))
		for len(f) < size {
			f = append(f, 0)
		}
		return f
	}
	// STP: an 802.3 length field, LLC 42 42 03, a configuration BPDU
	// (35 bytes) with the marker after it.
	bpdu := append([]byte{0x42, 0x42, 0x03}, make([]byte, 35)...)
	stp := mk(0, linkLocal(0x00), uint16(len(bpdu)+12), bpdu, minFrame)
	// Pause: opcode 1, quanta 0 (harmless).
	pause := mk(1, linkLocal(0x01), 0x8808, []byte{0x00, 0x01, 0x00, 0x00}, minFrame)
	// LACP: slow protocols subtype 1, version 1, then an empty actor TLV.
	lacp := mk(2, linkLocal(0x02), 0x8809, []byte{0x01, 0x01, 0x01, 0x14}, minFrame)
	// 802.1X: EAPOL version 2, EAPOL-Start, length 0.
	dot1x := mk(3, linkLocal(0x03), 0x888e, []byte{0x02, 0x01, 0x00, 0x00}, minFrame)
	// LLDP: chassis ID (MAC), port ID (local "p"), TTL 120, end.
	lldp := mk(4, linkLocal(0x0e), 0x88cc, []byte{
		0x02, 0x07, 0x04, src[0], src[1], src[2], src[3], src[4], src[5],
		0x04, 0x02, 0x07, 'p',
		0x06, 0x02, 0x00, 0x78,
		0x00, 0x00}, minFrame)
	// VLAN 100, inner ethertype 0x88b5.
	vlan := mk(5, vmMAC, 0x8100, []byte{0x00, 100, etherBench >> 8, etherBench & 0xff}, minFrame)
	jumbo := mk(6, vmMAC, etherBench, nil, 14+jumboMTU)
	bcast := mk(7, net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, etherBench, nil, minFrame)
	other := mk(8, otherMAC, etherBench, nil, minFrame)
	return []l2Frame{{"stp", stp}, {"pause", pause}, {"lacp", lacp}, {"dot1x", dot1x}, {"lldp", lldp}, {"vlan", vlan}, {"jumbo", jumbo},
		{"broadcast", bcast}, {"other_unicast", other}}
}

// l2Test sends every test frame from the far side (three copies) and
// reports which reached the VM's side unchanged, watching it until
// l2Window after the wiring was made (and at least 600 ms): every other
// frame the VM side read meanwhile came from the host's own stack.
func l2Test(t *topo) (*bench.L2, error) {
	frames := l2Frames(t.farMAC)
	recv := t.vm.fd
	hdr := t.vm.hdr
	packet := t.vm.kind == "packet"
	if packet {
		// The VM side is a veth end: a socket for every protocol, with
		// the VLAN tag the kernel strips handed back in auxdata.
		ep, err := packetEndpoint(t.vmNS, t.vm.ifindex, unix.ETH_P_ALL)
		if err != nil {
			return nil, err
		}
		defer ep.close()
		if err := unix.SetsockoptInt(ep.fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
			return nil, err
		}
		recv = ep.fd
	}
	buf := make([]byte, 65536)
	oob := make([]byte, 256)
	marker := l2Marker()
	arrived := make([]bool, len(frames))
	injected := 0
	// read takes one frame off recv; false when none is queued.
	read := func() bool {
		var got []byte
		if packet {
			n, oobn, _, from, err := unix.Recvmsg(recv, buf, oob, 0)
			if err != nil {
				return false
			}
			if sll, ok := from.(*unix.SockaddrLinklayer); ok && sll.Pkttype == unix.PACKET_OUTGOING {
				return true // the veth end's own transmissions, away from the "VM"
			}
			got = withVLAN(buf[:n], oob[:oobn])
		} else {
			n, err := unix.Read(recv, buf)
			if err != nil {
				return false
			}
			if n <= hdr {
				return true
			}
			got = buf[hdr:n]
		}
		i := slices.IndexFunc(frames, func(f l2Frame) bool { return bytes.Equal(got, f.frame) })
		switch {
		case i >= 0:
			arrived[i] = true
		case !bytes.Contains(got, marker):
			injected++
		}
		return true
	}
	// What the host's stack queued since the wiring was made counts too
	// (the socket of the floor opens now and sees nothing older).
	for read() {
	}
	for _, f := range frames {
		for range 3 {
			unix.Write(t.far.fd, f.frame)
		}
	}
	deadline := t.built.Add(l2Window)
	if min := time.Now().Add(600 * time.Millisecond); deadline.Before(min) {
		deadline = min
	}
	pfd := []unix.PollFd{{Fd: int32(recv), Events: unix.POLLIN}}
	for time.Now().Before(deadline) {
		if !read() {
			unix.Poll(pfd, 10)
		}
	}
	b := func(i int) *bool { v := arrived[i]; return &v }
	return &bench.L2{STP: b(0), Pause: b(1), LACP: b(2), Dot1X: b(3), LLDP: b(4), VLAN: b(5), Jumbo: b(6),
		Broadcast: b(7), OtherUnicast: b(8), HostInjected: &injected}, nil
}

// withVLAN re-inserts the 802.1Q tag that the receive path moved into
// PACKET_AUXDATA.
func withVLAN(f, oob []byte) []byte {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return f
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_PACKET || m.Header.Type != unix.PACKET_AUXDATA || len(m.Data) < int(unsafe.Sizeof(unix.TpacketAuxdata{})) {
			continue
		}
		aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&m.Data[0]))
		if aux.Status&unix.TP_STATUS_VLAN_VALID == 0 || len(f) < 12 {
			continue
		}
		tpid := aux.Vlan_tpid
		if tpid == 0 {
			tpid = 0x8100
		}
		out := make([]byte, 0, len(f)+4)
		out = append(out, f[:12]...)
		out = binary.BigEndian.AppendUint16(out, tpid)
		out = binary.BigEndian.AppendUint16(out, aux.Vlan_tci)
		return append(out, f[12:]...)
	}
	return f
}
