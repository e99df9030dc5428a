//go:build linux

package link

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
)

// procDir is /proc, a variable for tests.
var procDir = "/proc"

// Held reports whether a process holds the tap or macvtap l, of the
// network namespace ns ("" for the caller's, else as netns.Path takes it),
// open: what the kernel reports of a tun/tap (TapHeld), else a
// /dev/net/tun file attached to a device of l's name in ns (a VMM that
// turned the carrier off); for a macvtap, MacvtapHeld.
func Held(l *Link, ns string) (bool, error) {
	switch {
	case l == nil:
		return false, nil
	case l.Kind == KindMacvtap:
		return MacvtapHeld(l)
	case l.Kind != KindTun:
		return false, nil
	case TapHeld(l):
		return true, nil
	}
	path := "/proc/self/ns/net"
	if ns != "" {
		var err error
		if path, err = netns.Path(ns); err != nil {
			return false, err
		}
	}
	var want unix.Stat_t
	if err := unix.Stat(path, &want); err != nil {
		return false, fmt.Errorf("link: network namespace %s: %w", ns, err)
	}
	return tunFileHeld(l.Name, want)
}

// tunFileHeld reports whether some process has a /dev/net/tun file
// attached to a device called name in the namespace ns: its
// /proc/PID/fdinfo/N says "iff:" and the name (tun_chr_show_fdinfo), and
// the device's namespace (TUNGETDEVNETNS on a copy of the file, taken with
// pidfd_getfd) is ns. Names repeat across namespaces (every container's
// tap0); when the namespace cannot be read, the file counts: keeping a
// device is the safe mistake.
func tunFileHeld(name string, ns unix.Stat_t) (bool, error) {
	found := false
	err := eachFD(func(pid, fd, path string) bool {
		if target, err := os.Readlink(path); err != nil || target != "/dev/net/tun" {
			return true
		}
		if st, err := tunFileNetNS(pid, fd); err == nil && (st.Ino != ns.Ino || st.Dev != ns.Dev) {
			return true
		}
		f, err := os.Open(filepath.Join(procDir, pid, "fdinfo", fd))
		if err != nil {
			return true
		}
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && k == "iff" && strings.TrimSpace(v) == name {
				found = true
				return false
			}
		}
		return true
	})
	return found, err
}

// tunFileNetNS is the network namespace of the device the tun file fd of
// process pid is attached to.
func tunFileNetNS(pid, fd string) (unix.Stat_t, error) {
	var st unix.Stat_t
	p, err1 := strconv.Atoi(pid)
	n, err2 := strconv.Atoi(fd)
	if err := errors.Join(err1, err2); err != nil {
		return st, err
	}
	pidfd, err := unix.PidfdOpen(p, 0)
	if err != nil {
		return st, err
	}
	defer unix.Close(pidfd)
	f, err := unix.PidfdGetfd(pidfd, n, 0)
	if err != nil {
		return st, err
	}
	defer unix.Close(f)
	nsfd, err := unix.IoctlRetInt(f, unix.TUNGETDEVNETNS)
	if err != nil {
		return st, err
	}
	defer unix.Close(nsfd)
	return st, unix.Fstat(nsfd, &st)
}

// eachFD calls fn with every open file descriptor of every process the
// caller may read (its /proc/PID/fd/N path), until fn returns false.
func eachFD(fn func(pid, fd, path string) bool) error {
	procs, err := os.ReadDir(procDir)
	if err != nil {
		return fmt.Errorf("link: open files: %w", err)
	}
	for _, p := range procs {
		if p.Name()[0] < '0' || p.Name()[0] > '9' {
			continue
		}
		dir := filepath.Join(procDir, p.Name(), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			if !fn(p.Name(), fd.Name(), filepath.Join(dir, fd.Name())) {
				return nil
			}
		}
	}
	return nil
}

// HeldOpen reports whether a process holds a file open on the character
// device (major, minor), by whatever path it opened it (/dev/tapN, a node
// of its own): whether some /proc/PID/fd/N stats to that device. Processes
// that end meanwhile, and those whose descriptors the caller may not read,
// are skipped.
func HeldOpen(major, minor uint32) (bool, error) {
	want, found := unix.Mkdev(major, minor), false
	err := eachFD(func(_, _, path string) bool {
		var st unix.Stat_t
		found = unix.Stat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == want
		return !found
	})
	if err != nil {
		return false, fmt.Errorf("link: who holds %d:%d open: %w", major, minor, err)
	}
	return found, nil
}

// MacvtapHeld reports whether a process holds the macvtap l's character
// device open (a VMM's queue file): its /dev/tapN, or any node of the same
// device number. A macvtap whose device the kernel no longer lists is not
// held.
func MacvtapHeld(l *Link) (bool, error) {
	major, minor, err := MacvtapDevNum(l.Index, l.Name)
	if errors.Is(err, unix.ENODEV) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return HeldOpen(major, minor)
}
