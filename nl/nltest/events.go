package nltest

import (
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/tcwire/tcwire/nl"
)

// Feed is the fake kernel's side of an nl.Events: the test queues
// notifications and overruns, and the Events reads them, waiting as on a
// socket while nothing is queued. Its methods are safe for concurrent use.
type Feed struct {
	items chan feedItem
	wake  chan struct{} // a new deadline, or Close

	mu       sync.Mutex
	deadline time.Time
	closed   bool
}

type feedItem struct {
	d   []byte
	err error
}

// Events returns an nl.Events reading what the test queues on the Feed.
// At most 1024 datagrams wait at a time; Notify blocks beyond.
func Events() (*nl.Events, *Feed) {
	f := &Feed{items: make(chan feedItem, 1024), wake: make(chan struct{}, 1)}
	return nl.NewEvents(f), f
}

// Notify queues the messages as one datagram of notifications (sequence
// and pid 0, as the kernel multicasts them).
func (f *Feed) Notify(msgs ...nl.Message) {
	var d []byte
	for _, m := range msgs {
		m.Header.Sequence, m.Header.PID = 0, 0
		b, _ := m.MarshalBinary()
		d = append(d, b...)
	}
	f.items <- feedItem{d: d}
}

// Overrun queues the error of a receive buffer that overflowed (ENOBUFS).
func (f *Feed) Overrun() { f.items <- feedItem{err: os.NewSyscallError("recvfrom", syscall.ENOBUFS)} }

// Send refuses: an Events sends nothing.
func (f *Feed) Send([]byte) error { return syscall.EOPNOTSUPP }

// Recv returns the next queued datagram, waiting for one until the read
// deadline (os.ErrDeadlineExceeded) or Close.
func (f *Feed) Recv() ([]byte, error) {
	for {
		f.mu.Lock()
		closed, dl := f.closed, f.deadline
		f.mu.Unlock()
		if closed {
			return nil, os.ErrClosed
		}
		var timeout <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return nil, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case it := <-f.items:
			return it.d, it.err
		case <-timeout:
			return nil, os.ErrDeadlineExceeded
		case <-f.wake:
		}
	}
}

// SetReadDeadline sets the deadline of Recv, waking one that waits.
func (f *Feed) SetReadDeadline(d time.Time) error {
	f.mu.Lock()
	f.deadline = d
	f.mu.Unlock()
	f.poke()
	return nil
}

// Close makes Recv fail with os.ErrClosed.
func (f *Feed) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.poke()
	return nil
}

func (f *Feed) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}
