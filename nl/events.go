package nl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// ErrOverrun is wrapped, with syscall.ENOBUFS, by the error of Events.Read
// when the kernel dropped notifications because the socket's receive
// buffer was full: the reader has missed changes and must read the state
// it follows again (a dump) before it trusts it.
var ErrOverrun = errors.New("notifications lost (socket receive buffer overrun): read the state again")

// Events is a NETLINK_ROUTE socket subscribed to multicast groups
// (DialEvents): it only reads the kernel's notifications, and sends
// nothing. It is a socket of its own rather than a Conn's, so that a
// Conn's replies never queue behind notifications (or get dropped with
// them on an overrun), and an overrun costs notifications only, never an
// acknowledgement. One goroutine reads it at a time.
type Events struct {
	t Transport

	mu       sync.Mutex // orders the cancelling deadline with its reset
	canceled bool       // a deadline in the past was set to end a Read
}

// NewEvents returns an Events reading from t, a socket already subscribed
// (DialEvents does that), or a fake (nl/nltest).
func NewEvents(t Transport) *Events { return &Events{t: t} }

// Close closes the socket; a Read in progress returns.
func (e *Events) Close() error { return e.t.Close() }

// past is a read deadline that has passed: it wakes a Read at once.
var past = time.Unix(1, 0)

// Read waits for the next datagram of notifications and calls fn with each
// message in it; m.Data is valid only during the call. It sleeps in the
// kernel until one arrives, or until ctx is done (then it returns
// ctx.Err()). An overrun gives an error wrapping ErrOverrun and
// syscall.ENOBUFS; the socket stays usable. An error from fn stops the
// walk and is returned.
func (e *Events) Read(ctx context.Context, fn func(m Message) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	if e.canceled {
		// An earlier Read's context ended it: clear its deadline.
		e.canceled = false
		if err := e.t.SetReadDeadline(time.Time{}); err != nil {
			e.mu.Unlock()
			return err
		}
	}
	e.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.canceled = true
		e.t.SetReadDeadline(past)
	})
	defer stop()
	for {
		d, err := e.t.Recv()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, syscall.ENOBUFS):
			return fmt.Errorf("nl: %w: %w", ErrOverrun, err)
		case errors.Is(err, os.ErrDeadlineExceeded):
			// The deadline of a context that ended after this Read's
			// began, but too late for it: clear it and read on.
			e.mu.Lock()
			e.canceled = false
			err = e.t.SetReadDeadline(time.Time{})
			e.mu.Unlock()
			if err != nil {
				return err
			}
			continue
		case err != nil:
			return fmt.Errorf("nl: reading notifications: %w", err)
		}
		for m, err := range messages(d) {
			if err != nil {
				return err
			}
			if m.Header.Type == NLMSG_DONE || m.Header.Type == NLMSG_NOOP {
				continue
			}
			if err := fn(m); err != nil {
				return err
			}
		}
		return nil
	}
}
