package link

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// errGoexit is what Do returns when fn ends its goroutine with
// runtime.Goexit (t.FailNow in a test, say) instead of returning.
var errGoexit = errors.New("link: netns: fn called runtime.Goexit")

// Do runs fn on a locked OS thread whose network namespace is netns, given
// by name (under /run/netns) or path (/proc/PID/ns/net …), and returns fn's
// error.
//
// Only that thread is in netns: goroutines fn starts run elsewhere, in the
// process's namespace. Use it for what must happen in the namespace's own
// thread context, such as opening /dev/net/tun (a tap is created in the
// namespace of the thread that opens it) or sockets bound to the namespace;
// netlink work does not need it (nl.Dial takes a namespace).
//
// fn runs on a goroutine of its own; a panic in fn is re-raised in the
// caller once the thread is back in its namespace.
func Do(netns string, fn func() error) error {
	target, err := openNetNS(netns)
	if err != nil {
		return fmt.Errorf("link: netns: %w", err)
	}
	defer target.Close()

	type result struct {
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// UnlockOSThread is not deferred: it happens only once the thread
		// is back in its original namespace.
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("link: netns %s: current namespace: %w", netns, err)}
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("link: netns %s: setns: %w", netns, err)}
			return
		}
		r := result{err: errGoexit}
		// Runs however fn ends: return, panic or runtime.Goexit.
		defer func() {
			if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
				// The thread is stuck in netns. It stays locked: a
				// goroutine that exits while locked to its thread takes
				// the thread with it (the runtime terminates it rather
				// than reuse it), so no other goroutine ever runs in the
				// wrong namespace.
				r.err = errors.Join(r.err, fmt.Errorf("link: netns %s: restoring the original namespace: %w", netns, err))
				done <- r
				return
			}
			runtime.UnlockOSThread()
			done <- r
		}()
		defer func() {
			if p := recover(); p != nil {
				r = result{panic: p}
			}
		}()
		r.err = fn()
	}()
	r := <-done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.err
}
