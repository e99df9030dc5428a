//go:build linux

package link

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// MakeMacvtapDev makes sure the character device of the macvtap called name
// with index ifindex exists at MacvtapDevPath(ifindex) and returns that
// path. devtmpfs (or udev) usually made it already, also for a macvtap in
// another network namespace; when no node exists, MakeMacvtapDev creates
// one (mode 0600, owned by the caller) with the number from MacvtapDevNum.
//
// The path is global: it does not depend on the namespace the macvtap is
// in. A node already there with another device number belongs to another
// macvtap with the same index (in another namespace) or is stale; it is
// left alone and reported as an error satisfying errors.Is(err,
// unix.EEXIST).
func MakeMacvtapDev(ifindex int32, name string) (string, error) {
	major, minor, err := MacvtapDevNum(ifindex, name)
	if err != nil {
		return "", err
	}
	path := MacvtapDevPath(ifindex)
	if err := makeCharDev(path, major, minor); err != nil {
		return "", fmt.Errorf("link %s: %w", name, err)
	}
	return path, nil
}

// makeCharDev makes path a character device major:minor unless it already
// is one.
func makeCharDev(path string, major, minor uint32) error {
	want := unix.Mkdev(major, minor)
	check := func() (bool, error) {
		var st unix.Stat_t
		err := unix.Stat(path, &st)
		switch {
		case errors.Is(err, unix.ENOENT):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("%s: %w", path, err)
		case st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == want:
			return true, nil
		}
		return false, fmt.Errorf("%s exists and is not character device %d:%d: %w", path, major, minor, unix.EEXIST)
	}
	if ok, err := check(); ok || err != nil {
		return err
	}
	err := unix.Mknod(path, unix.S_IFCHR|0o600, int(want))
	if errors.Is(err, unix.EEXIST) {
		// devtmpfs or udev made it meanwhile.
		ok, err := check()
		if err == nil && !ok {
			err = fmt.Errorf("mknod %s: exists, then vanished", path)
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("mknod %s c %d %d: %w", path, major, minor, err)
	}
	return nil
}
