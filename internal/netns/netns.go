// Package netns is tcwire's one home for network namespaces: naming one
// (a name under /run/netns or a path), opening it, running a function
// inside it, and making a throwaway one. nl, link, tuntap and the commands
// all go through it.
package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Dir is where `ip netns add` bind-mounts the namespaces it names.
const Dir = "/run/netns"

// Path resolves a namespace given by name or path, the way `ip -n` and
// CNI_NETNS name them: anything with a '/' is a path (/proc/PID/ns/net,
// /var/run/netns/x), anything else a name under Dir. It never resolves to
// the caller's namespace: "" is an error, as are "." and "..", and a NUL
// byte (which would cut the path short in the kernel).
func Path(ns string) (string, error) {
	switch {
	case ns == "":
		return "", errors.New("empty network namespace name")
	case strings.IndexByte(ns, 0) >= 0:
		return "", fmt.Errorf("network namespace %q contains a NUL byte", ns)
	case strings.ContainsRune(ns, '/'):
		return ns, nil
	case ns == "." || ns == "..":
		return "", fmt.Errorf("invalid network namespace name %q", ns)
	}
	return Dir + "/" + ns, nil
}

// ErrNotNetNS is a path that names a file, but not a network namespace: a
// regular file (/proc/self/status), another kind of namespace
// (/proc/self/ns/mnt) … errors.Is(err, ErrNotNetNS) holds for Open's.
var ErrNotNetNS = errors.New("not a network namespace")

// Open opens the network namespace ns (as Path resolves it) and checks that
// the file is one: a file of nsfs whose namespace type is CLONE_NEWNET.
// /proc/PID/ns/net opens as a file of nsfs: a file of /proc itself
// (/proc/self/status) is none, and setns would refuse it with a bare
// EINVAL.
func Open(ns string) (*os.File, error) {
	path, err := Path(ns)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("network namespace %q: %w", ns, err)
	}
	if err := check(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// check tells whether f is a network namespace, and what it is otherwise.
func check(f *os.File) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("%w: statfs: %w", ErrNotNetNS, err)
	}
	if st.Type != unix.NSFS_MAGIC {
		return fmt.Errorf("%w (a file of %s, not of nsfs)", ErrNotNetNS, fsName(st.Type))
	}
	// Every namespace is a file of nsfs; NS_GET_NSTYPE (Linux 4.11) tells
	// a network namespace from the others.
	typ, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	if err == nil && typ != unix.CLONE_NEWNET {
		return fmt.Errorf("%w (a namespace of another type, CLONE_NEW* %#x)", ErrNotNetNS, typ)
	}
	return nil
}

// fsName names the file systems a wrong path most often lands on.
func fsName(magic int64) string {
	switch magic {
	case unix.PROC_SUPER_MAGIC:
		return "/proc"
	case unix.SYSFS_MAGIC:
		return "sysfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.DEVPTS_SUPER_MAGIC:
		return "devpts"
	}
	return fmt.Sprintf("file system %#x", magic)
}

// IsOwn reports whether the network namespace at path is the caller's own
// (its process's, /proc/self/ns/net), however path reaches it:
// /proc/PID/ns/net of any process in it, a bind mount of it …
// Namespaces are the same when their nsfs files are (device and inode).
func IsOwn(path string) (bool, error) {
	f, err := Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	theirs, err := f.Stat()
	if err != nil {
		return false, err
	}
	ours, err := os.Stat("/proc/self/ns/net")
	if err != nil {
		return false, fmt.Errorf("the caller's network namespace: %w", err)
	}
	return os.SameFile(theirs, ours), nil
}

// Gone reports whether path no longer names a network namespace: it does
// not exist, or it is the empty file `ip netns` leaves when the namespace's
// mount is gone (a deleted container's CNI_NETNS).
func Gone(path string) bool {
	var st unix.Statfs_t
	err := unix.Statfs(path, &st)
	if errors.Is(err, unix.ENOENT) {
		return true
	}
	return err == nil && st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC
}

// errGoexit is what Do returns when fn ends its goroutine with
// runtime.Goexit (t.FailNow in a test, say) instead of returning.
var errGoexit = errors.New("netns: fn called runtime.Goexit")

// Do runs fn on an OS thread whose network namespace is ns and returns fn's
// error; "" runs fn directly, in the caller's namespace.
//
// Only that thread is in ns: goroutines fn starts run elsewhere. Use it for
// what takes the namespace of the calling thread, such as opening
// /dev/net/tun (a tap is created in the namespace of the thread that opens
// it, and the file keeps it there) or a socket; netlink work does not need
// it (nl.Dial takes a namespace).
//
// fn runs on a goroutine of its own, locked to its thread, so the caller's
// thread is never moved. If the thread cannot be moved back, the goroutine
// exits still locked and the runtime ends the thread instead of reusing it
// in the wrong namespace. A panic in fn is re-raised in the caller.
func Do(ns string, fn func() error) error {
	if ns == "" {
		return fn()
	}
	target, err := Open(ns)
	if err != nil {
		return err
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
			done <- result{err: fmt.Errorf("network namespace %s: current namespace: %w", ns, err)}
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: setnsError(ns, err)}
			return
		}
		r := result{err: errGoexit}
		// Runs however fn ends: return, panic or runtime.Goexit.
		defer func() {
			if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
				r.err = errors.Join(r.err, fmt.Errorf("network namespace %s: restoring the original namespace: %w", ns, err))
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

// Throwaway runs fn on a thread of its own in a new, empty network
// namespace (only lo, down) that goes away with the thread: fn gets the
// namespace's path (/proc/self/task/TID/ns/net), valid while fn runs, to
// pass to nl.Dial or Do. Use it to try something on the kernel without
// touching any real namespace (CNI STATUS, the bench's namespaces).
func Throwaway(fn func(path string) error) error {
	done := make(chan error, 1)
	go func() {
		// Never unlocked: the thread leaves the runtime with the
		// namespace when this goroutine ends.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("unshare(CLONE_NEWNET): %w%s", err, capHint(err))
			return
		}
		done <- fn(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	}()
	return <-done
}

func setnsError(ns string, err error) error {
	return fmt.Errorf("network namespace %s: setns: %w%s", ns, err, capHint(err))
}

// capHint says what EPERM means when entering or making a namespace: the
// one place that says so (nl.Dial enters namespaces too).
func capHint(err error) string {
	if errors.Is(err, unix.EPERM) {
		return PermissionHint
	}
	return ""
}

// PermissionHint is what an EPERM from entering or making a network
// namespace means.
const PermissionHint = " (entering or making a network namespace needs CAP_SYS_ADMIN, and the work inside it CAP_NET_ADMIN)"
