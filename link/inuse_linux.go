//go:build linux

package link

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// procDir is /proc, a variable for tests.
var procDir = "/proc"

// Held reports whether a process holds the tap or macvtap l open: what
// the kernel reports of a tun/tap (TapHeld), else a /dev/net/tun file
// attached to a device of l's name (a VMM that turned the carrier off);
// for a macvtap, MacvtapHeld. A file attached to a namesake in another
// namespace counts too: the kernel does not say which namespace a tun
// file's device is in, and keeping a device is the safe mistake.
func Held(l *Link) (bool, error) {
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
	return tunFileHeld(l.Name)
}

// tunFileHeld reports whether some process has a /dev/net/tun file
// attached to a device called name: its /proc/PID/fdinfo/N says "iff:"
// and the name (tun_chr_show_fdinfo).
func tunFileHeld(name string) (bool, error) {
	found := false
	err := eachFD(func(pid, fd, path string) bool {
		if target, err := os.Readlink(path); err != nil || target != "/dev/net/tun" {
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
