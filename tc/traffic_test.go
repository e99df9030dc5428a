package tc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
)

// inNS runs fn on an OS thread moved into ns. The thread is locked and never
// unlocked, so it ends with its goroutine instead of going back, in the
// wrong namespace, to the scheduler's pool.
func inNS(ns *nstest.NS, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(ns.Path())
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns.Name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// openTap creates tap name in ns, as a VMM does: /dev/net/tun, TUNSETIFF
// IFF_TAP|IFF_NO_PI. The device lives while the returned fd is open (it is
// closed at cleanup), and has a carrier meanwhile.
func openTap(t *testing.T, ns *nstest.NS, name string) int {
	t.Helper()
	fd := -1
	err := inNS(ns, func() error {
		var err error
		fd, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("TUNSETIFF %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// packetSocket opens an AF_PACKET socket in ns bound to device ifindex,
// closed at cleanup.
func packetSocket(t *testing.T, ns *nstest.NS, ifindex int) int {
	t.Helper()
	proto := int(htons(unix.ETH_P_ALL))
	fd := -1
	err := inNS(ns, func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifindex})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// testFrame is a broadcast frame of the local experimental ethertype
// 0x88b5 carrying marker.
func testFrame(src byte, marker string) []byte {
	f := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, src}
	f = binary.BigEndian.AppendUint16(f, 0x88b5)
	f = append(f, marker...)
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

// awaitFrame reads fd until a frame holding marker arrives (other traffic,
// such as IPv6 router solicitations, is skipped) or 5s pass. A packet
// socket also sees what its device sends: those frames are skipped too.
func awaitFrame(t *testing.T, fd int, packet bool, marker string) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, 100); err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
		for {
			var n int
			var err error
			if packet {
				var from unix.Sockaddr
				n, from, err = unix.Recvfrom(fd, buf, 0)
				if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
					continue
				}
			} else {
				n, err = unix.Read(fd, buf)
			}
			if err == unix.EAGAIN {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(buf[:n], []byte(marker)) {
				return append([]byte(nil), buf[:n]...)
			}
		}
	}
	t.Fatalf("no frame with %q within 5s", marker)
	return nil
}

// TestTraffic sends frames through a wire between a veth (its peer in
// another namespace) and a tap held open the way a VMM holds it, both ways,
// then reads the counters back.
func TestTraffic(t *testing.T) {
	nstest.RequireRoot(t)
	host, far := nstest.New(t), nstest.New(t)
	for _, ns := range []*nstest.NS{host, far} {
		// Fewer stray frames (router solicitations, MLD) to skip.
		ns.Try("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
		ns.Try("sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
	}
	host.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0", "netns", far.Name)
	tapFD := openTap(t, host, "tap0")
	host.Run("ip", "link", "set", "eth0", "up")
	host.Run("ip", "link", "set", "tap0", "up")
	far.Run("ip", "link", "set", "peer0", "up")
	peerFD := packetSocket(t, far, far.Ifindex("peer0"))

	c := dial(t, host)
	eth0, tap0 := dev(t, host, "eth0"), dev(t, host, "tap0")
	if err := Wire(c, eth0, tap0, WireOptions{}); err != nil {
		t.Fatal(err)
	}

	// VM → container: written to the tap, out of the veth's far end.
	out := testFrame(0xaa, "tcwire tap->peer")
	if _, err := unix.Write(tapFD, out); err != nil {
		t.Fatal(err)
	}
	if got := awaitFrame(t, peerFD, true, "tcwire tap->peer"); !bytes.Equal(got, out) {
		t.Errorf("peer0 got\n%x\nsent\n%x", got, out)
	}

	// Container → VM: sent at the far end, read from the tap.
	in := testFrame(0xbb, "tcwire peer->tap")
	if _, err := unix.Write(peerFD, in); err != nil {
		t.Fatal(err)
	}
	if got := awaitFrame(t, tapFD, false, "tcwire peer->tap"); !bytes.Equal(got, in) {
		t.Errorf("tap0 got\n%x\nsent\n%x", got, in)
	}

	// The mirred counters saw them. On ingress the Ethernet header is
	// already pulled, so a 60-byte frame counts 46 bytes.
	for _, d := range []Dev{eth0, tap0} {
		rs := readHook(t, c, d).Redirects()
		if len(rs) != 1 {
			t.Fatalf("%s: %d redirects", d, len(rs))
		}
		if rs[0].Packets < 1 || rs[0].Bytes < 46 {
			t.Errorf("%s: %d packets, %d bytes redirected, want at least 1 and 46", d, rs[0].Packets, rs[0].Bytes)
		}
		t.Logf("%s → if%d: %d packets, %d bytes", d, rs[0].TargetIfindex, rs[0].Packets, rs[0].Bytes)
	}

	// Unwired, nothing crosses any more.
	if err := Unwire(c, eth0, tap0); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(tapFD, testFrame(0xaa, "tcwire after unwire")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	buf := make([]byte, 65536)
	for {
		n, from, err := unix.Recvfrom(peerFD, buf, 0)
		if err != nil {
			break
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype != unix.PACKET_OUTGOING && bytes.Contains(buf[:n], []byte("after unwire")) {
			t.Error("a frame crossed after Unwire")
		}
	}
}
