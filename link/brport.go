package link

import (
	"fmt"
	"strings"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// BridgePort is the part of a bridge port's state tcwire reads, from
// IFLA_INFO_SLAVE_DATA (kind "bridge") or from IFLA_PROTINFO in an
// AF_BRIDGE message. Both carry IFLA_BRPORT_* attributes.
type BridgePort struct {
	State          uint8 // IFLA_BRPORT_STATE: BR_STATE_* (3 forwarding)
	Learning       bool  // IFLA_BRPORT_LEARNING
	UnicastFlood   bool  // IFLA_BRPORT_UNICAST_FLOOD
	MulticastFlood bool  // IFLA_BRPORT_MCAST_FLOOD
	BroadcastFlood bool  // IFLA_BRPORT_BCAST_FLOOD
}

// UnmarshalBinary decodes IFLA_BRPORT_* attributes, skipping those it does
// not know.
func (p *BridgePort) UnmarshalBinary(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	*p = BridgePort{}
	for _, a := range attrs {
		var v uint8
		switch a.Type {
		case uapi.IFLA_BRPORT_STATE, uapi.IFLA_BRPORT_LEARNING, uapi.IFLA_BRPORT_UNICAST_FLOOD,
			uapi.IFLA_BRPORT_MCAST_FLOOD, uapi.IFLA_BRPORT_BCAST_FLOOD:
			if v, err = uint8Attr(a); err != nil {
				return fmt.Errorf("IFLA_BRPORT attribute %d: %w", a.Type, err)
			}
		}
		switch a.Type {
		case uapi.IFLA_BRPORT_STATE:
			p.State = v
		case uapi.IFLA_BRPORT_LEARNING:
			p.Learning = v != 0
		case uapi.IFLA_BRPORT_UNICAST_FLOOD:
			p.UnicastFlood = v != 0
		case uapi.IFLA_BRPORT_MCAST_FLOOD:
			p.MulticastFlood = v != 0
		case uapi.IFLA_BRPORT_BCAST_FLOOD:
			p.BroadcastFlood = v != 0
		}
	}
	return nil
}

// PortFlags are bridge port settings to change; nil leaves one as it is.
type PortFlags struct {
	// Learning is IFLA_BRPORT_LEARNING: learn source addresses seen on the
	// port (`bridge link set … learning on|off`).
	Learning *bool
	// UnicastFlood is IFLA_BRPORT_UNICAST_FLOOD: send frames for unknown
	// unicast destinations to the port (`bridge link set … flood on|off`).
	UnicastFlood *bool
}

// BridgePortRequest changes bridge port flags, as
// `bridge link set dev NAME [flood on|off] [learning on|off]`:
// RTM_SETLINK (NLM_F_REQUEST|NLM_F_ACK), ifinfomsg with ifi_family
// AF_BRIDGE and the port's index, then IFLA_PROTINFO|NLA_F_NESTED holding
// IFLA_BRPORT_UNICAST_FLOOD and IFLA_BRPORT_LEARNING as u8, in that order
// (the order `bridge` writes them whatever the command line's order).
func BridgePortRequest(ifindex int32, name string, f PortFlags) nl.Request {
	cmd := []string{"bridge link set dev", name}
	if f.UnicastFlood != nil {
		cmd = append(cmd, "flood", onOff(*f.UnicastFlood))
	}
	if f.Learning != nil {
		cmd = append(cmd, "learning", onOff(*f.Learning))
	}
	e := nl.NewEncoder(Ifinfomsg{Family: uapi.AF_BRIDGE, Index: ifindex}.Append(nil))
	e.Nest(uapi.IFLA_PROTINFO|nl.NLA_F_NESTED, func(e *nl.Encoder) {
		if f.UnicastFlood != nil {
			e.Uint8(uapi.IFLA_BRPORT_UNICAST_FLOOD, b2u8(*f.UnicastFlood))
		}
		if f.Learning != nil {
			e.Uint8(uapi.IFLA_BRPORT_LEARNING, b2u8(*f.Learning))
		}
	})
	return nl.Request{Type: uapi.RTM_SETLINK, Flags: nl.FlagsAck, Data: e.Bytes(), Cmd: strings.Join(cmd, " ")}
}

// SetBridgePort changes the flags of the bridge port called name.
func SetBridgePort(c *nl.Conn, name string, f PortFlags) error {
	return set(c, name, func(i int32) nl.Request { return BridgePortRequest(i, name, f) })
}

// SetLearningRequest turns address learning on a bridge port on or off, as
// `bridge link set dev NAME learning on|off` (see BridgePortRequest).
func SetLearningRequest(ifindex int32, name string, on bool) nl.Request {
	return BridgePortRequest(ifindex, name, PortFlags{Learning: &on})
}

// SetUnicastFloodRequest turns unknown-unicast flooding to a bridge port on
// or off, as `bridge link set dev NAME flood on|off` (see
// BridgePortRequest).
func SetUnicastFloodRequest(ifindex int32, name string, on bool) nl.Request {
	return BridgePortRequest(ifindex, name, PortFlags{UnicastFlood: &on})
}

// SetLearning turns address learning on the bridge port called name on or
// off.
func SetLearning(c *nl.Conn, name string, on bool) error {
	return set(c, name, func(i int32) nl.Request { return SetLearningRequest(i, name, on) })
}

// SetUnicastFlood turns unknown-unicast flooding to the bridge port called
// name on or off.
func SetUnicastFlood(c *nl.Conn, name string, on bool) error {
	return set(c, name, func(i int32) nl.Request { return SetUnicastFloodRequest(i, name, on) })
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
