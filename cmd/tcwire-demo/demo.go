package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/tuntap"
)

// Config is what Run needs.
type Config struct {
	Tcwire  string        // path of the tcwire binary
	Out     io.Writer     // progress, `tcwire show` and the summary
	Timeout time.Duration // wait for each expected frame (0: 5s)
}

// Addresses of the demo's little network.
var (
	peerIP = net.IPv4(10, 99, 0, 1).To4()
	vmIP   = net.IPv4(10, 99, 0, 2).To4()
)

const (
	udpPort   = 7777
	etherDemo = 0x88b5 // IEEE 802 local experimental ethertype
	vnetLen   = tuntap.VirtioNetHdrLen
)

// demo is one run: its namespaces, devices and results.
type demo struct {
	Config
	ctx      context.Context
	vm, peer string // namespace names
	nonce    string
	vmMAC    net.HardwareAddr // eth0's: the VM's NIC uses it
	peerMAC  net.HardwareAddr
	tapDev   *tuntap.Tap
	tap      *os.File // queue 0 of tap0, as a VMM holds it
	packet   *os.File // AF_PACKET socket on peer0
	results  []result
	cleaned  bool
}

// result is one line of the summary.
type result struct {
	name, detail string
	err          error
}

// Run runs the demo: it returns an error when setting up fails or any
// check fails, and cleans up in every case.
func Run(ctx context.Context, cfg Config) (err error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	d := &demo{Config: cfg, ctx: ctx}
	if os.Geteuid() != 0 {
		return errors.New("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces: sudo make demo")
	}
	if _, err := os.Stat(cfg.Tcwire); err != nil {
		return fmt.Errorf("tcwire binary: %w (make build-bin builds bin/tcwire)", err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	d.nonce = hex.EncodeToString(b[:])
	base := fmt.Sprintf("tcwire-demo-%d-%s", os.Getpid(), d.nonce)
	d.vm, d.peer = base+"-vm", base+"-peer"

	defer func() {
		if cerr := d.cleanup(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	if err := d.setup(); err != nil {
		return fmt.Errorf("set-up: %w", err)
	}

	d.check("vm → peer", d.vmToPeer)
	d.check("peer → vm", d.peerToVM)
	d.check("UDP echo", d.udpEcho)

	d.printf("\n$ tcwire --netns %s show\n", d.vm)
	if out, err := d.tcwire("show"); err != nil {
		d.results = append(d.results, result{name: "tcwire show", err: err})
	} else {
		d.printf("%s", out)
	}
	if err := d.cleanup(); err != nil {
		d.results = append(d.results, result{name: "clean-up", err: err})
	}
	return d.summary()
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.Out, format, args...) }

// run runs a command (ip …) and returns its output; a failure carries it.
// A cancelled context stops the demo before the next command, never in the
// middle of one (a killed `ip netns add` could leave a half-made namespace).
func (d *demo) run(name string, args ...string) (string, error) {
	if err := d.ctx.Err(); err != nil {
		return "", err
	}
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// tcwire runs the binary in the vm namespace.
func (d *demo) tcwire(args ...string) (string, error) {
	return d.run(d.Tcwire, append([]string{"--netns", d.vm}, args...)...)
}

func (d *demo) setup() error {
	d.printf("namespaces: %s (eth0, wired to tap0) and %s (peer0, %s/24)\n", d.vm, d.peer, peerIP)
	for _, ns := range []string{d.vm, d.peer} {
		if _, err := d.run("ip", "netns", "add", ns); err != nil {
			return err
		}
	}
	for _, argv := range [][]string{
		{"ip", "-n", d.vm, "link", "set", "lo", "up"},
		{"ip", "-n", d.peer, "link", "set", "lo", "up"},
		{"ip", "-n", d.vm, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0", "netns", d.peer},
		{"ip", "-n", d.peer, "addr", "add", peerIP.String() + "/24", "dev", "peer0"},
		{"ip", "-n", d.peer, "link", "set", "peer0", "up"},
		{"ip", "-n", d.vm, "link", "set", "eth0", "up"},
	} {
		if _, err := d.run(argv[0], argv[1:]...); err != nil {
			return err
		}
	}

	d.printf("\n$ tcwire --netns %s --json attach eth0 tap0\n", d.vm)
	out, err := d.tcwire("--json", "attach", "eth0", "tap0")
	if err != nil {
		return err
	}
	d.printf("%s", out)
	var res struct {
		MAC string `json:"mac"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return fmt.Errorf("tcwire --json attach: %w", err)
	}
	if d.vmMAC, err = net.ParseMAC(res.MAC); err != nil {
		return fmt.Errorf("tcwire --json attach: mac: %w", err)
	}

	// Open the tap as a VMM does: tap0 gets its carrier, so mirred
	// delivers to it from now on.
	tap, err := tuntap.Open(tuntap.OpenConfig{Name: "tap0", NetNS: d.vm})
	if err != nil {
		return err
	}
	d.tapDev, d.tap = tap, tap.Files()[0]
	if n, err := tap.VnetHdrSize(); err != nil || n != vnetLen {
		return fmt.Errorf("tap0: virtio-net header size %d (%v), want %d", n, err, vnetLen)
	}
	d.printf("opened tap0 in %s as a VMM does: 1 queue, %d-byte virtio-net header, VM MAC %s\n", d.vm, vnetLen, d.vmMAC)

	return netns.Do(d.peer, func() error {
		peer0, err := net.InterfaceByName("peer0")
		if err != nil {
			return err
		}
		d.peerMAC = peer0.HardwareAddr
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: peer0.Index}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind AF_PACKET to peer0: %w", err)
		}
		d.packet = os.NewFile(uintptr(fd), "packet:peer0")
		return nil
	})
}

// cleanup detaches and removes both namespaces (which takes the veth and
// tap with them). It runs even when the context is cancelled.
func (d *demo) cleanup() error {
	if d.cleaned {
		return nil
	}
	d.cleaned = true
	var errs []error
	if d.tapDev != nil {
		d.tapDev.Close()
	}
	if d.packet != nil {
		d.packet.Close()
	}
	run := func(name string, args ...string) error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if d.vmMAC != nil {
		d.printf("\n$ tcwire --netns %s detach eth0 tap0\n", d.vm)
		if err := run(d.Tcwire, "--netns", d.vm, "detach", "eth0", "tap0"); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ns := range []string{d.vm, d.peer} {
		if _, err := os.Stat("/run/netns/" + ns); err != nil {
			continue
		}
		if err := run("ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		d.printf("removed namespaces %s and %s\n", d.vm, d.peer)
	}
	return errors.Join(errs...)
}

func (d *demo) check(name string, fn func() (string, error)) {
	if err := d.ctx.Err(); err != nil {
		d.results = append(d.results, result{name: name, err: err})
		return
	}
	detail, err := fn()
	d.results = append(d.results, result{name: name, detail: detail, err: err})
}

func (d *demo) summary() error {
	d.printf("\nsummary:\n")
	failed := 0
	for _, r := range d.results {
		if r.err != nil {
			failed++
			d.printf("  FAIL  %-11s %v\n", r.name, r.err)
		} else {
			d.printf("  PASS  %-11s %s\n", r.name, r.detail)
		}
	}
	if err := d.ctx.Err(); err != nil {
		d.printf("FAIL (interrupted)\n")
		return fmt.Errorf("interrupted: %w", err)
	}
	if failed > 0 {
		d.printf("FAIL\n")
		return fmt.Errorf("%d of %d checks failed", failed, len(d.results))
	}
	d.printf("PASS\n")
	return nil
}

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
