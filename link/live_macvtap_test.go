package link

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
)

// groupFrame is a frame to dst (a 01:80:c2:00:00:0X group address, or
// broadcast) from a VM-side MAC, of the local experimental EtherType
// 0x88b5, carrying marker.
func groupFrame(dst byte, marker string) []byte {
	f := []byte{0x01, 0x80, 0xc2, 0, 0, dst}
	if dst == 0xff {
		f = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	f = append(f, 0x02, 0, 0, 0, 0, 0xbb, 0x88, 0xb5)
	f = append(f, marker...)
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

// packetSocket opens a raw AF_PACKET socket (ETH_P_ALL) bound to the
// device dev of ns, closed at cleanup: a frame written to it leaves dev as
// is (a veth's peer receives it).
func packetSocket(t *testing.T, ns *nstest.NS, dev string) int {
	t.Helper()
	ifindex := ns.Ifindex(dev)
	proto := uint16(unix.ETH_P_ALL<<8&0xff00 | unix.ETH_P_ALL>>8) // htons
	fd := -1
	err := netns.Do(ns.Name, func() error {
		var err error
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto)); err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifindex})
	})
	if fd >= 0 {
		t.Cleanup(func() { unix.Close(fd) })
	}
	if err != nil {
		t.Fatalf("packet socket on %s: %v", dev, err)
	}
	return fd
}

// TestLiveMacvtapPassthruAllmulti: a macvtap in passthru mode made by
// AddMacvlan opens at MakeMacvtapDev's path, and its reader gets the LLDP
// (01:80:c2:00:00:0e) and LACP (01:80:c2:00:00:02) group frames that reach
// the lower device only with allmulticast on (SetAllmulti). Each round
// ends with a broadcast frame, which passes either way: the macvtap
// delivers multicast in order, so frames not read before it were dropped.
func TestLiveMacvtapPassthruAllmulti(t *testing.T) {
	ns := nstest.New(t)
	addVethByIP(ns)
	// Pads, so the macvtap's index (and so /dev/tapN, shared by every
	// namespace) is not the one the other tests' macvtaps get.
	for i := range 3 {
		ns.Run("ip", "link", "add", fmt.Sprintf("pad%d", i), "type", "veth", "peer", "name", fmt.Sprintf("padp%d", i))
	}
	c := dial(t, ns)
	if err := AddMacvlan(c, Macvlan{Name: "mv0", Parent: "eth0", Mode: ModePassthru, Tap: true}); err != nil {
		t.Fatal(err)
	}
	l, err := Lookup(c, "mv0")
	if err != nil {
		t.Fatal(err)
	}
	eth0, err := Lookup(c, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	if l.Macvlan == nil || l.Macvlan.Mode != ModePassthru || l.MAC.String() != eth0.MAC.String() {
		t.Fatalf("mv0: Macvlan %+v MAC %s; want passthru with eth0's MAC %s", l.Macvlan, l.MAC, eth0.MAC)
	}
	path, err := MakeMacvtapDev(l.Index, "mv0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeStaleNode(t, ns, path) })
	checkMacvtapNode(t, ns, path, l.Index)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	// No virtio-net header before each frame (a macvtap file starts with
	// IFF_VNET_HDR), so frames read as sent.
	ifr, err := unix.NewIfreq("")
	if err != nil {
		t.Fatal(err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		t.Fatalf("TUNSETIFF on %s: %v", path, err)
	}
	for _, d := range []string{"peer0", "eth0", "mv0"} {
		if err := SetUp(c, d); err != nil {
			t.Fatal(err)
		}
	}
	peer := packetSocket(t, ns, "peer0")

	for round, on := range []bool{false, true} {
		if err := SetAllmulti(c, "mv0", on); err != nil {
			t.Fatal(err)
		}
		var sent [][]byte
		for _, g := range []struct {
			dst  byte
			name string
		}{{0x0e, "lldp"}, {0x02, "lacp"}, {0xff, "broadcast"}} {
			fr := groupFrame(g.dst, fmt.Sprintf("tcwire %s round %d", g.name, round))
			sent = append(sent, fr)
			if _, err := unix.Write(peer, fr); err != nil {
				t.Fatal(err)
			}
		}
		end := sent[len(sent)-1]
		got, err := nstest.ReadFramesUntil(fd, func(b []byte) bool { return bytes.Equal(b, end) }, 5*time.Second)
		if err != nil {
			t.Fatalf("allmulticast %v: %v", on, err)
		}
		var have []string
		for _, fr := range got {
			if bytes.Contains(fr, []byte("tcwire ")) { // the host's own frames aside
				have = append(have, nstest.FrameSummary(fr))
			}
		}
		var want []string
		for _, fr := range sent {
			if on || fr[0] == 0xff {
				want = append(want, nstest.FrameSummary(fr))
			}
		}
		if strings.Join(have, "\n") != strings.Join(want, "\n") {
			t.Errorf("allmulticast %v: the macvtap's reader got\n%s\nwant\n%s", on, strings.Join(have, "\n"), strings.Join(want, "\n"))
		}
	}
}
