package main

import (
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Frames: an Ethernet header with the IEEE 802 local experimental
// ethertype, then magic, run id, kind, sequence number and a CLOCK_MONOTONIC
// timestamp, zero padding up to the frame size (no FCS).
const (
	etherBench = 0x88b5
	offMagic   = 14
	offRun     = 18
	offKind    = 22
	offSeq     = 24
	offTS      = 32
	minFrame   = 60
	magic      = 0x54435742 // "TCWB"

	kindData = 1
	kindPing = 2
	kindPong = 3
)

var (
	runID     uint32
	monoStart = time.Now()
)

func mono() int64 { return int64(time.Since(monoStart)) }

// buildFrame returns hdr zero bytes (the virtio-net header) followed by a
// frame of size bytes.
func buildFrame(hdr, size int, dst, src net.HardwareAddr, kind byte) []byte {
	if size < minFrame {
		size = minFrame
	}
	b := make([]byte, hdr+size)
	f := b[hdr:]
	copy(f[0:], dst)
	copy(f[6:], src)
	binary.BigEndian.PutUint16(f[12:], etherBench)
	binary.BigEndian.PutUint32(f[offMagic:], magic)
	binary.BigEndian.PutUint32(f[offRun:], runID)
	f[offKind] = kind
	return b
}

// ours reports whether f is a harness frame of this run, and its kind.
func ours(f []byte) (byte, bool) {
	if len(f) < offTS+8 || f[12] != etherBench>>8 || f[13] != etherBench&0xff ||
		binary.BigEndian.Uint32(f[offMagic:]) != magic || binary.BigEndian.Uint32(f[offRun:]) != runID {
		return 0, false
	}
	return f[offKind], true
}

// pin locks the calling goroutine to its thread and the thread to cpu
// (cpu < 0: not pinned). The goroutine must not unlock: the thread dies
// with it, so no other goroutine inherits the affinity.
func pin(cpu int) {
	runtime.LockOSThread()
	if cpu < 0 {
		return
	}
	var set unix.CPUSet
	set.Set(cpu)
	unix.SchedSetaffinity(0, &set)
}

type sendResult struct {
	sent, eagain, enobufs, other uint64
	dur                          time.Duration
}

// flood writes frame to fd for dur, as fast as it can (rate 0) or paced at
// rate frames per second, waking every millisecond; non-blocking, counting
// refusals.
func flood(fd int, frame []byte, dur time.Duration, rate float64, cpu int) sendResult {
	pin(cpu)
	var r sendResult
	start := time.Now()
	deadline := start.Add(dur)
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) / rate)
	}
	for {
		now := time.Now()
		if !now.Before(deadline) {
			break
		}
		n := 64
		if rate > 0 {
			due := int64(now.Sub(start)/interval) + 1
			n = int(due - int64(r.sent+r.eagain+r.enobufs+r.other))
			if n <= 0 {
				unix.Nanosleep(&unix.Timespec{Nsec: 1_000_000}, nil)
				continue
			}
		}
		for range n {
			_, err := unix.Write(fd, frame)
			switch {
			case err == nil:
				r.sent++
			case errors.Is(err, unix.EAGAIN):
				r.eagain++
			case errors.Is(err, unix.ENOBUFS):
				r.enobufs++
			default:
				r.other++
			}
		}
	}
	r.dur = time.Since(start)
	return r
}

// reader counts the harness's data frames arriving on fd until stop is set
// and the queue is quiet.
type reader struct {
	fd, hdr  int
	blocking bool          // poll(2) between reads instead of spinning
	sleep    time.Duration // if set: sleep this long instead of poll(2)
	batch    int           // if set: sleep after this many frames (a slow reader)
	cpu      int
	stop     atomic.Bool
	got      uint64
	wg       sync.WaitGroup
	buf      []byte
}

func startReader(fd, hdr, cpu int, blocking bool, sleep time.Duration, batch int, buf []byte) *reader {
	r := &reader{fd: fd, hdr: hdr, cpu: cpu, blocking: blocking, sleep: sleep, batch: batch, buf: buf}
	r.wg.Add(1)
	go r.run()
	return r
}

func (r *reader) run() {
	defer r.wg.Done()
	pin(r.cpu)
	var quietSince time.Time
	pfd := []unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
	taken := 0
	for {
		if r.batch > 0 && taken == r.batch {
			// A slow reader counts what it took while the sender ran.
			if r.stop.Load() {
				return
			}
			unix.Nanosleep(&unix.Timespec{Nsec: int64(r.sleep)}, nil)
			taken = 0
		}
		n, err := unix.Read(r.fd, r.buf)
		if err != nil {
			if r.stop.Load() {
				if quietSince.IsZero() {
					quietSince = time.Now()
				} else if time.Since(quietSince) > 20*time.Millisecond {
					return
				}
			}
			switch {
			case r.sleep > 0:
				unix.Nanosleep(&unix.Timespec{Nsec: int64(r.sleep)}, nil)
			case r.blocking:
				unix.Poll(pfd, 5)
			}
			continue
		}
		quietSince = time.Time{}
		taken++
		if n > r.hdr {
			if k, ok := ours(r.buf[r.hdr:n]); ok && k == kindData {
				r.got++
			}
		}
	}
}

func (r *reader) finish() uint64 {
	r.stop.Store(true)
	r.wg.Wait()
	return r.got
}

// flush discards whatever is queued on fd.
func flush(fd int, buf []byte) {
	for {
		if _, err := unix.Read(fd, buf); err != nil {
			return
		}
	}
}

// rttRun measures round trips: the initiator writes a ping on vm (hdr
// bytes of virtio-net header), a reflector on far turns it into a pong with
// the MACs swapped; one frame in flight. Both spin on non-blocking fds.
func rttRun(vmFD, vmHdr, farFD int, dst, src net.HardwareAddr, dur time.Duration, minSamples, max int, cpuI, cpuR int) (samples []int64, lost int) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pin(cpuR)
		buf := make([]byte, 65536)
		for !stop.Load() {
			n, err := unix.Read(farFD, buf)
			if err != nil {
				continue
			}
			f := buf[:n]
			if k, ok := ours(f); !ok || k != kindPing {
				continue
			}
			var mac [6]byte
			copy(mac[:], f[0:6])
			copy(f[0:6], f[6:12])
			copy(f[6:12], mac[:])
			f[offKind] = kindPong
			unix.Write(farFD, f)
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pin(cpuI)
		ping := buildFrame(vmHdr, minFrame, dst, src, kindPing)
		buf := make([]byte, 65536)
		samples = make([]int64, 0, max)
		// At least minSamples, even past dur (a loaded host can stall
		// the first frames), but never more than two seconds past it.
		start := time.Now()
		deadline, hardCap := start.Add(dur), start.Add(dur+2*time.Second)
		for seq := uint64(1); len(samples) < max; seq++ {
			if now := time.Now(); !now.Before(hardCap) || (!now.Before(deadline) && len(samples) >= minSamples) {
				break
			}
			binary.BigEndian.PutUint64(ping[vmHdr+offSeq:], seq)
			t0 := mono()
			binary.BigEndian.PutUint64(ping[vmHdr+offTS:], uint64(t0))
			if _, err := unix.Write(vmFD, ping); err != nil {
				lost++
				continue
			}
			for {
				n, err := unix.Read(vmFD, buf)
				now := mono()
				if err == nil && n > vmHdr {
					f := buf[vmHdr:n]
					if k, ok := ours(f); ok && k == kindPong && binary.BigEndian.Uint64(f[offSeq:]) == seq {
						samples = append(samples, now-int64(binary.BigEndian.Uint64(f[offTS:])))
						break
					}
				}
				// Lost, or so late (a loaded host can hold either end
				// off its CPU) that waiting longer only eats the trial.
				if now-t0 > int64(250*time.Millisecond) {
					lost++
					break
				}
			}
		}
	}()
	<-done
	stop.Store(true)
	wg.Wait()
	return samples, lost
}
