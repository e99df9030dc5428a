package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/tcwire/tcwire/internal/netns"
)

// The checks: a frame each way between the tap's file and peer0, and a UDP
// echo between the peer's IP stack and the "VM" the demo plays on the tap.

// readMatch reads packets from f until match accepts one, the timeout
// passes or the context is cancelled.
func (d *demo) readMatch(f *os.File, what string, match func([]byte) bool) ([]byte, error) {
	deadline := time.Now().Add(d.Timeout)
	buf := make([]byte, 65536)
	seen := 0
	for time.Now().Before(deadline) {
		if err := d.ctx.Err(); err != nil {
			return nil, err
		}
		// Short deadlines, so that Ctrl-C is noticed promptly.
		f.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := f.Read(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		seen++
		if match(buf[:n]) {
			return append([]byte(nil), buf[:n]...), nil
		}
	}
	return nil, fmt.Errorf("nothing arrived on %s within %v (%d other frames seen)", what, d.Timeout, seen)
}

// writeTap writes frame to the tap fd behind a virtio-net header (all zero:
// no checksum offload, no GSO), as a VM's virtio-net driver hands it over.
func (d *demo) writeTap(frame []byte) error {
	_, err := d.tap.Write(append(make([]byte, vnetLen), frame...))
	return err
}

// vmToPeer: a frame written to the tap fd comes out of peer0.
func (d *demo) vmToPeer() (string, error) {
	marker := "tcwire-demo vm→peer " + d.nonce
	frame := ethernet(broadcast, d.vmMAC, etherDemo, []byte(marker))
	if err := d.writeTap(frame); err != nil {
		return "", fmt.Errorf("write tap fd: %w", err)
	}
	got, err := d.readMatch(d.packet, "peer0", func(b []byte) bool {
		return len(b) >= 14 && binary.BigEndian.Uint16(b[12:]) == etherDemo && bytes.Contains(b, []byte(marker))
	})
	if err != nil {
		return "", err
	}
	if !bytes.Equal(got, frame) {
		return "", fmt.Errorf("peer0 got a changed frame:\n%x\nwant\n%x", got, frame)
	}
	return fmt.Sprintf("%d-byte frame %s → %s type %#04x %q: tap fd → tap0 → eth0 → peer0, unchanged", len(frame), d.vmMAC, broadcast, etherDemo, marker), nil
}

// peerToVM: a frame sent out of peer0 comes out of the tap fd.
func (d *demo) peerToVM() (string, error) {
	marker := "tcwire-demo peer→vm " + d.nonce
	frame := ethernet(d.vmMAC, d.peerMAC, etherDemo, []byte(marker))
	if _, err := d.packet.Write(frame); err != nil {
		return "", fmt.Errorf("send on peer0: %w", err)
	}
	got, err := d.readMatch(d.tap, "the tap fd", func(b []byte) bool {
		return len(b) >= vnetLen+14 && binary.BigEndian.Uint16(b[vnetLen+12:]) == etherDemo && bytes.Contains(b, []byte(marker))
	})
	if err != nil {
		return "", err
	}
	if !bytes.Equal(got[vnetLen:], frame) {
		return "", fmt.Errorf("the tap fd got a changed frame:\n%x\nwant\n%x", got[vnetLen:], frame)
	}
	return fmt.Sprintf("%d-byte frame %s → %s type %#04x %q: peer0 → eth0 → tap0 → tap fd, behind a %d-byte virtio-net header", len(frame), d.peerMAC, d.vmMAC, etherDemo, marker, vnetLen), nil
}

// udpEcho: the peer's own IP stack sends a UDP datagram to the VM's
// address; the demo plays the VM on the tap fd — answers the peer's ARP
// request, receives the datagram and echoes it back — and the peer's
// socket receives the echo.
func (d *demo) udpEcho() (string, error) {
	var conn *net.UDPConn
	err := netns.Do(d.peer, func() error {
		var err error
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: peerIP, Port: udpPort})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("UDP socket in %s: %w", d.peer, err)
	}
	defer conn.Close()
	msg := []byte("hello VM " + d.nonce)
	if _, err := conn.WriteToUDP(msg, &net.UDPAddr{IP: vmIP, Port: udpPort}); err != nil {
		return "", fmt.Errorf("peer sendto %s: %w", vmIP, err)
	}

	// The VM: answer ARP for vmIP, take the datagram.
	arped := false
	var req []byte
	_, err = d.readMatch(d.tap, "the tap fd", func(b []byte) bool {
		f := b[vnetLen:]
		if a, ok := parseARPRequest(f); ok && a.target.Equal(vmIP) {
			arped = true
			if err := d.writeTap(arpReply(d.vmMAC, vmIP, a.senderMAC, a.senderIP)); err != nil {
				return false
			}
			return false
		}
		if u, ok := parseUDP(f); ok && u.dst.Equal(vmIP) && u.dport == udpPort {
			req = f
			return true
		}
		return false
	})
	if err != nil {
		return "", fmt.Errorf("VM waiting for the datagram (ARP answered: %v): %w", arped, err)
	}
	u, _ := parseUDP(req)
	if !bytes.Equal(u.payload, msg) {
		return "", fmt.Errorf("VM got %q, want %q", u.payload, msg)
	}
	echo := append([]byte("echo: "), u.payload...)
	if err := d.writeTap(ipv4UDP(d.vmMAC, net.HardwareAddr(req[6:12]), vmIP, u.src, udpPort, u.sport, echo)); err != nil {
		return "", fmt.Errorf("VM reply: %w", err)
	}

	// The peer's socket gets the echo.
	buf := make([]byte, 2048)
	deadline := time.Now().Add(d.Timeout)
	for {
		if err := d.ctx.Err(); err != nil {
			return "", err
		}
		conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, from, err := conn.ReadFromUDP(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if time.Now().After(deadline) {
				return "", fmt.Errorf("the peer got no echo within %v", d.Timeout)
			}
			continue
		}
		if err != nil {
			return "", fmt.Errorf("peer read: %w", err)
		}
		if !bytes.Equal(buf[:n], echo) || !from.IP.Equal(vmIP) {
			return "", fmt.Errorf("peer got %q from %v, want %q from %s", buf[:n], from, echo, vmIP)
		}
		break
	}
	arp := "ARP answered from the tap fd"
	if !arped {
		arp = "no ARP needed"
	}
	return fmt.Sprintf("%s:%d → %s:%d %q and back (%s)", peerIP, udpPort, vmIP, udpPort, msg, arp), nil
}
