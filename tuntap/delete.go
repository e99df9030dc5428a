package tuntap

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Delete removes the persistent tun/tap device called name in the network
// namespace netns ("" for the caller's, otherwise as Config.NetNS): it
// attaches to the device and clears persistence (TUNSETPERSIST 0), so the
// kernel destroys it when the file is closed.
//
// A device that other processes still hold open (a running VMM's
// multi-queue tap, say) goes away only when they close it; a single-queue
// one that is attached elsewhere gives an error wrapping unix.EBUSY.
// A missing device gives an error wrapping unix.ENODEV, so a second Delete
// of the same name fails with it; a device that is not tun/tap gives one
// wrapping ErrNotTunTap and is left alone.
func Delete(name, netns string) error {
	if err := validName(name); err != nil {
		return err
	}
	if err := validateNetNS(netns); err != nil {
		return invalid("%v", err)
	}
	fds, l, err := openInNetNS(netns, name, 1)
	if err != nil {
		return fmt.Errorf("tuntap: delete %s: %w", name, err)
	}
	defer closeFDs(fds)
	if _, err := setIff(fds[0], l.Name, attachFlags(l.Tun)); err != nil {
		return ioctlError("delete", l.Name, "TUNSETIFF", err)
	}
	if err := unix.IoctlSetInt(fds[0], TUNSETPERSIST, 0); err != nil {
		return ioctlError("delete", l.Name, "TUNSETPERSIST 0", err)
	}
	return nil
}
