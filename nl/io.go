package nl

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// transport moves netlink datagrams for a Conn: the socket's own file
// descriptor (fdTransport), or in tests a fake kernel.
type transport interface {
	// send writes b, whole netlink messages, in one sendmsg.
	send(b []byte) error
	// recv reads one datagram. The bytes stay valid until the next recv.
	recv() ([]byte, error)
	setReadDeadline(t time.Time) error
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

func (t *fdTransport) send(b []byte) error {
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

func (t *fdTransport) recv() ([]byte, error) {
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

func (t *fdTransport) setReadDeadline(d time.Time) error { return t.nc.SetReadDeadline(d) }

// appendMessage appends r as a netlink message of sequence seq and pid 0,
// as iproute2 sends it: nlmsg_len aligned, Data zero-padded to 4 bytes.
func appendMessage(b []byte, r Request, seq uint32) []byte {
	n := Align(NlmsgHdrLen + len(r.Data))
	b = Host.AppendUint32(b, uint32(n))
	b = Host.AppendUint16(b, uint16(r.Type))
	b = Host.AppendUint16(b, uint16(r.Flags))
	b = Host.AppendUint32(b, seq)
	b = Host.AppendUint32(b, 0)
	b = append(b, r.Data...)
	for i := NlmsgHdrLen + len(r.Data); i < n; i++ {
		b = append(b, 0)
	}
	return b
}

// errMalformed reports a datagram whose messages do not add up.
var errMalformed = errors.New("malformed netlink message")

// messages iterates over the netlink messages of one datagram. Data
// aliases b.
func messages(b []byte) func(yield func(netlink.Message, error) bool) {
	return func(yield func(netlink.Message, error) bool) {
		for len(b) >= NlmsgHdrLen {
			l := int(Host.Uint32(b))
			if l < NlmsgHdrLen || l > len(b) {
				yield(netlink.Message{}, fmt.Errorf("nl: nlmsg_len %d in %d bytes: %w", l, len(b), errMalformed))
				return
			}
			m := netlink.Message{
				Header: netlink.Header{
					Length:   uint32(l),
					Type:     netlink.HeaderType(Host.Uint16(b[4:])),
					Flags:    netlink.HeaderFlags(Host.Uint16(b[6:])),
					Sequence: Host.Uint32(b[8:]),
					PID:      Host.Uint32(b[12:]),
				},
				Data: b[NlmsgHdrLen:l:l],
			}
			if !yield(m, nil) {
				return
			}
			b = b[min(Align(l), len(b)):]
		}
	}
}

// NLMSGERR_ATTR_* from <linux/netlink.h>: the extended acknowledgement.
const (
	NLMSGERR_ATTR_MSG    = 1
	NLMSGERR_ATTR_OFFS   = 2
	NLMSGERR_ATTR_COOKIE = 3
)

// kernelError decodes the errno of an NLMSG_ERROR (struct nlmsgerr) or of
// a dump's NLMSG_DONE, and the extended acknowledgement that follows it:
// after the echoed request (its header alone with NLM_F_CAPPED) for
// NLMSG_ERROR, straight after the errno for NLMSG_DONE. It returns nil
// for an acknowledgement (errno 0).
func kernelError(cmd string, m netlink.Message) error {
	if len(m.Data) < 4 {
		return &Error{Cmd: cmd, Err: fmt.Errorf("%w: %d-byte error message", errMalformed, len(m.Data))}
	}
	errno := -int32(Host.Uint32(m.Data))
	if errno == 0 {
		return nil
	}
	e := &Error{Cmd: cmd, Err: unix.Errno(errno)}
	if m.Header.Flags&netlink.AcknowledgeTLVs == 0 {
		return e
	}
	off := 4
	if m.Header.Type == netlink.Error {
		if len(m.Data) < 4+NlmsgHdrLen {
			return e
		}
		off += NlmsgHdrLen
		if m.Header.Flags&netlink.Capped == 0 {
			off = 4 + Align(int(Host.Uint32(m.Data[4:])))
		}
	}
	if off > len(m.Data) {
		return e
	}
	attrs, _ := ParseAttrs(m.Data[off:]) // what parses is kept
	for _, a := range attrs {
		switch a.Type {
		case NLMSGERR_ATTR_MSG:
			e.Message = a.String()
		case NLMSGERR_ATTR_OFFS:
			if v, err := a.Uint32(); err == nil {
				e.Offset = int(v)
			}
		}
	}
	return e
}
