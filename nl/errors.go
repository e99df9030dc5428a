package nl

import (
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

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
	if errors.Is(e.Err, unix.EPERM) || errors.Is(e.Err, unix.EACCES) {
		s += " (CAP_NET_ADMIN is needed)"
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// wrap turns an error from mdlayher/netlink into an *Error for request cmd.
func wrap(cmd string, err error) error {
	if err == nil {
		return nil
	}
	var op *netlink.OpError
	if errors.As(err, &op) {
		return &Error{Cmd: cmd, Err: op.Err, Message: op.Message, Offset: op.Offset}
	}
	return &Error{Cmd: cmd, Err: err}
}

// errDialf reports a failure to open the netlink socket.
func errDialf(format string, args ...any) error {
	return fmt.Errorf("nl: dial: "+format, args...)
}
