package nl

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/josharian/native"
)

// Attribute type flags from <linux/netlink.h>.
const (
	NLA_F_NESTED        = 0x8000
	NLA_F_NET_BYTEORDER = 0x4000
	NLA_TYPE_MASK       = ^uint16(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
)

// NlaHdrLen is sizeof(struct nlattr): nla_len u16, nla_type u16.
const NlaHdrLen = 4

// Align rounds n up to the 4-byte netlink alignment (NLA_ALIGN, NLMSG_ALIGN).
func Align(n int) int { return (n + 3) &^ 3 }

// Encoder appends netlink attributes to a buffer the way iproute2's
// addattr_l does: nla_len counts the payload without padding, and the
// padding that follows is zeroed.
type Encoder struct {
	b []byte
}

// NewEncoder returns an Encoder that appends to b (which may be nil), so a
// message header can be written first and the attributes after it.
func NewEncoder(b []byte) *Encoder { return &Encoder{b: b} }

// Bytes returns the encoded buffer.
func (e *Encoder) Bytes() []byte { return e.b }

// Attr appends one attribute with a raw payload. typ may carry NLA_F_* flags.
func (e *Encoder) Attr(typ uint16, payload []byte) {
	start := e.header(typ)
	e.b = append(e.b, payload...)
	e.finish(start)
}

// String appends a NUL-terminated string attribute (NLA_NUL_STRING), as tc
// writes TCA_KIND.
func (e *Encoder) String(typ uint16, s string) {
	start := e.header(typ)
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
	e.finish(start)
}

// Uint8 appends a u8 attribute.
func (e *Encoder) Uint8(typ uint16, v uint8) { e.Attr(typ, []byte{v}) }

// Uint16 appends a host-order u16 attribute.
func (e *Encoder) Uint16(typ uint16, v uint16) {
	start := e.header(typ)
	e.b = host.AppendUint16(e.b, v)
	e.finish(start)
}

// Uint32 appends a host-order u32 attribute.
func (e *Encoder) Uint32(typ uint16, v uint32) {
	start := e.header(typ)
	e.b = host.AppendUint32(e.b, v)
	e.finish(start)
}

// Nest appends a nested attribute whose payload fn writes. The type is used
// as given: pass typ|NLA_F_NESTED where the kernel (or tc) flags the nest.
func (e *Encoder) Nest(typ uint16, fn func(*Encoder)) {
	start := e.header(typ)
	fn(e)
	e.finish(start)
}

func (e *Encoder) header(typ uint16) int {
	start := len(e.b)
	e.b = append(e.b, 0, 0, 0, 0)
	host.PutUint16(e.b[start+2:], typ)
	return start
}

// finish writes nla_len for the attribute at start and pads to alignment.
func (e *Encoder) finish(start int) {
	n := len(e.b) - start
	host.PutUint16(e.b[start:], uint16(n))
	for i := n; i < Align(n); i++ {
		e.b = append(e.b, 0)
	}
}

// Attr is one decoded attribute. Data aliases the parsed buffer.
type Attr struct {
	Type   uint16 // without NLA_F_* flags
	Nested bool   // NLA_F_NESTED was set
	Data   []byte
}

// ErrTruncated reports an attribute or struct that runs past its buffer.
var ErrTruncated = errors.New("truncated")

// ParseAttrs splits b into attributes. Unknown types are returned like any
// other; trailing bytes shorter than an attribute header are ignored, as the
// kernel's nla_for_each_attr does.
func ParseAttrs(b []byte) ([]Attr, error) {
	var attrs []Attr
	for off := 0; len(b)-off >= NlaHdrLen; {
		l := int(host.Uint16(b[off:]))
		t := host.Uint16(b[off+2:])
		if l < NlaHdrLen || off+l > len(b) {
			return attrs, fmt.Errorf("nl: attribute type %d at offset %d: length %d: %w", t&NLA_TYPE_MASK, off, l, ErrTruncated)
		}
		attrs = append(attrs, Attr{Type: t & NLA_TYPE_MASK, Nested: t&NLA_F_NESTED != 0, Data: b[off+NlaHdrLen : off+l]})
		off += Align(l)
	}
	return attrs, nil
}

// Uint32 decodes a host-order u32 payload.
func (a Attr) Uint32() (uint32, error) {
	if len(a.Data) < 4 {
		return 0, fmt.Errorf("nl: attribute type %d: u32 in %d bytes: %w", a.Type, len(a.Data), ErrTruncated)
	}
	return host.Uint32(a.Data), nil
}

// Uint64 decodes a host-order u64 payload.
func (a Attr) Uint64() (uint64, error) {
	if len(a.Data) < 8 {
		return 0, fmt.Errorf("nl: attribute type %d: u64 in %d bytes: %w", a.Type, len(a.Data), ErrTruncated)
	}
	return host.Uint64(a.Data), nil
}

// String decodes a string payload, dropping the NUL terminator and anything
// after it.
func (a Attr) String() string {
	for i, c := range a.Data {
		if c == 0 {
			return string(a.Data[:i])
		}
	}
	return string(a.Data)
}

// host is the host byte order, in which netlink headers, struct fields and
// integer attributes are written.
var host = native.Endian.(interface {
	binary.ByteOrder
	binary.AppendByteOrder
})

// Uint16 reads a host-order uint16: netlink headers, struct fields and
// integer attributes are host order.
func Uint16(b []byte) uint16 { return host.Uint16(b) }

// Uint32 reads a host-order uint32.
func Uint32(b []byte) uint32 { return host.Uint32(b) }

// Uint64 reads a host-order uint64.
func Uint64(b []byte) uint64 { return host.Uint64(b) }

// PutUint16 writes v in host order into b.
func PutUint16(b []byte, v uint16) { host.PutUint16(b, v) }

// PutUint32 writes v in host order into b.
func PutUint32(b []byte, v uint32) { host.PutUint32(b, v) }

// AppendUint16 appends v in host order to b.
func AppendUint16(b []byte, v uint16) []byte { return host.AppendUint16(b, v) }

// AppendUint32 appends v in host order to b.
func AppendUint32(b []byte, v uint32) []byte { return host.AppendUint32(b, v) }

// AppendUint64 appends v in host order to b.
func AppendUint64(b []byte, v uint64) []byte { return host.AppendUint64(b, v) }
