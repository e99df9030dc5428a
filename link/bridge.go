package link

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// BridgeInfo is the part of a bridge's IFLA_INFO_DATA tcwire reads.
type BridgeInfo struct {
	// GroupFwdMask is IFLA_BR_GROUP_FWD_MASK: bit N lets the bridge
	// forward frames sent to the link-local group 01:80:c2:00:00:0N, which
	// it otherwise keeps to itself.
	GroupFwdMask  uint16
	STPState      uint32 // IFLA_BR_STP_STATE
	VLANFiltering bool   // IFLA_BR_VLAN_FILTERING
	AgeingTime    uint32 // IFLA_BR_AGEING_TIME, in centiseconds
}

// UnmarshalBinary decodes the attributes of a bridge's IFLA_INFO_DATA,
// skipping those it does not know.
func (bi *BridgeInfo) UnmarshalBinary(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	*bi = BridgeInfo{}
	for _, a := range attrs {
		switch a.Type {
		case uapi.IFLA_BR_GROUP_FWD_MASK:
			bi.GroupFwdMask, err = uint16Attr(a)
		case uapi.IFLA_BR_STP_STATE:
			bi.STPState, err = a.Uint32()
		case uapi.IFLA_BR_VLAN_FILTERING:
			var v uint8
			v, err = uint8Attr(a)
			bi.VLANFiltering = v != 0
		case uapi.IFLA_BR_AGEING_TIME:
			bi.AgeingTime, err = a.Uint32()
		}
		if err != nil {
			return fmt.Errorf("IFLA_BR attribute %d: %w", a.Type, err)
		}
	}
	return nil
}

// AddBridgeRequest creates a bridge, as `ip link add NAME type bridge`:
// IFLA_IFNAME, then IFLA_LINKINFO holding only IFLA_INFO_KIND "bridge".
func AddBridgeRequest(name string) nl.Request {
	return createRequest("ip link add "+name+" type bridge", func(e *nl.Encoder) {
		e.String(uapi.IFLA_IFNAME, name)
		e.Nest(uapi.IFLA_LINKINFO, func(e *nl.Encoder) {
			e.Attr(uapi.IFLA_INFO_KIND, []byte(KindBridge))
		})
	})
}

// AddBridge creates a bridge called name, down, with the kernel's defaults.
func AddBridge(c *nl.Conn, name string) error {
	if err := c.Exec(AddBridgeRequest(name)); err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	return nil
}

// SetGroupFwdMaskRequest sets a bridge's group_fwd_mask, as
// `ip link set dev NAME type bridge group_fwd_mask MASK`: RTM_NEWLINK
// (NLM_F_REQUEST|NLM_F_ACK) with IFLA_LINKINFO holding IFLA_INFO_KIND
// "bridge" and IFLA_INFO_DATA/IFLA_BR_GROUP_FWD_MASK (u16).
//
// The kernel refuses (EINVAL) bits 0, 1 and 2: 01:80:c2:00:00:00 (STP),
// :01 (pause frames) and :02 (slow protocols: LACP, marker, OAM). A Linux
// bridge never forwards those, which is one reason to wire VMs with tc.
func SetGroupFwdMaskRequest(ifindex int32, name string, mask uint16) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex}, fmt.Sprintf("ip link set dev %s type bridge group_fwd_mask %#x", name, mask),
		func(e *nl.Encoder) {
			e.Nest(uapi.IFLA_LINKINFO, func(e *nl.Encoder) {
				e.Attr(uapi.IFLA_INFO_KIND, []byte(KindBridge))
				e.Nest(uapi.IFLA_INFO_DATA, func(e *nl.Encoder) {
					e.Uint16(uapi.IFLA_BR_GROUP_FWD_MASK, mask)
				})
			})
		})
}

// SetGroupFwdMask sets the group_fwd_mask of the bridge called name.
func SetGroupFwdMask(c *nl.Conn, name string, mask uint16) error {
	return set(c, name, func(i int32) nl.Request { return SetGroupFwdMaskRequest(i, name, mask) })
}
