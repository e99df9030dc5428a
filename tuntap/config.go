package tuntap

import (
	"errors"
	"fmt"
	"math"

	"github.com/tcwire/tcwire/link"
)

// ErrInvalid is wrapped by every error that Create, Open and Delete return
// for arguments they reject before asking the kernel.
var ErrInvalid = errors.New("invalid configuration")

// ErrNotTunTap is wrapped by the error that Open and Delete return when the
// named device exists but is not a tun/tap device (a veth, say).
var ErrNotTunTap = errors.New("not a tun/tap device")

// Config describes a tun/tap device for Create.
type Config struct {
	// Name of the device: at most 15 bytes (IFNAMSIZ-1), no '/', ':' or
	// white space, not "." or "..". Empty lets the kernel pick "tap%d"
	// ("tun%d" for IFF_TUN); a name containing "%d" lets it pick the number.
	// Tap.Name reports the result.
	Name string

	// Flags are the TUNSETIFF flags. Zero means DefaultFlags
	// (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR). A non-zero value is used as given,
	// so IFF_NO_PI or IFF_VNET_HDR is turned off by leaving it out, e.g.
	// IFF_TAP|IFF_NO_PI for a tap without virtio-net header. Exactly one
	// of IFF_TUN and IFF_TAP must be set; IFF_NO_PI, IFF_VNET_HDR,
	// IFF_MULTI_QUEUE, IFF_NO_CARRIER, IFF_NAPI, IFF_NAPI_FRAGS,
	// IFF_ONE_QUEUE (no effect, accepted for compatibility) and
	// IFF_TUN_EXCL (always added) may be. IFF_PERSIST is read-only (use
	// Persist) and other bits are rejected.
	Flags uint16

	// Queues is the number of queues, one file each. 0 means 1. More than 1
	// adds IFF_MULTI_QUEUE; a VMM handed the files must be told the same
	// count. At most MaxQueues.
	Queues int

	// Persist keeps the device after its files are closed (TUNSETPERSIST),
	// until Delete.
	Persist bool

	// Owner is the uid allowed to attach to the device without
	// CAP_NET_ADMIN (TUNSETOWNER). nil leaves it unset, as in package
	// tcwire's Options. With Go 1.26, new(1000) makes the pointer.
	Owner *int

	// Group is the gid allowed to attach to the device without
	// CAP_NET_ADMIN (TUNSETGROUP). nil leaves it unset.
	Group *int

	// VnetHdrSize sets the virtio-net header length (TUNSETVNETHDRSZ), e.g.
	// VirtioNetHdrMrgRxbufLen (12) for virtio 1.0. 0 keeps the kernel's
	// default, VirtioNetHdrLen (10). Needs IFF_VNET_HDR.
	VnetHdrSize int

	// NetNS is the network namespace to create the device in: a name under
	// /run/netns (as made by `ip netns add`) or, if it contains a slash, a
	// path such as /proc/PID/ns/net. Empty means the caller's namespace.
	NetNS string
}

// knownFlags are the TUNSETIFF flags Create accepts.
const knownFlags = IFF_TUN | IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS | IFF_NO_CARRIER |
	IFF_NO_PI | IFF_ONE_QUEUE | IFF_VNET_HDR | IFF_TUN_EXCL | IFF_MULTI_QUEUE

func invalid(format string, args ...any) error {
	return fmt.Errorf("tuntap: %w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// plan validates c and returns the TUNSETIFF flags (without IFF_TUN_EXCL)
// and the number of queues to open.
func (c *Config) plan() (flags uint16, queues int, err error) {
	if c.Name != "" {
		if err := validName(c.Name); err != nil {
			return 0, 0, err
		}
	}
	flags = c.Flags
	if flags == 0 {
		flags = DefaultFlags
	}
	if flags&IFF_PERSIST != 0 {
		return 0, 0, invalid("Flags %#04x: IFF_PERSIST is read-only; set Config.Persist", flags)
	}
	if q := flags & (IFF_ATTACH_QUEUE | IFF_DETACH_QUEUE); q != 0 {
		return 0, 0, invalid("Flags %#04x: IFF_ATTACH_QUEUE and IFF_DETACH_QUEUE are TUNSETQUEUE flags; use AttachQueue/DetachQueue", flags)
	}
	if unknown := flags &^ knownFlags; unknown != 0 {
		return 0, 0, invalid("Flags %#04x: unknown flags %#04x", flags, unknown)
	}
	if t := flags & (IFF_TUN | IFF_TAP); t != IFF_TUN && t != IFF_TAP {
		return 0, 0, invalid("Flags %#04x: exactly one of IFF_TUN and IFF_TAP is needed", flags)
	}
	flags &^= IFF_TUN_EXCL

	switch {
	case c.Queues < 0:
		return 0, 0, invalid("Queues %d is negative", c.Queues)
	case c.Queues > MaxQueues:
		return 0, 0, invalid("Queues %d is more than the kernel's maximum of %d", c.Queues, MaxQueues)
	case c.Queues == 0:
		queues = 1
	default:
		queues = c.Queues
	}
	if queues > 1 {
		flags |= IFF_MULTI_QUEUE
	}

	if err := validID("Owner", c.Owner); err != nil {
		return 0, 0, err
	}
	if err := validID("Group", c.Group); err != nil {
		return 0, 0, err
	}

	switch {
	case c.VnetHdrSize < 0:
		return 0, 0, invalid("VnetHdrSize %d is negative", c.VnetHdrSize)
	case c.VnetHdrSize > 0 && c.VnetHdrSize < VirtioNetHdrLen:
		return 0, 0, invalid("VnetHdrSize %d is less than sizeof(struct virtio_net_hdr) (%d)", c.VnetHdrSize, VirtioNetHdrLen)
	case c.VnetHdrSize > math.MaxInt32:
		return 0, 0, invalid("VnetHdrSize %d does not fit in a C int", c.VnetHdrSize)
	case c.VnetHdrSize > 0 && flags&IFF_VNET_HDR == 0:
		return 0, 0, invalid("VnetHdrSize %d needs IFF_VNET_HDR in Flags", c.VnetHdrSize)
	}

	if err := validateNetNS(c.NetNS); err != nil {
		return 0, 0, invalid("%v", err)
	}
	return flags, queues, nil
}

// validName is link.CheckName as an ErrInvalid.
func validName(name string) error {
	if err := link.CheckName(name); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// validID checks an Owner or Group: nil is unset, otherwise it must be
// a valid 32-bit id ((uid_t)-1 is the kernel's "invalid").
func validID(field string, id *int) error {
	switch {
	case id == nil:
		return nil
	case *id < 0:
		return invalid("%s %d is negative (nil means unset)", field, *id)
	case int64(*id) > MaxID:
		return invalid("%s %d is not a valid 32-bit id", field, *id)
	}
	return nil
}
