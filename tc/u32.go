package tc

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// The u32 classifier (cls_u32, tc's f_u32.c): match 32-bit words of the
// frame under masks. tcwire uses one key of mask 0 — `match u8 0 0`, a
// catch-all — but the selector here is general.

// KindU32 is the u32 filter's TCA_KIND.
const KindU32 = "u32"

// Selector flags, from <linux/pkt_cls.h>.
const (
	// TC_U32_TERMINAL ends the classification on a match. Without it a
	// filter with actions installs, shows up, and never runs them.
	TC_U32_TERMINAL  = 1
	TC_U32_OFFSET    = 2
	TC_U32_VAROFFSET = 4
	TC_U32_EAT       = 8
)

// U32MaxKeys is the most keys tc packs into one selector.
const U32MaxKeys = 128

const (
	u32SelLen = 16 // sizeof(struct tc_u32_sel) without its keys
	u32KeyLen = 16 // sizeof(struct tc_u32_key)
)

// U32Key is struct tc_u32_key from <linux/pkt_cls.h>. Mask and Val are the
// 32-bit word as it stands in the frame (network order on the wire, held
// here as the number a big-endian read gives); Off is the word's byte
// offset, a multiple of 4.
type U32Key struct {
	Mask    uint32
	Val     uint32
	Off     int32
	Offmask int32
}

// U32Sel is struct tc_u32_sel from <linux/pkt_cls.h> with its keys:
//
//	struct tc_u32_sel {
//		unsigned char flags, offshift, nkeys;   // then one pad byte
//		__be16 offmask; __u16 off; short offoff;
//		short hoff; __be32 hmask;
//		struct tc_u32_key keys[];
//	};
type U32Sel struct {
	Flags    uint8
	Offshift uint8
	Offmask  uint16 // network order on the wire
	Off      uint16
	Offoff   int16
	Hoff     int16
	Hmask    uint32 // network order on the wire
	Keys     []U32Key
}

// MarshalBinary encodes the selector and its keys.
func (s *U32Sel) MarshalBinary() ([]byte, error) {
	if len(s.Keys) > 255 {
		return nil, fmt.Errorf("tc: u32: %d keys do not fit nkeys", len(s.Keys))
	}
	return s.append(nil), nil
}

func (s *U32Sel) append(b []byte) []byte {
	b = append(b, s.Flags, s.Offshift, uint8(len(s.Keys)), 0)
	b = binary.BigEndian.AppendUint16(b, s.Offmask)
	b = nl.AppendUint16(b, s.Off)
	b = nl.AppendUint16(b, uint16(s.Offoff))
	b = nl.AppendUint16(b, uint16(s.Hoff))
	b = binary.BigEndian.AppendUint32(b, s.Hmask)
	for _, k := range s.Keys {
		b = binary.BigEndian.AppendUint32(b, k.Mask)
		b = binary.BigEndian.AppendUint32(b, k.Val)
		b = nl.AppendUint32(b, uint32(k.Off))
		b = nl.AppendUint32(b, uint32(k.Offmask))
	}
	return b
}

// UnmarshalBinary decodes a selector; nkeys must fit in b.
func (s *U32Sel) UnmarshalBinary(b []byte) error {
	if len(b) < u32SelLen {
		return fmt.Errorf("tc: u32: tc_u32_sel in %d bytes: %w", len(b), nl.ErrTruncated)
	}
	n := int(b[2])
	if len(b) < u32SelLen+n*u32KeyLen {
		return fmt.Errorf("tc: u32: %d keys in %d bytes: %w", n, len(b)-u32SelLen, nl.ErrTruncated)
	}
	*s = U32Sel{
		Flags:    b[0],
		Offshift: b[1],
		Offmask:  binary.BigEndian.Uint16(b[4:]),
		Off:      nl.Uint16(b[6:]),
		Offoff:   int16(nl.Uint16(b[8:])),
		Hoff:     int16(nl.Uint16(b[10:])),
		Hmask:    binary.BigEndian.Uint32(b[12:]),
	}
	if n > 0 {
		s.Keys = make([]U32Key, n)
	}
	for i := range s.Keys {
		k := b[u32SelLen+i*u32KeyLen:]
		s.Keys[i] = U32Key{
			Mask:    binary.BigEndian.Uint32(k[0:]),
			Val:     binary.BigEndian.Uint32(k[4:]),
			Off:     int32(nl.Uint32(k[8:])),
			Offmask: int32(nl.Uint32(k[12:])),
		}
	}
	return nil
}

// Match adds `match uSIZE VAL MASK at OFF` (size 8, 16 or 32 bits) the way
// tc packs it: the field is placed within its aligned 32-bit word, and a
// match on a word that already has a key is merged into that key.
func (s *U32Sel) Match(size int, val, mask uint32, off int32) error {
	var shift int
	switch size {
	case 8:
		shift = 24 - 8*int(off&3)
	case 16:
		if off&1 != 0 {
			return fmt.Errorf("tc: u32: match u16 at %d: offset must be even", off)
		}
		shift = 16 - 8*int(off&3)
	case 32:
		if off&3 != 0 {
			return fmt.Errorf("tc: u32: match u32 at %d: offset must be a multiple of 4", off)
		}
	default:
		return fmt.Errorf("tc: u32: match size %d: want 8, 16 or 32", size)
	}
	if size < 32 && (val>>size != 0 || mask>>size != 0) {
		return fmt.Errorf("tc: u32: match u%d %#x %#x: value or mask wider than %d bits", size, val, mask, size)
	}
	key := U32Key{Mask: mask << shift, Val: (val & mask) << shift, Off: off &^ 3}
	for i := range s.Keys {
		k := &s.Keys[i]
		if k.Off == key.Off && k.Offmask == key.Offmask {
			if (k.Val^key.Val)&k.Mask&key.Mask != 0 {
				return fmt.Errorf("tc: u32: match u%d %#x %#x at %d contradicts an earlier match", size, val, mask, off)
			}
			k.Val |= key.Val
			k.Mask |= key.Mask
			return nil
		}
	}
	if len(s.Keys) >= U32MaxKeys {
		return fmt.Errorf("tc: u32: more than %d keys", U32MaxKeys)
	}
	s.Keys = append(s.Keys, key)
	return nil
}

// spec renders the keys as tc match clauses, each as the narrowest field
// that holds its mask, so that tc packs them back into the same key.
func (s *U32Sel) spec() string {
	var parts []string
	for _, k := range s.Keys {
		if k.Mask == 0 {
			parts = append(parts, "match u8 0 0"+atClause(k.Off, k.Offmask))
			continue
		}
		size, shift := 32, 0
		lo, hi := bits.TrailingZeros32(k.Mask), 31-bits.LeadingZeros32(k.Mask)
		switch {
		case lo/8 == hi/8:
			size, shift = 8, lo/8*8
		case lo >= 16:
			size, shift = 16, 16
		case hi < 16:
			size, shift = 16, 0
		}
		field := ^uint32(0) >> (32 - size)
		at := k.Off + int32((32-size-shift)/8)
		parts = append(parts, fmt.Sprintf("match u%d %#x %#x", size, k.Val>>shift&field, k.Mask>>shift&field)+atClause(at, k.Offmask))
	}
	return strings.Join(parts, " ")
}

func atClause(at, offmask int32) string {
	if at == 0 && offmask == 0 {
		return ""
	}
	return fmt.Sprintf(" at %d", at)
}

// U32 is a u32 filter's options: a selector and the actions run on a match.
type U32 struct {
	Sel     U32Sel
	Actions []Action
	// Divisor is set on the hash-table entries a dump reports next to the
	// filters (the "fh 800: ht divisor 1" lines of tc filter show).
	Divisor uint32
}

// CatchAll is `u32 match u8 0 0` with actions: every frame matches.
// TC_U32_TERMINAL is set, as tc sets it whenever actions follow.
func CatchAll(actions ...Action) *U32 {
	return &U32{
		Sel:     U32Sel{Flags: TC_U32_TERMINAL, Keys: []U32Key{{}}},
		Actions: actions,
	}
}

// IsCatchAll reports whether every frame matches: each key has mask 0.
func (u *U32) IsCatchAll() bool {
	if u.Sel.Flags&TC_U32_TERMINAL == 0 || len(u.Sel.Keys) == 0 {
		return false
	}
	for _, k := range u.Sel.Keys {
		if k.Mask != 0 || k.Offmask != 0 {
			return false
		}
	}
	return true
}

// encode writes u32's TCA_OPTIONS payload in tc's order: the action table
// as tc parses it, then the selector. Neither nest is flagged NLA_F_NESTED.
func (u *U32) encode(e *nl.Encoder) {
	if len(u.Actions) > 0 {
		e.Nest(uapi.TCA_U32_ACT, func(e *nl.Encoder) { encodeActions(e, u.Actions) })
	}
	e.Attr(uapi.TCA_U32_SEL, u.Sel.append(make([]byte, 0, u32SelLen+len(u.Sel.Keys)*u32KeyLen)))
}

func (u *U32) validate() error {
	if len(u.Sel.Keys) == 0 {
		return fmt.Errorf("tc: u32: selector has no keys")
	}
	if len(u.Sel.Keys) > U32MaxKeys {
		return fmt.Errorf("tc: u32: %d keys, at most %d", len(u.Sel.Keys), U32MaxKeys)
	}
	for _, a := range u.Actions {
		if err := a.validate(); err != nil {
			return err
		}
	}
	return nil
}

// spec is u32's part of a tc command line.
func (u *U32) spec() string {
	s := "u32 " + u.Sel.spec()
	for _, a := range u.Actions {
		s += " " + a.spec()
	}
	return s
}

// UnmarshalBinary decodes u32's TCA_OPTIONS payload. Unknown attributes
// (TCA_U32_PCNT, TCA_U32_FLAGS …) are skipped.
func (u *U32) UnmarshalBinary(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return fmt.Errorf("tc: u32: %w", err)
	}
	*u = U32{}
	for _, a := range attrs {
		switch a.Type {
		case uapi.TCA_U32_SEL:
			if err := u.Sel.UnmarshalBinary(a.Data); err != nil {
				return err
			}
		case uapi.TCA_U32_ACT:
			if u.Actions, err = decodeActions(a.Data); err != nil {
				return err
			}
		case uapi.TCA_U32_DIVISOR:
			if u.Divisor, err = a.Uint32(); err != nil {
				return err
			}
		}
	}
	return nil
}
