package link

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// KindTun is the IFLA_INFO_KIND of tun and tap devices: the tun driver
// reports both as "tun" and tells them apart in IFLA_TUN_TYPE.
const KindTun = "tun"

// TunInfo is a tun or tap device's IFLA_INFO_DATA: the IFLA_TUN_*
// attributes of <linux/if_link.h>, as the tun driver fills them
// (tun_fill_info in drivers/net/tun.c). The kernel always sends TYPE, PI,
// VNET_HDR, PERSIST and MULTI_QUEUE; OWNER and GROUP only when set,
// NUM_QUEUES and NUM_DISABLED_QUEUES only for a multi-queue device.
type TunInfo struct {
	// Type is IFLA_TUN_TYPE: unix.IFF_TUN (1) or unix.IFF_TAP (2).
	Type uint8
	// PI is IFLA_TUN_PI: frames carry the 4-byte packet information
	// header (the device was attached without IFF_NO_PI).
	PI bool
	// VnetHdr is IFLA_TUN_VNET_HDR: frames carry a virtio-net header
	// (IFF_VNET_HDR).
	VnetHdr bool
	// Persist is IFLA_TUN_PERSIST: the device outlives its last file
	// (TUNSETPERSIST).
	Persist bool
	// MultiQueue is IFLA_TUN_MULTI_QUEUE (IFF_MULTI_QUEUE).
	MultiQueue bool
	// Owner is IFLA_TUN_OWNER, the uid allowed to attach (TUNSETOWNER);
	// nil when the attribute is absent (no owner), as in tuntap.Config.
	Owner *int
	// Group is IFLA_TUN_GROUP (TUNSETGROUP); nil when absent.
	Group *int
	// NumQueues is IFLA_TUN_NUM_QUEUES: the files attached to a
	// multi-queue device.
	NumQueues uint32
	// NumDisabledQueues is IFLA_TUN_NUM_DISABLED_QUEUES: those of them
	// detached with IFF_DETACH_QUEUE.
	NumDisabledQueues uint32
}

// Tap reports whether the device is a tap (Ethernet frames) rather than a
// tun (IP packets).
func (ti *TunInfo) Tap() bool { return ti.Type == uapi.IFF_TAP }

// UnmarshalBinary decodes the attributes of a tun device's IFLA_INFO_DATA,
// skipping those it does not know.
func (ti *TunInfo) UnmarshalBinary(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	*ti = TunInfo{}
	flags := map[uint16]*bool{ // u8, nonzero for on
		uapi.IFLA_TUN_PI:          &ti.PI,
		uapi.IFLA_TUN_VNET_HDR:    &ti.VnetHdr,
		uapi.IFLA_TUN_PERSIST:     &ti.Persist,
		uapi.IFLA_TUN_MULTI_QUEUE: &ti.MultiQueue,
	}
	ids := map[uint16]**int{ // u32, nil when absent
		uapi.IFLA_TUN_OWNER: &ti.Owner,
		uapi.IFLA_TUN_GROUP: &ti.Group,
	}
	counts := map[uint16]*uint32{
		uapi.IFLA_TUN_NUM_QUEUES:          &ti.NumQueues,
		uapi.IFLA_TUN_NUM_DISABLED_QUEUES: &ti.NumDisabledQueues,
	}
	for _, a := range attrs {
		if a.Type == uapi.IFLA_TUN_TYPE {
			ti.Type, err = uint8Attr(a)
		} else if p := flags[a.Type]; p != nil {
			var v uint8
			v, err = uint8Attr(a)
			*p = v != 0
		} else if p := ids[a.Type]; p != nil {
			var v uint32
			v, err = a.Uint32()
			*p = new(int(v))
		} else if p := counts[a.Type]; p != nil {
			*p, err = a.Uint32()
		}
		if err != nil {
			return fmt.Errorf("IFLA_TUN attribute %d: %w", a.Type, err)
		}
	}
	return nil
}
