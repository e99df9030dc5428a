package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// batchFloor makes what tcwire -batch makes with nothing but the syscalls
// it needs: per namespace, on a thread inside it, the taps by their
// ioctls, then the requests tcwire sends (encoded while the clock stops),
// 128 a write.
func batchFloor(h *harness, w *batchWorld, _ bool) (batchRun, error) {
	var total time.Duration
	for n, ns := range w.ns {
		var d time.Duration
		err := netns.Do(ns, func() error {
			var err error
			d, err = floorNS(w.veths[n])
			return err
		})
		if err != nil {
			return batchRun{}, err
		}
		total += d
	}
	return batchRun{d: total, maxRSS: -1}, nil
}

// floorNS wires eI (ifindex veths[I]) to a new tap tI for every I, in the
// calling thread's namespace, and returns the time it took but for the
// encoding of the requests.
func floorNS(veths []int32) (time.Duration, error) {
	nlfd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return 0, err
	}
	defer unix.Close(nlfd)
	if err := unix.Bind(nlfd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, err
	}
	fds := make([]int, len(veths))
	idx := make([]int32, len(veths))
	start := time.Now()
	for i := range veths {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, err
		}
		fds[i] = fd
		ifr, err := unix.NewIfreq(fmt.Sprintf("t%d", i))
		if err != nil {
			return 0, err
		}
		ifr.SetUint16(tuntap.DefaultFlags | tuntap.IFF_TUN_EXCL)
		if err := unix.IoctlIfreq(fd, tuntap.TUNSETIFF, ifr); err != nil {
			return 0, fmt.Errorf("TUNSETIFF t%d: %w", i, err)
		}
		if err := unix.IoctlSetInt(fd, tuntap.TUNSETOWNER, os.Geteuid()); err != nil {
			return 0, err
		}
		if err := unix.IoctlIfreq(nlfd, unix.SIOCGIFINDEX, ifr); err != nil {
			return 0, err
		}
		idx[i] = int32(ifr.Uint32())
	}
	d := time.Since(start)
	var setup, wire []nl.Request
	for i, v := range veths {
		tap, dev := tc.Dev{Name: fmt.Sprintf("t%d", i), Index: idx[i]}, tc.Dev{Name: fmt.Sprintf("e%d", i), Index: v}
		setup = append(setup, link.SetAliasRequest(tap.Index, tap.Name, link.OwnerAlias), link.SetMTURequest(tap.Index, tap.Name, 1500),
			link.SetAddrGenModeRequest(tap.Index, tap.Name, link.AddrGenModeNone),
			tc.AddQdiscRequest(tc.Qdisc{Dev: tap.Name, Ifindex: tap.Index, Parent: tc.TC_H_ROOT, Kind: "noqueue"}))
		plan, err := tc.PlanWire(tc.Hook{Dev: dev}, tc.Hook{Dev: tap}, tc.WireOptions{})
		if err != nil {
			return 0, err
		}
		wire = append(wire, plan.Requests...)
	}
	for i := range veths {
		wire = append(wire, link.SetUpRequest(idx[i], fmt.Sprintf("t%d", i)))
	}
	setupBufs, err := floorBufs(setup)
	if err != nil {
		return 0, err
	}
	wireBufs, err := floorBufs(wire)
	if err != nil {
		return 0, err
	}
	rbuf := make([]byte, 1<<16)
	start = time.Now()
	if err := floorSend(nlfd, setupBufs, rbuf); err != nil {
		return 0, err
	}
	for _, fd := range fds {
		if err := unix.IoctlSetInt(fd, tuntap.TUNSETPERSIST, 1); err != nil {
			return 0, err
		}
		unix.Close(fd)
	}
	if err := floorSend(nlfd, wireBufs, rbuf); err != nil {
		return 0, err
	}
	return d + time.Since(start), nil
}

// floorChunk is how many requests the floor writes at once: their
// acknowledgements fit the socket's default receive buffer.
const floorChunk = 128

type floorBuf struct {
	b []byte
	n int
}

// floorBufs encodes reqs, floorChunk to a buffer, with sequence numbers.
func floorBufs(reqs []nl.Request) ([]floorBuf, error) {
	var out []floorBuf
	for i, r := range reqs {
		if i%floorChunk == 0 {
			out = append(out, floorBuf{})
		}
		b, err := r.MarshalBinary()
		if err != nil {
			return nil, err
		}
		binary.NativeEndian.PutUint32(b[8:], uint32(i+1))
		last := &out[len(out)-1]
		last.b, last.n = append(last.b, b...), last.n+1
	}
	return out, nil
}

// floorSend writes each buffer and reads as many acknowledgements as it
// holds requests.
func floorSend(fd int, bufs []floorBuf, rbuf []byte) error {
	for _, b := range bufs {
		if err := writeAcked(fd, b.b, b.n, rbuf); err != nil {
			return err
		}
	}
	return nil
}
