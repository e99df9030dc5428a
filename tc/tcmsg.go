package tc

import (
	"fmt"

	"github.com/tcwire/tcwire/nl"
)

// TcmsgLen is sizeof(struct tcmsg).
const TcmsgLen = 20

// Tcmsg is struct tcmsg from <linux/rtnetlink.h>, the fixed header of every
// qdisc, class and filter message:
//
//	struct tcmsg {
//		unsigned char  tcm_family;
//		unsigned char  tcm__pad1;
//		unsigned short tcm__pad2;
//		int            tcm_ifindex;
//		__u32          tcm_handle;
//		__u32          tcm_parent;
//		__u32          tcm_info;
//	};
//
// All fields are host order. For filters, tcm_info packs the priority in the
// upper 16 bits and the protocol, in network order, in the lower 16.
type Tcmsg struct {
	Family  uint8
	Ifindex int32
	Handle  uint32
	Parent  uint32
	Info    uint32
}

// MarshalBinary encodes t in host order.
func (t Tcmsg) MarshalBinary() ([]byte, error) { return t.Append(nil), nil }

// Append appends the encoding of t to b.
func (t Tcmsg) Append(b []byte) []byte {
	b = append(b, t.Family, 0, 0, 0)
	b = nl.AppendUint32(b, uint32(t.Ifindex))
	b = nl.AppendUint32(b, t.Handle)
	b = nl.AppendUint32(b, t.Parent)
	return nl.AppendUint32(b, t.Info)
}

// Pref is a filter's priority, tcm_info's upper 16 bits.
func (t Tcmsg) Pref() uint16 { return uint16(t.Info >> 16) }

// Protocol is a filter's protocol, tcm_info's lower 16 bits in network
// order.
func (t Tcmsg) Protocol() Protocol { return Protocol(htons(uint16(t.Info))) }

// UnmarshalBinary decodes the first TcmsgLen bytes of b.
func (t *Tcmsg) UnmarshalBinary(b []byte) error {
	if len(b) < TcmsgLen {
		return fmt.Errorf("tc: tcmsg in %d bytes: %w", len(b), nl.ErrTruncated)
	}
	t.Family = b[0]
	t.Ifindex = int32(nl.Uint32(b[4:]))
	t.Handle = nl.Uint32(b[8:])
	t.Parent = nl.Uint32(b[12:])
	t.Info = nl.Uint32(b[16:])
	return nil
}
