//go:build linux

package link

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// procDir is /proc, a variable for tests.
var procDir = "/proc"

// HeldOpen reports whether a process holds a file open on the character
// device (major, minor), by whatever path it opened it (/dev/tapN, a node
// of its own): whether some /proc/PID/fd/N stats to that device. Processes
// that end meanwhile, and those whose descriptors the caller may not read,
// are skipped.
func HeldOpen(major, minor uint32) (bool, error) {
	procs, err := os.ReadDir(procDir)
	if err != nil {
		return false, fmt.Errorf("link: who holds %d:%d open: %w", major, minor, err)
	}
	want := unix.Mkdev(major, minor)
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
			var st unix.Stat_t
			if unix.Stat(filepath.Join(dir, fd.Name()), &st) != nil {
				continue
			}
			if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == want {
				return true, nil
			}
		}
	}
	return false, nil
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
