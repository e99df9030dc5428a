package nl

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// ErrReplyLost is wrapped by the error of a request whose acknowledgement
// the kernel dropped because the socket's receive buffer was full
// (ENOBUFS): the request may or may not have been applied, so it is not
// sent again.
var ErrReplyLost = errors.New("acknowledgement lost (socket receive buffer overrun): outcome unknown")

// ErrDumpInterrupted is wrapped by the error of a dump that the kernel
// flagged NLM_F_DUMP_INTR (the objects changed while it ran) every time
// the Retry policy allowed.
var ErrDumpInterrupted = errors.New("dump interrupted by a concurrent change (NLM_F_DUMP_INTR)")

// Retry is a policy for requests the kernel refused: given how many times
// a request has been sent and the error of the last time, it says whether
// to send it again and after what pause. It only sees errors that prove
// the request had no effect: the kernel's refusal of that very request (an
// errno in its acknowledgement, as an *Error) or an interrupted dump
// (ErrDumpInterrupted). A request whose outcome is unknown — its
// acknowledgement was lost, the socket failed — is never sent again.
type Retry func(tries int, err error) (pause time.Duration, again bool)

// DefaultRetry sends a request up to 5 times, 10 ms apart, while the
// kernel refuses it with EBUSY or EAGAIN (Kata Containers retries the
// ingress qdisc add on EBUSY the same way, for busy nodes), and runs an
// interrupted dump again.
func DefaultRetry(tries int, err error) (time.Duration, bool) {
	if tries >= 5 {
		return 0, false
	}
	if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EAGAIN) || errors.Is(err, ErrDumpInterrupted) {
		return 10 * time.Millisecond, true
	}
	return 0, false
}

// NoRetry sends every request once.
func NoRetry(int, error) (time.Duration, bool) { return 0, false }

// Error is a request the kernel (or the socket) refused. It keeps the errno,
// so errors.Is(err, unix.EEXIST) works, and the kernel's extended-ack text.
type Error struct {
	// Cmd is the request's equivalent command line (Request.Cmd).
	Cmd string
	// Err is the cause: a unix.Errno from the kernel, or a socket error.
	Err error
	// Message and Offset are the extended ack (NLMSGERR_ATTR_MSG and
	// NLMSGERR_ATTR_OFFS), when the kernel sent one.
	Message string
	Offset  int
}

func (e *Error) Error() string {
	s := e.Cmd + ": " + e.Err.Error()
	if e.Message != "" {
		s += ": " + e.Message
	}
	if errors.Is(e.Err, syscall.EPERM) || errors.Is(e.Err, syscall.EACCES) {
		s += " (CAP_NET_ADMIN is needed)"
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errDialf reports a failure to open the netlink socket.
func errDialf(format string, args ...any) error {
	return fmt.Errorf("nl: dial: "+format, args...)
}
