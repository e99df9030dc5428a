package annotate

import (
	"fmt"
	"strings"

	"github.com/tcwire/tcwire/nl"
)

// Line is one row of an annotated dump: the bytes at Offset, what they are
// and what they mean. Depth is the nesting level, for indentation.
type Line struct {
	Offset int
	Bytes  []byte
	Depth  int
	Name   string
	Value  string
}

// bytesPerLine caps a row's bytes; longer payloads continue on rows with no
// name.
const bytesPerLine = 16

// Lines explains b, one or more netlink messages back to back, field by
// field. It never fails: bytes it cannot explain are shown as such.
func Lines(b []byte, s Schema) []Line {
	a := annotator{schema: s}
	for off := 0; off < len(b); {
		n := a.message(b[off:], off, 0)
		if n <= 0 {
			break
		}
		off += n
	}
	return a.lines
}

// Dump is Lines rendered as text.
func Dump(b []byte, s Schema) string { return Format(Lines(b, s)) }

type annotator struct {
	schema Schema
	lines  []Line
}

func (a *annotator) add(off int, b []byte, depth int, name, value string) {
	for len(b) > bytesPerLine {
		a.lines = append(a.lines, Line{Offset: off, Bytes: b[:bytesPerLine], Depth: depth, Name: name, Value: value})
		off, b, name, value = off+bytesPerLine, b[bytesPerLine:], "", ""
	}
	a.lines = append(a.lines, Line{Offset: off, Bytes: b, Depth: depth, Name: name, Value: value})
}

// message annotates the message at the start of rest, found at offset off,
// and returns its aligned length, or 0 when nothing more can be read.
func (a *annotator) message(rest []byte, off, depth int) int {
	if len(rest) < nl.NlmsgHdrLen {
		a.add(off, rest, depth, "(trailing bytes)", "")
		return 0
	}
	length := int(nl.Uint32(rest))
	typ := nl.HeaderType(nl.Uint16(rest[4:]))
	flags := nl.HeaderFlags(nl.Uint16(rest[6:]))
	spec := a.schema[typ]
	a.add(off, rest[0:4], depth, "nlmsg_len", fmt.Sprint(length))
	a.add(off+4, rest[4:6], depth, "nlmsg_type", typeName(typ, spec))
	a.add(off+6, rest[6:8], depth, "nlmsg_flags", flagNames(flags, typ, spec))
	a.add(off+8, rest[8:12], depth, "nlmsg_seq", FmtUint(rest[8:12]))
	a.add(off+12, rest[12:16], depth, "nlmsg_pid", FmtUint(rest[12:16]))
	end := length
	if length < nl.NlmsgHdrLen || length > len(rest) {
		a.add(off+nl.NlmsgHdrLen, rest[nl.NlmsgHdrLen:], depth, "(truncated message)", fmt.Sprintf("nlmsg_len %d, %d bytes present", length, len(rest)))
		return 0
	}
	body := rest[nl.NlmsgHdrLen:end]
	boff := off + nl.NlmsgHdrLen
	switch {
	case typ == nl.NLMSG_ERROR:
		a.errorBody(body, boff, depth, flags)
	case typ == nl.NLMSG_DONE:
		if len(body) >= 4 {
			a.add(boff, body[:4], depth, "error", errnoName(body[:4]))
		}
	case spec != nil:
		if h := spec.Header; h != nil {
			n := a.strct(body, boff, depth, h)
			body, boff = body[n:], boff+n
		}
		a.nest(body, boff, depth, spec.Attrs)
	default:
		a.add(boff, body, depth, "(payload)", "")
	}
	if pad := nl.Align(end) - end; pad > 0 && end+pad <= len(rest) {
		a.add(off+end, rest[end:end+pad], depth, "(padding)", "")
	}
	return nl.Align(end)
}

// errorBody annotates struct nlmsgerr and the extended-ack TLVs after it.
func (a *annotator) errorBody(b []byte, off, depth int, flags nl.HeaderFlags) {
	if len(b) < 4 {
		a.add(off, b, depth, "(truncated nlmsgerr)", "")
		return
	}
	a.add(off, b[:4], depth, "error", errnoName(b[:4]))
	a.add(off+4, nil, depth, "msg", "the request, echoed")
	inner := b[4:]
	if len(inner) < nl.NlmsgHdrLen {
		a.add(off+4, inner, depth+1, "(truncated)", "")
		return
	}
	n := int(nl.Uint32(inner))
	if flags&nl.NLM_F_CAPPED != 0 || n > len(inner) {
		n = nl.NlmsgHdrLen // only the request's header is echoed
		a.add(off+4, inner[:4], depth+1, "nlmsg_len", FmtUint(inner[:4]))
		a.add(off+8, inner[4:6], depth+1, "nlmsg_type", typeName(nl.HeaderType(nl.Uint16(inner[4:])), a.schema[nl.HeaderType(nl.Uint16(inner[4:]))]))
		a.add(off+10, inner[6:8], depth+1, "nlmsg_flags", FmtHex(inner[6:8]))
		a.add(off+12, inner[8:16], depth+1, "nlmsg_seq, nlmsg_pid", "")
	} else {
		a.message(inner[:n], off+4, depth+1)
	}
	// An echoed nlmsg_len that is not a multiple of 4 may point past the
	// end once aligned: then there is no room left for TLVs.
	if flags&nl.NLM_F_ACK_TLVS != 0 && nl.Align(n) <= len(inner) {
		tlv := inner[nl.Align(n):]
		a.nest(tlv, off+4+nl.Align(n), depth, extAckNest)
	}
}

var extAckNest = &Nest{Attrs: map[uint16]*AttrSpec{
	nl.NLMSGERR_ATTR_MSG:    {Name: "NLMSGERR_ATTR_MSG", Format: FmtString},
	nl.NLMSGERR_ATTR_OFFS:   {Name: "NLMSGERR_ATTR_OFFS", Format: FmtUint},
	nl.NLMSGERR_ATTR_COOKIE: {Name: "NLMSGERR_ATTR_COOKIE", Format: FmtBytes},
}}

// strct annotates a struct and returns the bytes it covered.
func (a *annotator) strct(b []byte, off, depth int, s *Struct) int {
	pos := 0
	for _, f := range s.Fields {
		if pos+f.Size > len(b) {
			a.add(off+pos, b[pos:], depth, s.Name+"."+f.Name, "(truncated)")
			return len(b)
		}
		fb := b[pos : pos+f.Size]
		a.add(off+pos, fb, depth, f.Name, formatField(f, fb))
		pos += f.Size
	}
	return pos
}

func formatField(f Field, b []byte) string {
	switch {
	case f.Format != nil:
		return f.Format(b)
	case strings.HasPrefix(f.Name, "pad") || strings.Contains(f.Name, "__pad"):
		return ""
	}
	return FmtUint(b)
}

// nest annotates a run of attributes described by n (which may be nil).
func (a *annotator) nest(b []byte, off, depth int, n *Nest) {
	attrs, err := nl.ParseAttrs(b)
	kind := ""
	if n != nil && n.Kind != 0 {
		for _, at := range attrs {
			if at.Type == n.Kind {
				kind = at.String()
			}
		}
	}
	pos := 0
	for _, at := range attrs {
		raw := nl.Uint16(b[pos:])
		typ := nl.Uint16(b[pos+2:])
		spec := n.lookup(at.Type)
		name := fmt.Sprintf("type %d", at.Type)
		if spec != nil && spec.Name != "" {
			name = spec.Name
		} else if spec == nil {
			name += " (unknown)"
		}
		hdr := fmt.Sprintf("nla_len %d, nla_type %d", raw, at.Type)
		if typ&nl.NLA_F_NESTED != 0 {
			hdr += "|NLA_F_NESTED"
		}
		if typ&nl.NLA_F_NET_BYTEORDER != 0 {
			hdr += "|NLA_F_NET_BYTEORDER"
		}
		a.add(off+pos, b[pos:pos+nl.NlaHdrLen], depth, name, hdr)
		a.payload(at.Data, off+pos+nl.NlaHdrLen, depth+1, spec, kind)
		end := pos + int(raw)
		next := nl.Align(end)
		if next > len(b) {
			next = len(b)
		}
		if next > end {
			a.add(off+end, b[end:next], depth+1, "(padding)", "")
		}
		pos = next
	}
	if err != nil || pos < len(b) {
		a.add(off+pos, b[pos:], depth, "(malformed attribute)", "")
	}
}

func (n *Nest) lookup(t uint16) *AttrSpec {
	if n == nil {
		return nil
	}
	if s, ok := n.Attrs[t]; ok {
		return s
	}
	return n.Each
}

// payload annotates one attribute's payload.
func (a *annotator) payload(b []byte, off, depth int, spec *AttrSpec, kind string) {
	switch {
	case len(b) == 0:
		return
	case spec == nil:
		a.add(off, b, depth, "", "")
	case spec.Format != nil:
		a.add(off, b, depth, "", spec.Format(b))
	case spec.Struct != nil:
		n := a.strct(b, off, depth, spec.Struct)
		for i := 0; spec.Repeat != nil && spec.Repeat.Size() > 0 && n+spec.Repeat.Size() <= len(b); i++ {
			a.add(off+n, nil, depth, fmt.Sprintf("%s[%d]", spec.Repeat.Name, i), "")
			n += a.strct(b[n:], off+n, depth+1, spec.Repeat)
		}
		if n < len(b) {
			a.add(off+n, b[n:], depth, "(extra bytes)", "")
		}
	case spec.Nest != nil:
		a.nest(b, off, depth, spec.Nest)
	case spec.Options != nil:
		a.nest(b, off, depth, spec.Options[kind])
	default:
		a.add(off, b, depth, "", "")
	}
}

func typeName(t nl.HeaderType, spec *MessageSpec) string {
	switch {
	case spec != nil:
		return fmt.Sprintf("%s (%d)", spec.Name, t)
	case t == nl.NLMSG_ERROR:
		return "NLMSG_ERROR (2)"
	case t == nl.NLMSG_DONE:
		return "NLMSG_DONE (3)"
	case t == nl.NLMSG_NOOP:
		return "NLMSG_NOOP (1)"
	}
	return fmt.Sprintf("unknown(%d)", t)
}

// flagNames spells nlmsg_flags the way <linux/netlink.h> names them; bits
// 0x100-0x800 mean different things for GET requests, NEW/DEL requests and
// acks.
func flagNames(f nl.HeaderFlags, t nl.HeaderType, spec *MessageSpec) string {
	names := []string{"REQUEST", "MULTI", "ACK", "ECHO", "DUMP_INTR", "DUMP_FILTERED"}
	var high []string
	switch {
	case t == nl.NLMSG_ERROR:
		high = []string{"CAPPED", "ACK_TLVS"}
	case spec != nil && strings.HasPrefix(spec.Name, "RTM_GET"):
		high = []string{"ROOT", "MATCH", "ATOMIC"}
	case spec != nil && strings.HasPrefix(spec.Name, "RTM_DEL"):
		high = []string{"NONREC", "BULK"}
	default:
		high = []string{"REPLACE", "EXCL", "CREATE", "APPEND"}
	}
	var parts []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	for i, n := range high {
		if f&(0x100<<i) != 0 {
			parts = append(parts, n)
		}
	}
	known := nl.HeaderFlags(1<<len(names)-1) | nl.HeaderFlags((1<<len(high)-1)<<8)
	if rest := f &^ known; rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", uint16(rest)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return fmt.Sprintf("%s (0x%04x)", strings.Join(parts, "|"), uint16(f))
}

func errnoName(b []byte) string {
	e := int32(nl.Uint32(b))
	if e == 0 {
		return "0 (success)"
	}
	if e < 0 {
		return fmt.Sprintf("%d (%s)", e, errnoText(uint32(-e)))
	}
	return fmt.Sprint(e)
}

// Format renders lines as text: offset, hex bytes, indented name and
// value.
func Format(lines []Line) string {
	var sb strings.Builder
	for _, l := range lines {
		sb.WriteString(formatLine(l))
		sb.WriteByte('\n')
	}
	return sb.String()
}

func formatLine(l Line) string {
	hex := make([]string, len(l.Bytes))
	for i, c := range l.Bytes {
		hex[i] = fmt.Sprintf("%02x", c)
	}
	s := fmt.Sprintf("%04x  %-47s  %s%s", l.Offset, strings.Join(hex, " "), strings.Repeat("  ", l.Depth), l.Name)
	if l.Value != "" {
		s += "  " + l.Value
	}
	return strings.TrimRight(s, " ")
}

// SideBySide renders two messages' annotated dumps in two columns, marking
// with '!' the rows whose bytes differ: what a golden test prints on a
// mismatch.
func SideBySide(wantName string, want []byte, gotName string, got []byte, s Schema) string {
	wl, gl := Lines(want, s), Lines(got, s)
	const col = 100
	var sb strings.Builder
	fmt.Fprintf(&sb, "  %-*s | %s\n", col, wantName, gotName)
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		mark := " "
		if i < len(wl) {
			w = formatLine(wl[i])
		}
		if i < len(gl) {
			g = formatLine(gl[i])
		}
		if i >= len(wl) || i >= len(gl) || wl[i].Offset != gl[i].Offset || string(wl[i].Bytes) != string(gl[i].Bytes) {
			mark = "!"
		}
		if len(w) > col {
			w = w[:col]
		}
		fmt.Fprintf(&sb, "%s %-*s | %s\n", mark, col, w, g)
	}
	return sb.String()
}
