package tuntap

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"golang.org/x/sys/unix"
)

// OpenConfig describes an existing device for Open. The zero values of
// its optional fields mean what they do in Config.
type OpenConfig struct {
	// Name of the device, as in Config (but a name, not a pattern).
	Name string

	// NetNS is the network namespace to look for the device in, as in
	// Config. Empty means the caller's namespace.
	NetNS string

	// Queues is the number of queues to attach, one file each. 0 means 1;
	// more than 1 needs a multi-queue device, which must not reach
	// MaxQueues queues in total.
	Queues int

	// Flags are the TUNSETIFF flags to attach with instead of the device's
	// own; 0 means the device's own. Their IFF_TUN/IFF_TAP and
	// IFF_MULTI_QUEUE must match the device. The kernel applies IFF_NO_PI
	// and IFF_VNET_HDR to the device only when no other file is attached
	// to it; otherwise they are ignored.
	Flags uint16
}

// Open attaches to the existing tun/tap device cfg.Name. By default it
// attaches with the device's own flags (read over rtnetlink), so attaching
// does not change how the device frames packets: the kernel takes
// IFF_NO_PI and IFF_VNET_HDR from the first attaching file.
//
// A missing device gives an error wrapping unix.ENODEV; a device that is
// not tun/tap, one wrapping ErrNotTunTap; a single-queue device that
// another file is attached to, one wrapping unix.EBUSY.
func Open(cfg OpenConfig) (*Tap, error) {
	name, queues := cfg.Name, cfg.Queues
	if queues == 0 {
		queues = 1
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	if queues < 1 || queues > MaxQueues {
		return nil, invalid("Queues %d: want 0 to %d", cfg.Queues, MaxQueues)
	}
	if err := validateNetNS(cfg.NetNS); err != nil {
		return nil, invalid("%v", err)
	}
	if cfg.Flags&^(knownFlags&^IFF_TUN_EXCL) != 0 {
		return nil, invalid("Flags %#04x: unknown flags %#04x", cfg.Flags, cfg.Flags&^(knownFlags&^IFF_TUN_EXCL))
	}

	fds, l, err := openInNetNS(cfg.NetNS, name, queues)
	if err != nil {
		return nil, fmt.Errorf("tuntap: open %s: %w", name, err)
	}
	flags := attachFlags(l.Tun)
	if cfg.Flags != 0 {
		mask := uint16(IFF_TUN | IFF_TAP | IFF_MULTI_QUEUE)
		if cfg.Flags&mask != flags&mask {
			closeFDs(fds)
			return nil, invalid("open %s: Flags %#04x do not match the device's type and multi-queue flags (%#04x)", l.Name, cfg.Flags, flags&mask)
		}
		flags = cfg.Flags
	}
	if queues > 1 && !l.Tun.MultiQueue {
		closeFDs(fds)
		return nil, invalid("open %s: Queues %d needs a multi-queue device", l.Name, queues)
	}
	for i, fd := range fds {
		if _, err := setIff(fd, l.Name, flags); err != nil {
			closeFDs(fds)
			step := "TUNSETIFF"
			if i > 0 {
				step = fmt.Sprintf("TUNSETIFF (queue %d)", i)
			}
			return nil, ioctlError("open", l.Name, step, err)
		}
	}
	return newTap(l.Name, cfg.NetNS, flags, fds), nil
}

// openInNetNS opens n /dev/net/tun files in netns. When lookup is set it
// first checks, in the same namespace, that lookup names a tun/tap device.
func openInNetNS(ns, lookup string, n int) (fds []int, l *link.Link, err error) {
	err = netns.Do(ns, func() error {
		if lookup != "" {
			if l, err = lookupTun(lookup); err != nil {
				return err
			}
		}
		for range n {
			fd, err := openTun()
			if err != nil {
				return err
			}
			fds = append(fds, fd)
		}
		return nil
	})
	if err != nil {
		closeFDs(fds)
		return nil, nil, err
	}
	return fds, l, nil
}

// lookupTun asks rtnetlink (RTM_GETLINK, link.Lookup) about the device
// called name in the calling thread's namespace (openInNetNS has moved the
// thread there, so the socket is made there: no second setns) and checks
// that it is a tun/tap device. A missing device gives unix.ENODEV; one of
// another kind, an error wrapping ErrNotTunTap.
//
// It asks rtnetlink rather than reading /sys/class/net/NAME/tun_flags
// because sysfs shows the devices of the namespace it was mounted in, not
// those of the thread that reads it: after setns, /sys/class/net still lists
// the original namespace's devices.
func lookupTun(name string) (*link.Link, error) {
	c, err := nl.Dial(nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	l, err := link.Lookup(c, name)
	if link.IsNotFound(err) {
		return nil, unix.ENODEV
	}
	if err != nil {
		return nil, err
	}
	if l.Kind != link.KindTun || l.Tun == nil {
		kind := l.Kind
		if kind == "" {
			kind = "none"
		}
		return nil, fmt.Errorf("%w (kind %s)", ErrNotTunTap, kind)
	}
	return l, nil
}

// attachFlags returns the TUNSETIFF flags that attach to the tun/tap
// device ti describes without changing it.
func attachFlags(ti *link.TunInfo) uint16 {
	f := uint16(ti.Type)
	if !ti.PI {
		f |= IFF_NO_PI
	}
	if ti.VnetHdr {
		f |= IFF_VNET_HDR
	}
	if ti.MultiQueue {
		f |= IFF_MULTI_QUEUE
	}
	return f
}
