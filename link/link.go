package link

import (
	"errors"
	"fmt"
	"net"

	"github.com/tcwire/tcwire/internal/enum"
	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// IfinfomsgLen is sizeof(struct ifinfomsg).
const IfinfomsgLen = 16

// Ifinfomsg is struct ifinfomsg from <linux/rtnetlink.h>, the fixed header of
// every RTM_*LINK message:
//
//	struct ifinfomsg {
//		unsigned char  ifi_family;
//		unsigned char  __ifi_pad;
//		unsigned short ifi_type;   /* ARPHRD_* */
//		int            ifi_index;
//		unsigned       ifi_flags;  /* IFF_* */
//		unsigned       ifi_change; /* IFF_* change mask */
//	};
//
// All fields are host order. In a request, Change selects which bits of Flags
// the kernel applies.
type Ifinfomsg struct {
	Family uint8  // ifi_family: AF_UNSPEC, AF_BRIDGE …
	Type   uint16 // ifi_type: ARPHRD_*, zero in requests
	Index  int32  // ifi_index
	Flags  uint32 // ifi_flags: IFF_*
	Change uint32 // ifi_change: the IFF_* bits of Flags to apply
}

// MarshalBinary encodes m in host order (IfinfomsgLen bytes).
func (m Ifinfomsg) MarshalBinary() ([]byte, error) { return m.Append(nil), nil }

// Append appends the encoding of m to b.
func (m Ifinfomsg) Append(b []byte) []byte {
	b = append(b, m.Family, 0)
	b = nl.AppendUint16(b, m.Type)
	b = nl.AppendUint32(b, uint32(m.Index))
	b = nl.AppendUint32(b, m.Flags)
	return nl.AppendUint32(b, m.Change)
}

// UnmarshalBinary decodes the first IfinfomsgLen bytes of b; the pad byte is
// ignored.
func (m *Ifinfomsg) UnmarshalBinary(b []byte) error {
	if len(b) < IfinfomsgLen {
		return fmt.Errorf("link: ifinfomsg in %d bytes: %w", len(b), nl.ErrTruncated)
	}
	m.Family = b[0]
	m.Type = nl.Uint16(b[2:])
	m.Index = int32(nl.Uint32(b[4:]))
	m.Flags = nl.Uint32(b[8:])
	m.Change = nl.Uint32(b[12:])
	return nil
}

// OperState is a link's RFC 2863 operational state (IFLA_OPERSTATE,
// IF_OPER_*).
type OperState uint8

// String returns the state as `ip link` prints it ("UP", "DOWN" …).
func (s OperState) String() string { return enum.Name(operStateNames, s, "OperState(%d)") }

var operStateNames = map[OperState]string{
	IF_OPER_UNKNOWN: "UNKNOWN", IF_OPER_NOTPRESENT: "NOTPRESENT", IF_OPER_DOWN: "DOWN",
	IF_OPER_LOWERLAYERDOWN: "LOWERLAYERDOWN", IF_OPER_TESTING: "TESTING", IF_OPER_DORMANT: "DORMANT",
	IF_OPER_UP: "UP",
}

// Link is a network device as an RTM_NEWLINK message describes it. Fields
// whose attribute was absent keep their zero value, except NetNSID, which is
// -1 (NETNSA_NSID_NOT_ASSIGNED) when the message has no IFLA_LINK_NETNSID.
type Link struct {
	Family uint8  // ifi_family: AF_UNSPEC, or AF_BRIDGE in a bridge port dump
	Index  int32  // ifi_index
	Type   uint16 // ifi_type, ARPHRD_*
	Flags  uint32 // ifi_flags, IFF_* (IFF_UP, IFF_LOWER_UP …)

	Name      string           // IFLA_IFNAME
	AltNames  []string         // IFLA_PROP_LIST/IFLA_ALT_IFNAME
	Alias     string           // IFLA_IFALIAS
	MTU       uint32           // IFLA_MTU
	MinMTU    uint32           // IFLA_MIN_MTU
	MaxMTU    uint32           // IFLA_MAX_MTU
	MAC       net.HardwareAddr // IFLA_ADDRESS
	Broadcast net.HardwareAddr // IFLA_BROADCAST
	PermMAC   net.HardwareAddr // IFLA_PERM_ADDRESS
	OperState OperState        // IFLA_OPERSTATE
	Carrier   bool             // IFLA_CARRIER
	Qdisc     string           // IFLA_QDISC

	TxQueueLen  uint32 // IFLA_TXQLEN
	NumTxQueues uint32 // IFLA_NUM_TX_QUEUES
	NumRxQueues uint32 // IFLA_NUM_RX_QUEUES
	Group       uint32 // IFLA_GROUP
	Promiscuity uint32 // IFLA_PROMISCUITY
	// Allmulti counts the holders of all-multicast mode (IFLA_ALLMULTI):
	// `ip link set … allmulticast on` is one (IFF_ALLMULTI in Flags), a
	// bridge or multicast router others.
	Allmulti uint32

	// Master is the index of the device's master (a bridge …), 0 for none.
	Master int32 // IFLA_MASTER
	// ParentIndex is IFLA_LINK: a veth's peer, a macvlan's lower device.
	// When NetNSID is set it is an index in that other namespace.
	ParentIndex int32 // IFLA_LINK
	// NetNSID is the id, in this namespace, of the namespace ParentIndex
	// lives in (IFLA_LINK_NETNSID), or -1.
	NetNSID int32

	// Kind is IFLA_LINKINFO/IFLA_INFO_KIND: "veth", "bridge", "macvtap" …;
	// empty for devices without rtnl_link_ops (lo, physical NICs, taps
	// report "tun").
	Kind string
	// PortKind is IFLA_INFO_SLAVE_KIND: the kind of the master ("bridge")
	// when the device is enslaved.
	PortKind string
	// Macvlan is IFLA_INFO_DATA of a macvlan or macvtap.
	Macvlan *MacvlanInfo
	// Bridge is IFLA_INFO_DATA of a bridge.
	Bridge *BridgeInfo
	// Tun is IFLA_INFO_DATA of a tun or tap device (Kind "tun").
	Tun *TunInfo
	// Port is the bridge port state: IFLA_INFO_SLAVE_DATA when PortKind is
	// "bridge", or IFLA_PROTINFO in an AF_BRIDGE message.
	Port *BridgePort
	// Inet6 is IFLA_AF_SPEC's AF_INET6 nest (the address generation
	// mode …), nil when the message has none.
	Inet6 *Inet6Info
}

// Up reports whether the device is administratively up (IFF_UP).
func (l *Link) Up() bool { return l.Flags&uapi.IFF_UP != 0 }

// ParseLink decodes an RTM_NEWLINK message, as received for a GETLINK
// request or a dump.
func ParseLink(m nl.Message) (*Link, error) {
	if m.Header.Type != uapi.RTM_NEWLINK {
		return nil, fmt.Errorf("link: message type %d is not RTM_NEWLINK", m.Header.Type)
	}
	l := new(Link)
	if err := l.UnmarshalBinary(m.Data); err != nil {
		return nil, err
	}
	return l, nil
}

// UnmarshalBinary decodes the body of an RTM_NEWLINK message: a struct
// ifinfomsg and the attributes after it. Attributes it does not know are
// skipped; a known attribute too short for its type is an error.
func (l *Link) UnmarshalBinary(b []byte) error {
	var ifi Ifinfomsg
	if err := ifi.UnmarshalBinary(b); err != nil {
		return err
	}
	*l = Link{Family: ifi.Family, Index: ifi.Index, Type: ifi.Type, Flags: ifi.Flags, NetNSID: -1}
	attrs, err := nl.ParseAttrs(b[IfinfomsgLen:])
	if err != nil {
		return l.errorf("%w", err)
	}
	for _, a := range attrs {
		if err := l.attr(a); err != nil {
			return l.errorf("%s: %w", attrName(a.Type), err)
		}
	}
	return nil
}

func (l *Link) errorf(format string, args ...any) error {
	if l.Name != "" {
		return fmt.Errorf("link: decoding %s (index %d): "+format, append([]any{l.Name, l.Index}, args...)...)
	}
	return fmt.Errorf("link: decoding index %d: "+format, append([]any{l.Index}, args...)...)
}

// attrName names a top-level IFLA_* attribute for decode errors: only those
// attr decodes can fail. (linkschema names them all, for annotated dumps,
// but an embedder that decodes links need not link that.)
func attrName(t uint16) string {
	if s, ok := decodedAttrs[t]; ok {
		return s
	}
	return fmt.Sprintf("attribute type %d", t)
}

var decodedAttrs = map[uint16]string{
	uapi.IFLA_MTU: "IFLA_MTU", uapi.IFLA_MIN_MTU: "IFLA_MIN_MTU", uapi.IFLA_MAX_MTU: "IFLA_MAX_MTU",
	uapi.IFLA_TXQLEN: "IFLA_TXQLEN", uapi.IFLA_NUM_TX_QUEUES: "IFLA_NUM_TX_QUEUES",
	uapi.IFLA_NUM_RX_QUEUES: "IFLA_NUM_RX_QUEUES", uapi.IFLA_GROUP: "IFLA_GROUP",
	uapi.IFLA_PROMISCUITY: "IFLA_PROMISCUITY", uapi.IFLA_ALLMULTI: "IFLA_ALLMULTI",
	uapi.IFLA_MASTER: "IFLA_MASTER", uapi.IFLA_LINK: "IFLA_LINK", uapi.IFLA_LINK_NETNSID: "IFLA_LINK_NETNSID",
	uapi.IFLA_OPERSTATE: "IFLA_OPERSTATE", uapi.IFLA_CARRIER: "IFLA_CARRIER",
	uapi.IFLA_PROP_LIST: "IFLA_PROP_LIST", uapi.IFLA_LINKINFO: "IFLA_LINKINFO",
	uapi.IFLA_AF_SPEC: "IFLA_AF_SPEC", uapi.IFLA_PROTINFO: "IFLA_PROTINFO",
}

func (l *Link) attr(a nl.Attr) error {
	var err error
	switch a.Type {
	case uapi.IFLA_IFNAME:
		l.Name = a.String()
	case uapi.IFLA_IFALIAS:
		l.Alias = a.String()
	case uapi.IFLA_QDISC:
		l.Qdisc = a.String()
	case uapi.IFLA_ADDRESS:
		l.MAC = hwaddr(a.Data)
	case uapi.IFLA_BROADCAST:
		l.Broadcast = hwaddr(a.Data)
	case uapi.IFLA_PERM_ADDRESS:
		l.PermMAC = hwaddr(a.Data)
	case uapi.IFLA_MTU:
		l.MTU, err = a.Uint32()
	case uapi.IFLA_MIN_MTU:
		l.MinMTU, err = a.Uint32()
	case uapi.IFLA_MAX_MTU:
		l.MaxMTU, err = a.Uint32()
	case uapi.IFLA_TXQLEN:
		l.TxQueueLen, err = a.Uint32()
	case uapi.IFLA_NUM_TX_QUEUES:
		l.NumTxQueues, err = a.Uint32()
	case uapi.IFLA_NUM_RX_QUEUES:
		l.NumRxQueues, err = a.Uint32()
	case uapi.IFLA_GROUP:
		l.Group, err = a.Uint32()
	case uapi.IFLA_PROMISCUITY:
		l.Promiscuity, err = a.Uint32()
	case uapi.IFLA_ALLMULTI:
		l.Allmulti, err = a.Uint32()
	case uapi.IFLA_MASTER:
		l.Master, err = int32Attr(a)
	case uapi.IFLA_LINK:
		l.ParentIndex, err = int32Attr(a)
	case uapi.IFLA_LINK_NETNSID:
		l.NetNSID, err = int32Attr(a)
	case uapi.IFLA_OPERSTATE:
		var v uint8
		v, err = uint8Attr(a)
		l.OperState = OperState(v)
	case uapi.IFLA_CARRIER:
		var v uint8
		v, err = uint8Attr(a)
		l.Carrier = v != 0
	case uapi.IFLA_PROP_LIST:
		err = l.propList(a.Data)
	case uapi.IFLA_LINKINFO:
		err = l.linkInfo(a.Data)
	case uapi.IFLA_AF_SPEC:
		err = l.afSpec(a.Data)
	case uapi.IFLA_PROTINFO:
		// Only an AF_BRIDGE message carries bridge port attributes here;
		// in AF_INET6 messages the nest means something else.
		if l.Family == uapi.AF_BRIDGE {
			l.Port = new(BridgePort)
			err = l.Port.UnmarshalBinary(a.Data)
		}
	}
	return err
}

func (l *Link) propList(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		if a.Type == uapi.IFLA_ALT_IFNAME {
			l.AltNames = append(l.AltNames, a.String())
		}
	}
	return nil
}

// linkInfo decodes IFLA_LINKINFO. IFLA_INFO_DATA is decoded after the loop,
// since its layout depends on IFLA_INFO_KIND, which the kernel writes first
// but a message need not.
func (l *Link) linkInfo(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	var data, slaveData []byte
	for _, a := range attrs {
		switch a.Type {
		case uapi.IFLA_INFO_KIND:
			l.Kind = a.String()
		case uapi.IFLA_INFO_SLAVE_KIND:
			l.PortKind = a.String()
		case uapi.IFLA_INFO_DATA:
			data = a.Data
		case uapi.IFLA_INFO_SLAVE_DATA:
			slaveData = a.Data
		}
	}
	if data != nil {
		switch l.Kind {
		case KindMacvlan, KindMacvtap:
			l.Macvlan = new(MacvlanInfo)
			if err := l.Macvlan.UnmarshalBinary(data); err != nil {
				return fmt.Errorf("IFLA_INFO_DATA (%s): %w", l.Kind, err)
			}
		case KindBridge:
			l.Bridge = new(BridgeInfo)
			if err := l.Bridge.UnmarshalBinary(data); err != nil {
				return fmt.Errorf("IFLA_INFO_DATA (%s): %w", l.Kind, err)
			}
		case KindTun:
			l.Tun = new(TunInfo)
			if err := l.Tun.UnmarshalBinary(data); err != nil {
				return fmt.Errorf("IFLA_INFO_DATA (%s): %w", l.Kind, err)
			}
		}
	}
	if slaveData != nil && l.PortKind == KindBridge {
		l.Port = new(BridgePort)
		if err := l.Port.UnmarshalBinary(slaveData); err != nil {
			return fmt.Errorf("IFLA_INFO_SLAVE_DATA (%s): %w", l.PortKind, err)
		}
	}
	return nil
}

// hwaddr copies an address out of the parsed buffer, so a Link does not
// keep the whole message alive.
func hwaddr(b []byte) net.HardwareAddr {
	return append(net.HardwareAddr(nil), b...)
}

func int32Attr(a nl.Attr) (int32, error) {
	v, err := a.Uint32()
	return int32(v), err
}

func uint8Attr(a nl.Attr) (uint8, error) {
	if len(a.Data) < 1 {
		return 0, fmt.Errorf("u8 in 0 bytes: %w", nl.ErrTruncated)
	}
	return a.Data[0], nil
}

func uint16Attr(a nl.Attr) (uint16, error) {
	if len(a.Data) < 2 {
		return 0, fmt.Errorf("u16 in %d bytes: %w", len(a.Data), nl.ErrTruncated)
	}
	return nl.Uint16(a.Data), nil
}

// errNotLink reports a reply that is not what a GETLINK returns.
var errNotLink = errors.New("reply is not one RTM_NEWLINK message")
