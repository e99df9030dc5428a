package link

import (
	"fmt"
	"net"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// NdmsgLen is sizeof(struct ndmsg).
const NdmsgLen = 12

// Ndmsg is struct ndmsg from <linux/neighbour.h>, the fixed header of
// RTM_*NEIGH messages (ARP/ND entries and, with family AF_BRIDGE, bridge FDB
// entries):
//
//	struct ndmsg {
//		__u8  ndm_family;
//		__u8  ndm_pad1;
//		__u16 ndm_pad2;
//		__s32 ndm_ifindex;
//		__u16 ndm_state; /* NUD_* */
//		__u8  ndm_flags; /* NTF_* */
//		__u8  ndm_type;
//	};
type Ndmsg struct {
	Family  uint8  // ndm_family: AF_BRIDGE for FDB entries
	Ifindex int32  // ndm_ifindex: the device (bridge port)
	State   uint16 // ndm_state: NUD_*
	Flags   uint8  // ndm_flags: NTF_*
	Type    uint8  // ndm_type: RTN_* for routes' neighbours, 0 here
}

// MarshalBinary encodes m in host order (NdmsgLen bytes).
func (m Ndmsg) MarshalBinary() ([]byte, error) { return m.Append(nil), nil }

// Append appends the encoding of m to b.
func (m Ndmsg) Append(b []byte) []byte {
	b = append(b, m.Family, 0, 0, 0)
	b = nl.AppendUint32(b, uint32(m.Ifindex))
	b = nl.AppendUint16(b, m.State)
	return append(b, m.Flags, m.Type)
}

// UnmarshalBinary decodes the first NdmsgLen bytes of b; pad fields are
// ignored.
func (m *Ndmsg) UnmarshalBinary(b []byte) error {
	if len(b) < NdmsgLen {
		return fmt.Errorf("link: ndmsg in %d bytes: %w", len(b), nl.ErrTruncated)
	}
	m.Family = b[0]
	m.Ifindex = int32(nl.Uint32(b[4:]))
	m.State = nl.Uint16(b[8:])
	m.Flags = b[10]
	m.Type = b[11]
	return nil
}

// fdbStaticState is the ndm_state `bridge fdb add … static` sends:
// NUD_NOARP|NUD_REACHABLE. The bridge reads NUD_NOARP without
// NUD_PERMANENT as "static" (never ages, forwards to the port); with
// NUD_PERMANENT it would be a "permanent" (local) entry whose frames the
// bridge delivers to itself instead.
const fdbStaticState = uapi.NUD_NOARP | uapi.NUD_REACHABLE

// fdbDelState is the ndm_state `bridge fdb del` sends (its default,
// NUD_NOARP|NUD_PERMANENT); the kernel ignores it when deleting.
const fdbDelState = uapi.NUD_NOARP | uapi.NUD_PERMANENT

// AddFDBRequest adds a static FDB entry sending frames for mac to the
// bridge port ifindex, as `bridge fdb add MAC dev NAME master static`:
// RTM_NEWNEIGH with NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE, ndmsg
// {AF_BRIDGE, ifindex, NUD_NOARP|NUD_REACHABLE, NTF_MASTER}, NDA_LLADDR.
func AddFDBRequest(ifindex int32, name string, mac net.HardwareAddr) nl.Request {
	return fdbRequest(uapi.RTM_NEWNEIGH, nl.FlagsCreate, Ndmsg{Family: uapi.AF_BRIDGE, Ifindex: ifindex, State: fdbStaticState, Flags: uapi.NTF_MASTER},
		mac, fmt.Sprintf("bridge fdb add %s dev %s master static", mac, name))
}

// fdbReplaceFlags is what `bridge fdb replace` sends:
// NLM_F_REQUEST|NLM_F_ACK|NLM_F_REPLACE|NLM_F_CREATE (0x0505).
const fdbReplaceFlags = nl.NLM_F_REQUEST | nl.NLM_F_ACK | nl.NLM_F_REPLACE | nl.NLM_F_CREATE

// ReplaceFDBRequest makes mac a static FDB entry on the bridge port
// ifindex, creating it or moving it from wherever it is, as
// `bridge fdb replace MAC dev NAME master static`: AddFDBRequest's message
// with NLM_F_REPLACE instead of NLM_F_EXCL. It also takes over a
// permanent (local) entry, such as the one a port's own MAC gets when the
// port joins the bridge, where AddFDBRequest fails with EEXIST.
func ReplaceFDBRequest(ifindex int32, name string, mac net.HardwareAddr) nl.Request {
	return fdbRequest(uapi.RTM_NEWNEIGH, fdbReplaceFlags, Ndmsg{Family: uapi.AF_BRIDGE, Ifindex: ifindex, State: fdbStaticState, Flags: uapi.NTF_MASTER},
		mac, fmt.Sprintf("bridge fdb replace %s dev %s master static", mac, name))
}

// DelFDBRequest deletes the FDB entry for mac on the bridge port ifindex,
// as `bridge fdb del MAC dev NAME master`: RTM_DELNEIGH with
// NLM_F_REQUEST|NLM_F_ACK.
func DelFDBRequest(ifindex int32, name string, mac net.HardwareAddr) nl.Request {
	return fdbRequest(uapi.RTM_DELNEIGH, nl.FlagsAck, Ndmsg{Family: uapi.AF_BRIDGE, Ifindex: ifindex, State: fdbDelState, Flags: uapi.NTF_MASTER},
		mac, fmt.Sprintf("bridge fdb del %s dev %s master", mac, name))
}

func fdbRequest(typ nl.HeaderType, flags nl.HeaderFlags, nd Ndmsg, mac net.HardwareAddr, cmd string) nl.Request {
	e := nl.NewEncoder(nd.Append(nil))
	e.Attr(uapi.NDA_LLADDR, mac)
	return nl.Request{Type: typ, Flags: flags, Data: e.Bytes(), Cmd: cmd}
}

// ListFDBRequest dumps the FDB entries of the bridge port ifindex, as
// `bridge fdb show dev NAME`: RTM_GETNEIGH with NLM_F_REQUEST|NLM_F_DUMP
// and a bare ndmsg {AF_BRIDGE, ifindex}.
func ListFDBRequest(ifindex int32, name string) nl.Request {
	return nl.Request{Type: uapi.RTM_GETNEIGH, Flags: nl.FlagsDump,
		Data: Ndmsg{Family: uapi.AF_BRIDGE, Ifindex: ifindex}.Append(nil), Cmd: "bridge fdb show dev " + name}
}

// FDBEntry is a bridge forwarding database entry (an RTM_NEWNEIGH message of
// family AF_BRIDGE).
type FDBEntry struct {
	Ifindex int32            // ndm_ifindex: the port
	State   uint16           // ndm_state, NUD_*
	Flags   uint8            // ndm_flags, NTF_* (NTF_MASTER, NTF_SELF …)
	MAC     net.HardwareAddr // NDA_LLADDR
	Master  int32            // NDA_MASTER: the bridge, 0 when absent
	VLAN    uint16           // NDA_VLAN, 0 when absent
}

// Static reports whether the entry is static (NUD_NOARP without
// NUD_PERMANENT), as `bridge fdb show` prints "static".
func (f *FDBEntry) Static() bool {
	return f.State&uapi.NUD_NOARP != 0 && f.State&uapi.NUD_PERMANENT == 0
}

// UnmarshalBinary decodes the body of an RTM_NEWNEIGH message: ndmsg and
// attributes, skipping those it does not know.
func (f *FDBEntry) UnmarshalBinary(b []byte) error {
	var nd Ndmsg
	if err := nd.UnmarshalBinary(b); err != nil {
		return err
	}
	*f = FDBEntry{Ifindex: nd.Ifindex, State: nd.State, Flags: nd.Flags}
	attrs, err := nl.ParseAttrs(b[NdmsgLen:])
	if err != nil {
		return fmt.Errorf("link: fdb entry on index %d: %w", nd.Ifindex, err)
	}
	for _, a := range attrs {
		switch a.Type {
		case uapi.NDA_LLADDR:
			f.MAC = hwaddr(a.Data)
		case uapi.NDA_MASTER:
			f.Master, err = int32Attr(a)
		case uapi.NDA_VLAN:
			f.VLAN, err = uint16Attr(a)
		}
		if err != nil {
			return fmt.Errorf("link: fdb entry on index %d: NDA attribute %d: %w", nd.Ifindex, a.Type, err)
		}
	}
	return nil
}

// ParseFDBEntry decodes an RTM_NEWNEIGH message of family AF_BRIDGE.
func ParseFDBEntry(m nl.Message) (*FDBEntry, error) {
	if m.Header.Type != uapi.RTM_NEWNEIGH {
		return nil, fmt.Errorf("link: message type %d is not RTM_NEWNEIGH", m.Header.Type)
	}
	if len(m.Data) > 0 && m.Data[0] != uapi.AF_BRIDGE {
		return nil, fmt.Errorf("link: neighbour family %d is not AF_BRIDGE", m.Data[0])
	}
	f := new(FDBEntry)
	if err := f.UnmarshalBinary(m.Data); err != nil {
		return nil, err
	}
	return f, nil
}

// AddFDB adds a static entry for mac on the bridge port called name.
func AddFDB(c *nl.Conn, name string, mac net.HardwareAddr) error {
	return set(c, name, func(i int32) nl.Request { return AddFDBRequest(i, name, mac) })
}

// ReplaceFDB makes mac a static entry on the bridge port called name,
// wherever the entry was before.
func ReplaceFDB(c *nl.Conn, name string, mac net.HardwareAddr) error {
	return set(c, name, func(i int32) nl.Request { return ReplaceFDBRequest(i, name, mac) })
}

// DelFDB deletes the entry for mac on the bridge port called name; a
// missing entry gives an error satisfying errors.Is(err, unix.ENOENT).
func DelFDB(c *nl.Conn, name string, mac net.HardwareAddr) error {
	return set(c, name, func(i int32) nl.Request { return DelFDBRequest(i, name, mac) })
}

// ListFDB returns the FDB entries of the bridge port called name, the
// bridge's (NTF_MASTER) and the port device's own (NTF_SELF) alike.
func ListFDB(c *nl.Conn, name string) ([]*FDBEntry, error) {
	l, err := Lookup(c, name)
	if err != nil {
		return nil, err
	}
	msgs, err := c.Dump(ListFDBRequest(l.Index, name))
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", name, err)
	}
	var out []*FDBEntry
	for _, m := range msgs {
		if m.Header.Type != uapi.RTM_NEWNEIGH {
			continue
		}
		f, err := ParseFDBEntry(m)
		if err != nil {
			return nil, fmt.Errorf("link %s: %w", name, err)
		}
		out = append(out, f)
	}
	return out, nil
}
