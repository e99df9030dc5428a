package main

import (
	"encoding/binary"
	"net"

	"golang.org/x/sys/unix"
)

// Frames the demo builds and reads by hand: Ethernet, ARP, IPv4/UDP.

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// ethernet builds a frame, padded to the 60-byte minimum.
func ethernet(dst, src net.HardwareAddr, etherType uint16, payload []byte) []byte {
	f := make([]byte, 14, 14+len(payload)+60)
	copy(f, dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], etherType)
	f = append(f, payload...)
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

type arpRequest struct {
	senderMAC        net.HardwareAddr
	senderIP, target net.IP
}

// parseARPRequest reads an Ethernet/IPv4 ARP request.
func parseARPRequest(f []byte) (arpRequest, bool) {
	if len(f) < 14+28 || binary.BigEndian.Uint16(f[12:]) != unix.ETH_P_ARP {
		return arpRequest{}, false
	}
	a := f[14:]
	if binary.BigEndian.Uint16(a[0:]) != 1 || binary.BigEndian.Uint16(a[2:]) != unix.ETH_P_IP || a[4] != 6 || a[5] != 4 || binary.BigEndian.Uint16(a[6:]) != 1 {
		return arpRequest{}, false
	}
	return arpRequest{senderMAC: net.HardwareAddr(a[8:14]), senderIP: net.IP(a[14:18]), target: net.IP(a[24:28])}, true
}

// arpReply says "ip is at mac" to the asker.
func arpReply(mac net.HardwareAddr, ip net.IP, toMAC net.HardwareAddr, toIP net.IP) []byte {
	a := make([]byte, 28)
	binary.BigEndian.PutUint16(a[0:], 1) // Ethernet
	binary.BigEndian.PutUint16(a[2:], unix.ETH_P_IP)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], 2) // reply
	copy(a[8:], mac)
	copy(a[14:], ip.To4())
	copy(a[18:], toMAC)
	copy(a[24:], toIP.To4())
	return ethernet(toMAC, mac, unix.ETH_P_ARP, a)
}

type udpPacket struct {
	src, dst     net.IP
	sport, dport uint16
	payload      []byte
}

// parseUDP reads an IPv4/UDP frame.
func parseUDP(f []byte) (udpPacket, bool) {
	if len(f) < 14+20+8 || binary.BigEndian.Uint16(f[12:]) != unix.ETH_P_IP {
		return udpPacket{}, false
	}
	ip := f[14:]
	ihl := int(ip[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(ip[2:]))
	if ip[0]>>4 != 4 || ihl < 20 || total > len(ip) || total < ihl+8 || ip[9] != unix.IPPROTO_UDP {
		return udpPacket{}, false
	}
	u := ip[ihl:total]
	ulen := int(binary.BigEndian.Uint16(u[4:]))
	if ulen < 8 || ulen > len(u) {
		return udpPacket{}, false
	}
	return udpPacket{
		src: net.IP(ip[12:16]), dst: net.IP(ip[16:20]),
		sport: binary.BigEndian.Uint16(u[0:]), dport: binary.BigEndian.Uint16(u[2:]),
		payload: u[8:ulen],
	}, true
}

// ipv4UDP builds an Ethernet/IPv4/UDP frame (UDP checksum 0: none, which
// IPv4 allows).
func ipv4UDP(srcMAC, dstMAC net.HardwareAddr, src, dst net.IP, sport, dport uint16, payload []byte) []byte {
	ip := make([]byte, 20+8+len(payload))
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
	ip[8] = 64
	ip[9] = unix.IPPROTO_UDP
	copy(ip[12:], src.To4())
	copy(ip[16:], dst.To4())
	binary.BigEndian.PutUint16(ip[10:], checksum(ip[:20]))
	u := ip[20:]
	binary.BigEndian.PutUint16(u[0:], sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	copy(u[8:], payload)
	return ethernet(dstMAC, srcMAC, unix.ETH_P_IP, ip)
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
