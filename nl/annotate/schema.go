package annotate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tcwire/tcwire/nl"
)

// A Schema tells Lines how to read the messages of one protocol family:
// which fixed header each message type carries and which attributes follow.
// tc/tcschema and link/linkschema export theirs; Merge combines them.
type Schema map[nl.HeaderType]*MessageSpec

// Merge returns a Schema holding the message types of all of ss.
func Merge(ss ...Schema) Schema {
	out := Schema{}
	for _, s := range ss {
		for t, m := range s {
			out[t] = m
		}
	}
	return out
}

// MessageSpec describes one message type.
type MessageSpec struct {
	Name   string  // the kernel's name, such as "RTM_NEWQDISC"
	Header *Struct // the fixed header after nlmsghdr (struct tcmsg …)
	Attrs  *Nest   // the attributes after the header
}

// Struct is a fixed-layout C struct, fields in order, as in a UAPI header.
type Struct struct {
	Name   string
	Fields []Field
}

// Size is the sum of the fields' sizes (the structs described here have no
// implicit padding: explicit pad fields stand for it).
func (s *Struct) Size() int {
	n := 0
	for _, f := range s.Fields {
		n += f.Size
	}
	return n
}

// Field is one member of a Struct.
type Field struct {
	Name string
	Size int
	// Format renders the field's bytes. Nil means a host-order unsigned
	// integer for sizes 1, 2, 4 and 8 and hex bytes otherwise.
	Format func(b []byte) string
}

// AttrSpec describes one attribute type. At most one of Format, Struct,
// Nest and Options is set; none means the payload is shown as raw bytes.
type AttrSpec struct {
	Name   string
	Format func(b []byte) string
	// Struct is a struct payload; Repeat, if set, is a struct that fills the
	// rest of the payload any number of times (tc_u32_sel's keys).
	Struct *Struct
	Repeat *Struct
	Nest   *Nest
	// Options is a nest whose layout depends on the kind string found in
	// the sibling attribute named by the enclosing Nest's Kind (TCA_OPTIONS
	// by TCA_KIND, TCA_ACT_OPTIONS by TCA_ACT_KIND).
	Options map[string]*Nest
}

// Nest describes the attributes allowed in one nest (or at a message's top
// level).
type Nest struct {
	Attrs map[uint16]*AttrSpec
	// Kind, when non-zero, is the type of the string attribute that selects
	// AttrSpec.Options in this nest.
	Kind uint16
	// Each, when set, describes every attribute whose type is an index
	// rather than a name (the TCA_ACT_TAB entries, numbered 1…N by order).
	Each *AttrSpec
}

// Formatters for Field.Format and AttrSpec.Format.

// HostUint decodes a host-order unsigned integer of 1, 2, 4 or 8 bytes; ok
// is false for any other length, so formatters can show bytes of a
// malformed attribute as they are.
func HostUint(b []byte) (uint64, bool) {
	switch len(b) {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(nl.Uint16(b)), true
	case 4:
		return uint64(nl.Uint32(b)), true
	case 8:
		return nl.Uint64(b), true
	}
	return 0, false
}

// FmtUint renders a host-order unsigned integer of 1, 2, 4 or 8 bytes.
func FmtUint(b []byte) string {
	if v, ok := HostUint(b); ok {
		return strconv.FormatUint(v, 10)
	}
	return FmtBytes(b)
}

// FmtInt renders a host-order signed integer of 1, 2, 4 or 8 bytes.
func FmtInt(b []byte) string {
	v, ok := HostUint(b)
	if !ok {
		return FmtBytes(b)
	}
	shift := 64 - 8*len(b)
	return strconv.FormatInt(int64(v<<shift)>>shift, 10)
}

// FmtHex renders a host-order unsigned integer in hex.
func FmtHex(b []byte) string {
	if v, ok := HostUint(b); ok {
		return fmt.Sprintf("0x%0*x", 2*len(b), v)
	}
	return FmtBytes(b)
}

// FmtBE renders a network-order (big-endian) unsigned integer in hex.
func FmtBE(b []byte) string {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	if len(b) > 8 {
		return FmtBytes(b)
	}
	return fmt.Sprintf("0x%0*x (network order)", 2*len(b), v)
}

// FmtString renders a NUL-terminated string.
func FmtString(b []byte) string { return strconv.Quote(nl.Attr{Data: b}.String()) }

// FmtBytes renders bytes as colon-separated hex (addresses, cookies).
func FmtBytes(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}
