package tuntap

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// KernelFeatures reports the TUNSETIFF flags the running kernel supports
// (TUNGETFEATURES on an unattached /dev/net/tun file).
func KernelFeatures() (uint16, error) {
	fd, err := openTun()
	if err != nil {
		return 0, fmt.Errorf("tuntap: %w", err)
	}
	defer unix.Close(fd)
	v, err := unix.IoctlGetUint32(fd, TUNGETFEATURES)
	if err != nil {
		return 0, fmt.Errorf("tuntap: TUNGETFEATURES: %w", err)
	}
	return uint16(v), nil
}

// openTun opens /dev/net/tun. O_NONBLOCK lets os.NewFile register the file
// with the runtime poller, so reads and writes park goroutines instead of
// threads and honour deadlines.
func openTun() (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return -1, fmt.Errorf("open /dev/net/tun: %w (load the tun module, or create the node: mknod /dev/net/tun c 10 200)", err)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return -1, fmt.Errorf("open /dev/net/tun: %w (denied by file mode or device cgroup)", err)
	}
	return -1, fmt.Errorf("open /dev/net/tun: %w", err)
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// setIff runs TUNSETIFF and returns the device name the kernel used.
func setIff(fd int, name string, flags uint16) (string, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return "", err
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, TUNSETIFF, ifr); err != nil {
		return "", err
	}
	return ifr.Name(), nil
}

// ioctlError names the device and the ioctl, wraps the errno, and adds a hint
// for the errnos whose bare text misleads.
func ioctlError(op, name, ioctl string, err error) error {
	prefix := "tuntap: " + name
	if op != "" {
		prefix = "tuntap: " + op + " " + name
	}
	hint := ""
	switch {
	case errors.Is(err, unix.EPERM) && ioctl == "TUNSETIFF" && op != "create":
		hint = " (CAP_NET_ADMIN is needed, unless the caller is the device's owner or in its group)"
	case errors.Is(err, unix.EPERM):
		hint = " (CAP_NET_ADMIN is needed)"
	case errors.Is(err, unix.EBUSY) && op == "create" && ioctl == "TUNSETIFF":
		hint = " (a device with this name already exists)"
	case errors.Is(err, unix.EBUSY) && ioctl == "TUNSETIFF":
		hint = " (a single-queue device already has a file attached)"
	}
	return fmt.Errorf("%s: %s: %w%s", prefix, ioctl, err, hint)
}

// Flags returns the device's flags as TUNGETIFF reports them: IFF_TUN or
// IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE, IFF_ONE_QUEUE,
// IFF_NAPI, IFF_NAPI_FRAGS and IFF_PERSIST.
//
// TUNGETIFF ORs IFF_NOFILTER into its answer when the queue has no socket
// filter, and IFF_NOFILTER has IFF_NO_PI's value, so the kernel's bit says
// nothing about IFF_NO_PI. Flags replaces it with the IFF_NO_PI the files
// were attached with, which the kernel cannot change while they stay
// attached. The per-queue IFF_DETACH_QUEUE is dropped; see QueueAttached.
func (t *Tap) Flags() (uint16, error) {
	flags, err := t.getIff(0, "TUNGETIFF")
	if err != nil {
		return 0, err
	}
	flags &^= IFF_NOFILTER | IFF_DETACH_QUEUE
	return flags | t.flags&IFF_NO_PI, nil
}

// Features reports the TUNSETIFF flags the kernel supports (TUNGETFEATURES).
func (t *Tap) Features() (uint16, error) {
	var v uint32
	err := t.control(0, "TUNGETFEATURES", func(fd int) (err error) {
		v, err = unix.IoctlGetUint32(fd, TUNGETFEATURES)
		return err
	})
	return uint16(v), err
}

// SetOffload tells the kernel which offloads the reader of the files
// handles (TUNSETOFFLOAD with TUN_F_* flags; 0 turns them all off). It
// applies to the whole device. The kernel rejects with EINVAL any flag it
// does not know and any offload without TUN_F_CSUM.
func (t *Tap) SetOffload(flags uint32) error {
	return t.control(0, "TUNSETOFFLOAD", func(fd int) error {
		return unix.IoctlSetInt(fd, TUNSETOFFLOAD, int(flags))
	})
}

// SetVnetHdrSize sets the length of the virtio-net header that precedes
// every frame (TUNSETVNETHDRSZ), for the whole device. n must be at least
// VirtioNetHdrLen.
func (t *Tap) SetVnetHdrSize(n int) error {
	if n < VirtioNetHdrLen || n > 1<<31-1 {
		return fmt.Errorf("tuntap: %s: TUNSETVNETHDRSZ: %w: size %d, want %d to 2^31-1", t.name, ErrInvalid, n, VirtioNetHdrLen)
	}
	return t.control(0, "TUNSETVNETHDRSZ", func(fd int) error {
		return unix.IoctlSetPointerInt(fd, TUNSETVNETHDRSZ, n)
	})
}

// VnetHdrSize returns the length of the virtio-net header (TUNGETVNETHDRSZ).
func (t *Tap) VnetHdrSize() (int, error) {
	var v uint32
	err := t.control(0, "TUNGETVNETHDRSZ", func(fd int) (err error) {
		v, err = unix.IoctlGetUint32(fd, TUNGETVNETHDRSZ)
		return err
	})
	return int(int32(v)), err
}

// SetCarrier turns the device's carrier on or off (TUNSETCARRIER), as a
// VMM does when the guest's link goes up or down.
func (t *Tap) SetCarrier(up bool) error {
	v := 0
	if up {
		v = 1
	}
	return t.control(0, "TUNSETCARRIER", func(fd int) error {
		return unix.IoctlSetPointerInt(fd, TUNSETCARRIER, v)
	})
}

// SetPersist makes the device persistent (TUNSETPERSIST 1: it outlives its
// files, until Delete) or not (0: the kernel destroys it with its last
// file). Create with Config.Persist false, set the device up, then
// SetPersist(true): a process killed before that leaves no device behind.
func (t *Tap) SetPersist(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return t.control(0, "TUNSETPERSIST", func(fd int) error {
		return unix.IoctlSetInt(fd, TUNSETPERSIST, v)
	})
}

// SetOwner sets the uid allowed to attach to the device without
// CAP_NET_ADMIN (TUNSETOWNER), as Config.Owner does at creation. On an
// existing persistent device: Open it, SetOwner, Close. The kernel cannot
// clear it again (it refuses uid -1 with EINVAL).
func (t *Tap) SetOwner(uid int) error {
	return t.control(0, "TUNSETOWNER", func(fd int) error { return unix.IoctlSetInt(fd, TUNSETOWNER, uid) })
}

// SetGroup sets the gid allowed to attach (TUNSETGROUP), as Config.Group
// does; like the owner, it cannot be cleared.
func (t *Tap) SetGroup(gid int) error {
	return t.control(0, "TUNSETGROUP", func(fd int) error { return unix.IoctlSetInt(fd, TUNSETGROUP, gid) })
}

// AttachQueue re-enables queue i of a multi-queue device (TUNSETQUEUE with
// IFF_ATTACH_QUEUE). The kernel answers EINVAL if the queue is attached.
func (t *Tap) AttachQueue(i int) error { return t.setQueue(i, IFF_ATTACH_QUEUE) }

// DetachQueue disables queue i of a multi-queue device (TUNSETQUEUE with
// IFF_DETACH_QUEUE): the kernel stops steering frames to it, and writes to
// it fail, until AttachQueue. The file stays open, so the device and the
// other queues are unaffected. The kernel answers EINVAL if the queue is
// already detached.
func (t *Tap) DetachQueue(i int) error { return t.setQueue(i, IFF_DETACH_QUEUE) }

func (t *Tap) setQueue(i int, flag uint16) error {
	ioctl := fmt.Sprintf("TUNSETQUEUE (queue %d)", i)
	if t.flags&IFF_MULTI_QUEUE == 0 {
		return fmt.Errorf("tuntap: %s: %s: not a multi-queue device: %w", t.name, ioctl, unix.EINVAL)
	}
	return t.control(i, ioctl, func(fd int) error {
		ifr, err := unix.NewIfreq("")
		if err != nil {
			return err
		}
		ifr.SetUint16(flag)
		return unix.IoctlIfreq(fd, TUNSETQUEUE, ifr)
	})
}

// QueueAttached reports whether queue i is attached, i.e. not disabled with
// DetachQueue (TUNGETIFF reports IFF_DETACH_QUEUE on a detached queue).
func (t *Tap) QueueAttached(i int) (bool, error) {
	flags, err := t.getIff(i, fmt.Sprintf("TUNGETIFF (queue %d)", i))
	return flags&IFF_DETACH_QUEUE == 0, err
}

// getIff reads queue i's flags with TUNGETIFF, as the kernel reports them.
func (t *Tap) getIff(i int, step string) (uint16, error) {
	var flags uint16
	err := t.control(i, step, func(fd int) error {
		ifr, err := unix.NewIfreq("")
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, TUNGETIFF, ifr); err != nil {
			return err
		}
		flags = ifr.Uint16()
		return nil
	})
	return flags, err
}
