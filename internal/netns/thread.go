package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Thread is an OS thread that lives in one network namespace for its whole
// life, for the work that takes the namespace of the calling thread (a
// socket, /dev/net/tun) without a setns pair each time.
type Thread struct {
	ns  string
	fns chan func()
}

// ErrClosed is what Run returns on a Thread that is closed.
var ErrClosed = errors.New("netns: thread closed")

// NewThread starts a thread in the namespace ns (as Path resolves it); ""
// is the caller's, and then Run calls fn directly.
//
// The goroutine behind it stays locked to its thread and never moves it
// back: when Close ends the goroutine, the runtime ends the thread with it,
// so no other goroutine ever runs in ns by accident.
func NewThread(ns string) (*Thread, error) {
	t := &Thread{ns: ns}
	if ns == "" {
		return t, nil
	}
	target, err := Open(ns)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	t.fns = make(chan func())
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			started <- setnsError(ns, err)
			return
		}
		started <- nil
		for fn := range t.fns {
			fn()
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return t, nil
}

// Run runs fn on the thread and returns its error. A panic in fn is
// re-raised in the caller. Run is safe for concurrent use; calls run one
// at a time.
func (t *Thread) Run(fn func() error) (err error) {
	if t.fns == nil {
		return fn()
	}
	type result struct {
		err   error
		panic any
	}
	done := make(chan result, 1)
	defer func() {
		if recover() != nil { // send on a closed channel
			err = ErrClosed
		}
	}()
	t.fns <- func() {
		r := result{err: errGoexit}
		defer func() {
			if p := recover(); p != nil {
				r = result{panic: p}
			}
			done <- r
		}()
		r.err = fn()
	}
	r := <-done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}

// Close ends the thread. Run must not be running.
func (t *Thread) Close() {
	if t.fns != nil {
		close(t.fns)
	}
}

// LockName is the abstract unix socket address whose binding is tcwire's
// lock on a namespace. Abstract addresses belong to the network namespace
// the socket was made in, and the kernel frees one when the socket's last
// file closes, however its process ends.
const LockName = "@tcwire/netns-lock"

// TryLock takes the namespace's lock if it is free: the socket bound to
// LockName, made on the thread (so in its namespace). It returns the
// socket to close to release the lock, or -1 and nil when another holds it.
func (t *Thread) TryLock() (fd int, err error) {
	fd = -1
	err = t.Run(func() error {
		s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return os.NewSyscallError("socket", err)
		}
		switch err := unix.Bind(s, &unix.SockaddrUnix{Name: LockName}); {
		case err == nil:
			fd = s
		case errors.Is(err, unix.EADDRINUSE):
			unix.Close(s)
		default:
			unix.Close(s)
			return fmt.Errorf("bind %s: %w", LockName, err)
		}
		return nil
	})
	return fd, err
}
