package nstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// ReadFrames reads every frame that arrives on fd (the file of a tap or a
// macvtap, or a packet socket) during window and returns them in order; a
// window in which nothing arrives gives no frames. fd may be blocking or
// not: ReadFrames polls it. It touches no testing.T, so several windows can
// run side by side in goroutines of one test.
//
// A window is an observation, not a speed measurement: it is how long a
// silent device must stay silent.
func ReadFrames(fd int, window time.Duration) ([][]byte, error) {
	frames, _, err := readFrames(fd, window, nil)
	return frames, err
}

// ReadFramesUntil reads frames from fd up to and including the first for
// which last returns true, and returns them in order; it fails when no such
// frame arrives within timeout. Sending a frame that must arrive after the
// frames under test makes their absence certain without a window: devices
// deliver in order.
func ReadFramesUntil(fd int, last func([]byte) bool, timeout time.Duration) ([][]byte, error) {
	frames, ok, err := readFrames(fd, timeout, last)
	if err == nil && !ok {
		err = fmt.Errorf("fd %d: the awaited frame did not arrive within %s (%d others did)", fd, timeout, len(frames))
	}
	return frames, err
}

func readFrames(fd int, window time.Duration, last func([]byte) bool) ([][]byte, bool, error) {
	var frames [][]byte
	buf := make([]byte, 65536)
	for end := time.Now().Add(window); ; {
		left := time.Until(end)
		if left <= 0 {
			return frames, false, nil
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return frames, false, fmt.Errorf("poll fd %d: %w", fd, err)
		}
		if n == 0 {
			continue
		}
		if pfd[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			return frames, false, fmt.Errorf("poll fd %d: revents %#x", fd, pfd[0].Revents)
		}
		m, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return frames, false, fmt.Errorf("read fd %d: %w", fd, err)
		}
		f := append([]byte(nil), buf[:m]...)
		frames = append(frames, f)
		if last != nil && last(f) {
			return frames, true, nil
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
