package tuntap

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// netnsPath turns Config.NetNS into a path: a bare name is a bind mount under
// /run/netns (what `ip netns add` makes); anything with a slash is a path.
func netnsPath(netns string) string {
	if strings.ContainsRune(netns, '/') {
		return netns
	}
	return "/run/netns/" + netns
}

// validateNetNS rejects values that cannot name a namespace; "" means the
// caller's own namespace.
func validateNetNS(netns string) error {
	switch {
	case netns == "":
		return nil
	case strings.IndexByte(netns, 0) >= 0:
		return fmt.Errorf("NetNS %q contains a NUL byte", netns)
	case !strings.ContainsRune(netns, '/') && (netns == "." || netns == ".."):
		return fmt.Errorf("NetNS %q is not a namespace name", netns)
	}
	return nil
}

// inNetNS runs fn with the current OS thread in the network namespace netns
// ("" runs fn directly). Sockets and /dev/net/tun files opened by fn belong
// to that namespace for their whole life (the tun driver takes the namespace
// of the opener, not of the ioctl caller), so everything else can happen
// after fn returns, on any thread.
//
// Namespaces are per thread, and the Go scheduler moves goroutines between
// threads, so fn runs on a new goroutine locked to its thread. If the
// original namespace cannot be restored the goroutine exits still locked, and
// the runtime then kills the thread instead of reusing it for unrelated
// goroutines in the wrong namespace. A new goroutine (rather than locking the
// caller's) keeps the caller unaffected even in that case, and works when
// the caller has locked its own thread for other reasons.
func inNetNS(netns string, fn func() error) error {
	if netns == "" {
		return fn()
	}
	path := netnsPath(netns)
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", path, err)
	}
	defer unix.Close(target)

	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("open current netns: %w", err)
			return
		}
		defer unix.Close(orig)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			// setns failed, so the thread is still where it was.
			runtime.UnlockOSThread()
			if errors.Is(err, unix.EPERM) {
				done <- fmt.Errorf("setns %s: %w (CAP_SYS_ADMIN is needed)", path, err)
				return
			}
			done <- fmt.Errorf("setns %s: %w", path, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: the goroutine ends, the thread dies.
			done <- errors.Join(ferr, fmt.Errorf("restore netns after %s: %w", path, err))
			return
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}
