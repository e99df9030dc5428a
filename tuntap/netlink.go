package tuntap

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// linkInfo is what Open and Delete need to know about an existing device
// before attaching to it.
//
// It comes from RTM_GETLINK rather than /sys/class/net/NAME/tun_flags
// because sysfs shows the devices of the namespace it was mounted in, not
// those of the thread that reads it: after setns, /sys/class/net still lists
// the original namespace's devices.
type linkInfo struct {
	index int
	name  string
	kind  string // IFLA_INFO_KIND: "tun" for tun and tap devices

	// IFLA_TUN_* from IFLA_INFO_DATA; only meaningful when kind == "tun".
	tunType    uint8 // IFF_TUN or IFF_TAP
	pi         bool  // packet information on, i.e. IFF_NO_PI off
	vnetHdr    bool
	persist    bool
	multiQueue bool
	owner      int64 // -1 when unset
	group      int64 // -1 when unset
	numQueues  uint32
	numDisable uint32
}

// flags returns the TUNSETIFF flags that attach to the device without
// changing it.
func (li *linkInfo) flags() uint16 {
	f := uint16(li.tunType)
	if !li.pi {
		f |= IFF_NO_PI
	}
	if li.vnetHdr {
		f |= IFF_VNET_HDR
	}
	if li.multiQueue {
		f |= IFF_MULTI_QUEUE
	}
	return f
}

// nlaTypeMask strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from an attribute
// type (NLA_TYPE_MASK in <linux/netlink.h>; not in x/sys/unix).
const nlaTypeMask = ^uint16(unix.NLA_F_NESTED | 0x4000)

func nlAlign(n int) int { return (n + unix.NLA_ALIGNTO - 1) &^ (unix.NLA_ALIGNTO - 1) }

// getLink asks rtnetlink, in the calling thread's network namespace, about
// the device called name. A missing device gives an error wrapping
// unix.ENODEV.
func getLink(name string) (*linkInfo, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink bind: %w", err)
	}

	// nlmsghdr + ifinfomsg (all zero: look up by name) + IFLA_IFNAME.
	attrLen := unix.SizeofRtAttr + len(name) + 1
	msgLen := unix.SizeofNlMsghdr + unix.SizeofIfInfomsg + nlAlign(attrLen)
	b := make([]byte, msgLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(msgLen))
	ne.PutUint16(b[4:], unix.RTM_GETLINK)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST)
	const seq = 1
	ne.PutUint32(b[8:], seq)
	a := b[unix.SizeofNlMsghdr+unix.SizeofIfInfomsg:]
	ne.PutUint16(a[0:], uint16(attrLen))
	ne.PutUint16(a[2:], unix.IFLA_IFNAME)
	copy(a[unix.SizeofRtAttr:], name)
	if err := unix.Sendto(fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink RTM_GETLINK: %w", err)
	}

	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("netlink RTM_GETLINK: %w", err)
		}
		for msg := buf[:n]; len(msg) >= unix.SizeofNlMsghdr; {
			l := int(ne.Uint32(msg[0:]))
			if l < unix.SizeofNlMsghdr || l > len(msg) {
				return nil, fmt.Errorf("netlink RTM_GETLINK: malformed reply")
			}
			typ, mseq := ne.Uint16(msg[4:]), ne.Uint32(msg[8:])
			body := msg[unix.SizeofNlMsghdr:l]
			msg = msg[min(nlAlign(l), len(msg)):]
			if mseq != seq {
				continue
			}
			switch typ {
			case unix.NLMSG_ERROR:
				if len(body) < 4 {
					return nil, fmt.Errorf("netlink RTM_GETLINK: short error message")
				}
				if e := int32(ne.Uint32(body)); e != 0 {
					return nil, syscall.Errno(-e)
				}
				return nil, fmt.Errorf("netlink RTM_GETLINK: acknowledged without a link")
			case unix.RTM_NEWLINK:
				return parseLink(body)
			}
		}
	}
}

// parseLink decodes an RTM_NEWLINK body (ifinfomsg and attributes).
func parseLink(b []byte) (*linkInfo, error) {
	if len(b) < unix.SizeofIfInfomsg {
		return nil, fmt.Errorf("netlink RTM_NEWLINK: short message")
	}
	ne := binary.NativeEndian
	li := &linkInfo{index: int(int32(ne.Uint32(b[4:]))), owner: -1, group: -1}
	for typ, val := range attrs(b[unix.SizeofIfInfomsg:]) {
		switch typ {
		case unix.IFLA_IFNAME:
			li.name = cString(val)
		case unix.IFLA_LINKINFO:
			for t, v := range attrs(val) {
				switch t {
				case unix.IFLA_INFO_KIND:
					li.kind = cString(v)
				case unix.IFLA_INFO_DATA:
					parseTunData(li, v)
				}
			}
		}
	}
	return li, nil
}

// parseTunData decodes the tun driver's IFLA_INFO_DATA (IFLA_TUN_*).
func parseTunData(li *linkInfo, b []byte) {
	ne := binary.NativeEndian
	u8 := func(v []byte) uint8 {
		if len(v) < 1 {
			return 0
		}
		return v[0]
	}
	u32 := func(v []byte) uint32 {
		if len(v) < 4 {
			return 0
		}
		return ne.Uint32(v)
	}
	for t, v := range attrs(b) {
		switch t {
		case unix.IFLA_TUN_TYPE:
			li.tunType = u8(v)
		case unix.IFLA_TUN_PI:
			li.pi = u8(v) != 0
		case unix.IFLA_TUN_VNET_HDR:
			li.vnetHdr = u8(v) != 0
		case unix.IFLA_TUN_PERSIST:
			li.persist = u8(v) != 0
		case unix.IFLA_TUN_MULTI_QUEUE:
			li.multiQueue = u8(v) != 0
		case unix.IFLA_TUN_OWNER:
			li.owner = int64(u32(v))
		case unix.IFLA_TUN_GROUP:
			li.group = int64(u32(v))
		case unix.IFLA_TUN_NUM_QUEUES:
			li.numQueues = u32(v)
		case unix.IFLA_TUN_NUM_DISABLED_QUEUES:
			li.numDisable = u32(v)
		}
	}
}

// attrs iterates over netlink attributes, stopping at the first malformed one.
func attrs(b []byte) func(yield func(uint16, []byte) bool) {
	return func(yield func(uint16, []byte) bool) {
		ne := binary.NativeEndian
		for len(b) >= unix.SizeofRtAttr {
			l := int(ne.Uint16(b[0:]))
			if l < unix.SizeofRtAttr || l > len(b) {
				return
			}
			if !yield(ne.Uint16(b[2:])&nlaTypeMask, b[unix.SizeofRtAttr:l]) {
				return
			}
			b = b[min(nlAlign(l), len(b)):]
		}
	}
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
