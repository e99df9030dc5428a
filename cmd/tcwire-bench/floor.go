package main

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/tc"
)

// The control plane's floor: what tcwire sends for an attach, encoded
// before the clock starts and written on a raw NETLINK_ROUTE socket.

// attachFloor sends the four requests tcwire sends (PlanWire on empty
// hooks), encoded before the clock starts, on a raw netlink socket.
func attachFloor(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	fl, err := newFloor(ns, pairs)
	if err != nil {
		return attachResult{}, err
	}
	defer fl.close()
	m0, b0 := memStats()
	start := time.Now()
	if err := fl.attach(); err != nil {
		return attachResult{}, err
	}
	total := time.Since(start)
	m1, b1 := memStats()
	return attachResult{total: total, allocs: perAttach(m1-m0, len(pairs)), bytes: perAttach(b1-b0, len(pairs))}, nil
}

// floor is a raw NETLINK_ROUTE socket in a namespace and the pre-encoded
// requests of each pair's attach.
type floor struct {
	fd   int
	bufs [][]byte
	rbuf []byte
}

func newFloor(ns string, pairs []cpPair) (*floor, error) {
	fl := &floor{fd: -1, bufs: make([][]byte, len(pairs)), rbuf: make([]byte, 8192)}
	seq := uint32(1)
	for i, p := range pairs {
		plan, err := tc.PlanWire(tc.Hook{Dev: p.veth}, tc.Hook{Dev: p.tap}, tc.WireOptions{})
		if err != nil {
			return nil, err
		}
		for _, r := range plan.Requests {
			b, err := r.MarshalBinary()
			if err != nil {
				return nil, err
			}
			binary.NativeEndian.PutUint32(b[8:], seq)
			seq++
			fl.bufs[i] = append(fl.bufs[i], b...)
		}
	}
	err := netns.Do(ns, func() error {
		var err error
		fl.fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		return unix.Bind(fl.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	})
	if err != nil {
		fl.close()
		return nil, err
	}
	return fl, nil
}

func (fl *floor) close() {
	if fl.fd >= 0 {
		unix.Close(fl.fd)
	}
}

// attach sends each pair's four requests in one write(2) and reads the
// four acknowledgements.
func (fl *floor) attach() error {
	for _, b := range fl.bufs {
		if err := writeAcked(fl.fd, b, 4, fl.rbuf); err != nil {
			return err
		}
	}
	return nil
}

// writeAcked writes b, which holds want requests, on the raw netlink socket
// fd, and reads into rbuf until it has their acknowledgements; a refusal is
// an error wrapping its errno.
func writeAcked(fd int, b []byte, want int, rbuf []byte) error {
	if _, err := unix.Write(fd, b); err != nil {
		return err
	}
	for acks := 0; acks < want; {
		n, err := unix.Read(fd, rbuf)
		if err != nil {
			return err
		}
		for off := 0; off+16 <= n; {
			l := int(binary.NativeEndian.Uint32(rbuf[off:]))
			if binary.NativeEndian.Uint16(rbuf[off+4:]) == unix.NLMSG_ERROR {
				if e := int32(binary.NativeEndian.Uint32(rbuf[off+16:])); e != 0 {
					return fmt.Errorf("netlink: %w", unix.Errno(-e))
				}
				acks++
			}
			if l < 16 {
				break
			}
			off += (l + 3) &^ 3
		}
	}
	return nil
}
