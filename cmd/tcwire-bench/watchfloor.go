package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/internal/uapi"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// The floor of the watch repair latency: the least a repairer can do.

// startWatchFloor wires the pair (tc.Wire), then runs the floor's loop:
// one raw NETLINK_ROUTE socket subscribed to link notifications, on which
// it also sends its requests. When tap0 goes it deletes eth0's ingress
// qdisc (so that the next wiring is the four requests of a fresh one);
// when a new tap0 appears it sends them in one write and reads the acks.
func startWatchFloor(ns string, dev int32, settled chan<- struct{}, _ chan<- time.Duration) (func() error, error) {
	c, err := dial(ns)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	fd := -1
	err = netns.Do(ns, func() error {
		var err error
		if fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1 << (uapi.RTNLGRP_LINK - 1)})
	})
	if err == nil {
		// Wake every 100 ms to see whether to stop.
		err = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100_000})
	}
	var tap *link.Link
	if err == nil {
		tap, err = link.Lookup(c, watchTap)
	}
	if err == nil {
		err = tc.Wire(c, tc.Dev{Name: watchDev, Index: dev}, tc.Dev{Name: watchTap, Index: tap.Index}, tc.WireOptions{})
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, err
	}
	fl := &floorLoop{fd: fd, dev: tc.Dev{Name: watchDev, Index: dev}, tap: tap.Index, buf: make([]byte, 1<<16)}
	var quit atomic.Bool
	done := make(chan error, 1)
	go func() { done <- fl.run(&quit, settled) }()
	return func() error {
		quit.Store(true)
		err := <-done
		unix.Close(fd)
		return err
	}, nil
}

// floorLoop is the floor's state: its socket, eth0, the tap it last wired.
type floorLoop struct {
	fd  int
	dev tc.Dev
	tap int32
	seq uint32
	buf []byte
}

func (fl *floorLoop) run(quit *atomic.Bool, settled chan<- struct{}) error {
	for !quit.Load() {
		n, err := unix.Read(fl.fd, fl.buf)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return err
		}
		var newTap int32
		gone := false
		walk(fl.buf[:n], func(m nl.Message) {
			if lk, deleted, err := link.ParseEvent(m); err == nil && lk.Name == watchTap {
				switch {
				case deleted:
					gone = true
				case lk.Index != fl.tap:
					newTap = lk.Index
				}
			}
		})
		switch {
		case gone:
			fl.tap = 0
			if err := fl.send([]nl.Request{tc.DelQdiscRequest(tc.Ingress(fl.dev.Index, fl.dev.Name))}); err != nil {
				return err
			}
			notify(settled)
		case newTap != 0:
			fl.tap = newTap
			plan, err := tc.PlanWire(tc.Hook{Dev: fl.dev}, tc.Hook{Dev: tc.Dev{Name: watchTap, Index: newTap}}, tc.WireOptions{})
			if err != nil {
				return err
			}
			if err := fl.send(plan.Requests); err != nil {
				return err
			}
		}
	}
	return nil
}

// send writes reqs in one write(2) and reads their acks, skipping the
// notifications that come in between.
func (fl *floorLoop) send(reqs []nl.Request) error {
	var b []byte
	for _, r := range reqs {
		m, err := r.MarshalBinary()
		if err != nil {
			return err
		}
		fl.seq++
		binary.NativeEndian.PutUint32(m[8:], fl.seq)
		b = append(b, m...)
	}
	if _, err := unix.Write(fl.fd, b); err != nil {
		return err
	}
	for acks, waits := 0, 0; acks < len(reqs); {
		n, err := unix.Read(fl.fd, fl.buf)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			if waits++; waits > 50 {
				return errors.New("netlink: no acknowledgement in 5 s")
			}
			continue
		}
		if err != nil {
			return err
		}
		var errno int32
		walk(fl.buf[:n], func(m nl.Message) {
			if m.Header.Type == unix.NLMSG_ERROR && len(m.Data) >= 4 {
				if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 && errno == 0 {
					errno = e
				}
				acks++
			}
		})
		if errno != 0 {
			return fmt.Errorf("netlink: %w", unix.Errno(-errno))
		}
	}
	return nil
}

// walk calls fn with each netlink message of a datagram (its type and
// body only).
func walk(b []byte, fn func(nl.Message)) {
	for len(b) >= nl.NlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nl.NlmsgHdrLen || l > len(b) {
			return
		}
		fn(nl.Message{Header: nl.Header{Type: nl.HeaderType(binary.NativeEndian.Uint16(b[4:]))}, Data: b[nl.NlmsgHdrLen:l]})
		b = b[min(len(b), (l+3)&^3):]
	}
}
