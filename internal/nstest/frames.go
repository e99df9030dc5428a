package nstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ReadFrames reads every frame that arrives on fd (the file of a tap or a
// macvtap, or a packet socket) during window and returns them in order.
// fd may be blocking or not: ReadFrames polls it. It fails t on a read
// error; a window in which nothing arrives gives no frames.
//
// A window is an observation, not a speed measurement: it is how long a
// silent device must stay silent. Tests that watch several devices run
// their windows side by side (t.Parallel).
func ReadFrames(t testing.TB, fd int, window time.Duration) [][]byte {
	t.Helper()
	frames, _ := readFrames(t, fd, window, nil)
	return frames
}

// ReadFramesUntil reads frames from fd up to and including the first for
// which last returns true, and returns them in order. It fails t when no
// such frame arrives within timeout. Sending a frame that must arrive after
// the frames under test makes their absence certain without a window:
// devices deliver in order.
func ReadFramesUntil(t testing.TB, fd int, last func([]byte) bool, timeout time.Duration) [][]byte {
	t.Helper()
	frames, ok := readFrames(t, fd, timeout, last)
	if !ok {
		t.Fatalf("fd %d: the awaited frame did not arrive within %s (%d others did)", fd, timeout, len(frames))
	}
	return frames
}

func readFrames(t testing.TB, fd int, window time.Duration, last func([]byte) bool) ([][]byte, bool) {
	t.Helper()
	var frames [][]byte
	buf := make([]byte, 65536)
	for end := time.Now().Add(window); ; {
		left := time.Until(end)
		if left <= 0 {
			return frames, false
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("poll fd %d: %v", fd, err)
		}
		if n == 0 {
			continue
		}
		if pfd[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			t.Fatalf("poll fd %d: revents %#x", fd, pfd[0].Revents)
		}
		m, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatalf("read fd %d: %v", fd, err)
		}
		f := append([]byte(nil), buf[:m]...)
		frames = append(frames, f)
		if last != nil && last(f) {
			return frames, true
		}
	}
}

// FrameSummary describes an Ethernet frame for a test's message:
// destination, source, EtherType (or 802.3 length) and, for IPv6, the
// ICMPv6 type when the next header is ICMPv6 (133 router solicitation,
// 135 neighbour solicitation, 143 MLDv2 report; MLD comes after a
// hop-by-hop header).
func FrameSummary(b []byte) string {
	if len(b) < 14 {
		return fmt.Sprintf("runt frame of %d bytes", len(b))
	}
	typ := binary.BigEndian.Uint16(b[12:])
	s := fmt.Sprintf("%s > %s type %#04x len %d", net.HardwareAddr(b[6:12]), net.HardwareAddr(b[0:6]), typ, len(b))
	if typ != unix.ETH_P_IPV6 || len(b) < 14+40 {
		return s
	}
	ip := b[14:]
	next, off := ip[6], 40
	if next == 0 && len(ip) >= off+8 { // hop-by-hop options
		next, off = ip[off], off+8*(1+int(ip[off+1]))
	}
	if next == unix.IPPROTO_ICMPV6 && len(ip) > off {
		s += fmt.Sprintf(" icmpv6 type %d", ip[off])
	}
	return s
}
