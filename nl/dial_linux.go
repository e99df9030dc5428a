//go:build linux

package nl

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"github.com/tcwire/tcwire/internal/netns"
	"golang.org/x/sys/unix"
)

// Dial opens a NETLINK_ROUTE socket, inside cfg.NetNS when it is set. A nil
// cfg means the caller's namespace.
func Dial(cfg *Config) (*Conn, error) {
	c, t, err := dial(cfg)
	if err != nil {
		return nil, err
	}
	var retry Retry
	if cfg != nil {
		retry = cfg.Retry
	}
	rcvbuf, err := c.ReadBuffer()
	if err != nil {
		rcvbuf = 0 // the default
	}
	return newConn(t, retry, rcvbuf), nil
}

// eventsRcvbuf is the receive buffer DialEvents asks for: a burst of a
// few thousand link notifications (about 2 KiB of buffer each) before an
// overrun, where the default buffer holds about a hundred. Without
// CAP_NET_ADMIN the kernel caps it at net.core.rmem_max.
const eventsRcvbuf = 8 << 20

// DialEvents opens a NETLINK_ROUTE socket, inside cfg.NetNS when it is
// set, subscribed to the multicast groups (RTNLGRP_*: 1 is RTNLGRP_LINK).
// cfg.Retry is not used: the socket sends nothing.
func DialEvents(cfg *Config, groups ...uint32) (*Events, error) {
	c, t, err := dial(cfg)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := c.JoinGroup(g); err != nil {
			c.Close()
			return nil, errDialf("joining multicast group %d: %w", g, err)
		}
	}
	// SO_RCVBUFFORCE passes rmem_max with CAP_NET_ADMIN; SO_RCVBUF is
	// what is left without it.
	var serr error
	err = t.rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, eventsRcvbuf)
		if serr != nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, eventsRcvbuf)
		}
	})
	if err = errors.Join(err, serr); err != nil {
		c.Close()
		return nil, errDialf("receive buffer: %w", err)
	}
	return NewEvents(t), nil
}

// dial opens the socket of Dial and DialEvents.
func dial(cfg *Config) (*netlink.Conn, *fdTransport, error) {
	var nc netlink.Config
	// Strict turns on NETLINK_EXT_ACK (the kernel's error text) and
	// NETLINK_GET_STRICT_CHK where the kernel has them.
	nc.Strict = true
	if cfg != nil && cfg.NetNS != "" {
		f, err := netns.Open(cfg.NetNS)
		if err != nil {
			return nil, nil, errDialf("%w", err)
		}
		defer f.Close()
		nc.NetNS = int(f.Fd())
	}
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &nc)
	var t *fdTransport
	if err == nil {
		if t, err = newFDTransport(c); err != nil {
			c.Close()
		}
	}
	if err != nil {
		where := ""
		if cfg != nil && cfg.NetNS != "" {
			// setns fails with a bare EINVAL or EPERM: say which namespace.
			where = fmt.Sprintf("network namespace %q: ", cfg.NetNS)
		}
		if errors.Is(err, unix.EPERM) {
			return nil, nil, errDialf("%s%w%s", where, err, netns.PermissionHint)
		}
		return nil, nil, errDialf("%s%w", where, err)
	}
	return c, t, nil
}

// recvBufLen is the size of a Conn's receive buffer. The kernel sizes a
// dump's datagrams after the reader's buffer, up to 32 KiB
// (netlink_recvmsg's max_recvmsg_len), so every datagram fits.
const recvBufLen = 64 << 10

// fdTransport does its I/O on the socket's descriptor through the runtime
// poller, without mdlayher/socket's per-call goroutine and peek: one
// sendmsg per batch, one recvfrom per datagram, no allocation.
type fdTransport struct {
	nc          *netlink.Conn
	rc          syscall.RawConn
	buf, out    []byte
	n           int
	err         error
	read, write func(fd uintptr) bool
	kernel      *unix.SockaddrNetlink
}

func newFDTransport(nc *netlink.Conn) (*fdTransport, error) {
	rc, err := nc.SyscallConn()
	if err != nil {
		return nil, err
	}
	t := &fdTransport{nc: nc, rc: rc, buf: make([]byte, recvBufLen), kernel: &unix.SockaddrNetlink{Family: unix.AF_NETLINK}}
	// Built once: a closure made per call would be an allocation.
	t.read = func(fd uintptr) bool {
		for {
			r, _, e := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&t.buf[0])), uintptr(len(t.buf)), unix.MSG_DONTWAIT|unix.MSG_TRUNC, 0, 0)
			if e == unix.EINTR {
				continue
			}
			t.n, t.err = int(r), errnoErr(e)
			return e != unix.EAGAIN
		}
	}
	t.write = func(fd uintptr) bool {
		for {
			// The socket is non-blocking; the kernel's address lets
			// strace decode the messages.
			t.n, t.err = unix.SendmsgN(int(fd), t.out, nil, t.kernel, 0)
			if t.err != unix.EINTR {
				return t.err != unix.EAGAIN
			}
		}
	}
	return t, nil
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func (t *fdTransport) Send(b []byte) error {
	t.out = b
	err := t.rc.Write(t.write)
	t.out = nil
	if err == nil {
		err = t.err
	}
	if err != nil {
		return os.NewSyscallError("sendmsg", err)
	}
	return nil
}

func (t *fdTransport) Recv() ([]byte, error) {
	if err := t.rc.Read(t.read); err != nil {
		return nil, err // the deadline passed, or the socket is closed
	}
	if t.err != nil {
		return nil, os.NewSyscallError("recvfrom", t.err)
	}
	if t.n > len(t.buf) {
		// MSG_TRUNC gives the datagram's real length; it is lost. The
		// next one fits.
		n := t.n
		t.buf = make([]byte, Align(n))
		return nil, fmt.Errorf("recvfrom: datagram of %d bytes truncated", n)
	}
	return t.buf[:t.n], nil
}

func (t *fdTransport) SetReadDeadline(d time.Time) error { return t.nc.SetReadDeadline(d) }

func (t *fdTransport) Close() error { return t.nc.Close() }
