package main

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The relay between the guest's tap and the wiring's VM side: the
// harness's stand-in for a VMM's virtio-net backend in the bulk rows.

// relay copies frames, virtio-net header included, between the guest's
// tap and the VM side, both ways, as a VMM's virtio-net backend does: a
// GSO frame crosses whole. One locked thread per direction; each reads
// until EAGAIN, then waits in poll(2). Index 0 is guest → VM side, 1 the
// other way.
type relay struct {
	stop     atomic.Bool
	wg       sync.WaitGroup
	maxFrame [2]int
	dropped  [2]uint64 // frames the kernel refused to take (write errors)
	err      [2]error
}

func startRelay(guest, vm *endpoint) *relay {
	r := &relay{}
	r.wg.Add(2)
	go r.copy(0, guest, vm)
	go r.copy(1, vm, guest)
	return r
}

func (r *relay) copy(i int, from, to *endpoint) {
	defer r.wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	buf := make([]byte, from.hdr+1<<17) // a GSO frame is at most 64 KB
	in := []unix.PollFd{{Fd: int32(from.fd), Events: unix.POLLIN}}
	out := []unix.PollFd{{Fd: int32(to.fd), Events: unix.POLLOUT}}
	for !r.stop.Load() {
		n, err := unix.Read(from.fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			unix.Poll(in, 20)
			continue
		case err != nil:
			r.err[i] = fmt.Errorf("relay: read %s file: %w", from.kind, err)
			return
		}
		for !r.stop.Load() {
			_, err := unix.Write(to.fd, buf[:n])
			if err == nil {
				break
			}
			// A macvtap's file refuses while its socket's send buffer
			// is full: wait, as a backend does, rather than drop.
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
				unix.Poll(out, 1)
				continue
			}
			r.dropped[i]++
			break
		}
		if n-from.hdr > r.maxFrame[i] {
			r.maxFrame[i] = n - from.hdr
		}
	}
}

func (r *relay) finish() error {
	r.stop.Store(true)
	r.wg.Wait()
	return errors.Join(r.err[0], r.err[1])
}
