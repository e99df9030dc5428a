package annotate_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/fuzzcheck"

	"github.com/tcwire/tcwire/nl/annotate"

	"github.com/tcwire/tcwire/nl"
	"golang.org/x/sys/unix"
)

// A made-up protocol for the Annotate tests, shaped like tc's: a fixed
// header, a kind string that selects the layout of an options nest, a
// struct with a repeated tail and an array of actions numbered 1…N.
const (
	fakeNew = 36 // the type of RTM_NEWQDISC, so echoed requests are named
	fakeDel = 37
	fakeGet = 38
)

var (
	fakeHeader = &annotate.Struct{Name: "fakemsg", Fields: []annotate.Field{
		{Name: "family", Size: 1},
		{Name: "__pad", Size: 3},
		{Name: "ifindex", Size: 4, Format: annotate.FmtInt},
		{Name: "handle", Size: 4, Format: annotate.FmtHex},
	}}

	fakeAction = &annotate.Nest{Kind: 1, Attrs: map[uint16]*annotate.AttrSpec{
		1: {Name: "ACT_KIND", Format: annotate.FmtString},
		2: {Name: "ACT_OPTIONS", Options: map[string]*annotate.Nest{
			"mir": {Attrs: map[uint16]*annotate.AttrSpec{
				2: {Name: "MIR_PARMS", Struct: &annotate.Struct{Name: "fake_parms", Fields: []annotate.Field{
					{Name: "action", Size: 4},
					{Name: "proto", Size: 2, Format: annotate.FmtBE},
					{Name: "pad", Size: 2},
				}}},
			}},
		}},
	}}

	fakeAttrs = &annotate.Nest{Kind: 1, Attrs: map[uint16]*annotate.AttrSpec{
		1: {Name: "KIND", Format: annotate.FmtString},
		2: {Name: "OPTIONS", Options: map[string]*annotate.Nest{
			"fake": {Attrs: map[uint16]*annotate.AttrSpec{
				1: {Name: "F_CLASSID", Format: annotate.FmtHex},
				3: {Name: "F_SEL",
					Struct: &annotate.Struct{Name: "fake_sel", Fields: []annotate.Field{
						{Name: "flags", Size: 1},
						{Name: "nkeys", Size: 1},
						{Name: "pad", Size: 2},
					}},
					Repeat: &annotate.Struct{Name: "fake_key", Fields: []annotate.Field{
						{Name: "mask", Size: 4, Format: annotate.FmtBE},
					}},
				},
				7: {Name: "F_ACT", Nest: &annotate.Nest{Each: &annotate.AttrSpec{Nest: fakeAction}}},
			}},
		}},
		5: {Name: "RATE", Format: annotate.FmtUint},
	}}

	fakeSchema = annotate.Merge(
		annotate.Schema{fakeNew: {Name: "FAKE_NEW", Header: fakeHeader, Attrs: fakeAttrs}},
		annotate.Schema{
			fakeDel: {Name: "RTM_DELFAKE", Header: fakeHeader, Attrs: fakeAttrs},
			fakeGet: {Name: "RTM_GETFAKE", Header: fakeHeader},
		},
	)
)

// fakeMsg is a FAKE_NEW message written out by hand: 112 bytes.
var fakeMsg = []byte{
	// 0x00 nlmsghdr
	0x70, 0x00, 0x00, 0x00, 0x24, 0x00, 0x05, 0x06,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	// 0x10 fakemsg
	0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
	// 0x1c KIND "fake"
	0x09, 0x00, 0x01, 0x00, 'f', 'a', 'k', 'e', 0x00, 0x00, 0x00, 0x00,
	// 0x28 OPTIONS|NLA_F_NESTED
	0x40, 0x00, 0x02, 0x80,
	// 0x2c F_CLASSID 1:1
	0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00,
	// 0x34 F_SEL: flags 1, nkeys 1, pad, one key
	0x0c, 0x00, 0x03, 0x00, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0x00,
	// 0x40 F_ACT
	0x20, 0x00, 0x07, 0x00,
	// 0x44 action 1
	0x1c, 0x00, 0x01, 0x00,
	// 0x48 ACT_KIND "mir"
	0x08, 0x00, 0x01, 0x00, 'm', 'i', 'r', 0x00,
	// 0x50 ACT_OPTIONS|NLA_F_NESTED
	0x10, 0x00, 0x02, 0x80,
	// 0x54 MIR_PARMS: action 4, proto 0x0800, pad
	0x0c, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00,
	// 0x60 type 9, unknown in OPTIONS
	0x06, 0x00, 0x09, 0x00, 0xab, 0xcd, 0x00, 0x00,
	// 0x68 type 99, unknown at top level
	0x05, 0x00, 0x63, 0x00, 0x07, 0x00, 0x00, 0x00,
}

// wantLine is a Line without its bytes, which are checked against the
// input at Offset.
type wantLine struct {
	Offset, Len, Depth int
	Name, Value        string
}

func checkAnnotation(t *testing.T, b []byte, got []annotate.Line, want []wantLine) {
	t.Helper()
	fuzzcheck.Lines(t, b, got)
	gotW := make([]wantLine, len(got))
	for i, l := range got {
		gotW[i] = wantLine{l.Offset, len(l.Bytes), l.Depth, l.Name, l.Value}
	}
	if diff := diff(want, gotW); diff != "" {
		t.Fatalf("unexpected lines (-want +got):\n%s\n%s", diff, annotate.Format(got))
	}
}

func TestAnnotate(t *testing.T) {
	checkAnnotation(t, fakeMsg, annotate.Lines(fakeMsg, fakeSchema), []wantLine{
		{0x00, 4, 0, "nlmsg_len", "112"},
		{0x04, 2, 0, "nlmsg_type", "FAKE_NEW (36)"},
		{0x06, 2, 0, "nlmsg_flags", "REQUEST|ACK|EXCL|CREATE (0x0605)"},
		{0x08, 4, 0, "nlmsg_seq", "1"},
		{0x0c, 4, 0, "nlmsg_pid", "0"},
		{0x10, 1, 0, "family", "0"},
		{0x11, 3, 0, "__pad", ""},
		{0x14, 4, 0, "ifindex", "2"},
		{0x18, 4, 0, "handle", "0xffff0000"},
		{0x1c, 4, 0, "KIND", "nla_len 9, nla_type 1"},
		{0x20, 5, 1, "", `"fake"`},
		{0x25, 3, 1, "(padding)", ""},
		{0x28, 4, 0, "OPTIONS", "nla_len 64, nla_type 2|NLA_F_NESTED"},
		{0x2c, 4, 1, "F_CLASSID", "nla_len 8, nla_type 1"},
		{0x30, 4, 2, "", "0x00010001"},
		{0x34, 4, 1, "F_SEL", "nla_len 12, nla_type 3"},
		{0x38, 1, 2, "flags", "1"},
		{0x39, 1, 2, "nkeys", "1"},
		{0x3a, 2, 2, "pad", ""},
		{0x3c, 0, 2, "fake_key[0]", ""},
		{0x3c, 4, 3, "mask", "0xffffff00 (network order)"},
		{0x40, 4, 1, "F_ACT", "nla_len 32, nla_type 7"},
		{0x44, 4, 2, "type 1", "nla_len 28, nla_type 1"},
		{0x48, 4, 3, "ACT_KIND", "nla_len 8, nla_type 1"},
		{0x4c, 4, 4, "", `"mir"`},
		{0x50, 4, 3, "ACT_OPTIONS", "nla_len 16, nla_type 2|NLA_F_NESTED"},
		{0x54, 4, 4, "MIR_PARMS", "nla_len 12, nla_type 2"},
		{0x58, 4, 5, "action", "4"},
		{0x5c, 2, 5, "proto", "0x0800 (network order)"},
		{0x5e, 2, 5, "pad", ""},
		{0x60, 4, 1, "type 9 (unknown)", "nla_len 6, nla_type 9"},
		{0x64, 2, 2, "", ""},
		{0x66, 2, 2, "(padding)", ""},
		{0x68, 4, 0, "type 99 (unknown)", "nla_len 5, nla_type 99"},
		{0x6c, 1, 1, "", ""},
		{0x6d, 3, 1, "(padding)", ""},
	})
}

func TestDumpText(t *testing.T) {
	got := annotate.Dump(fakeMsg, fakeSchema)
	if got != annotate.Format(annotate.Lines(fakeMsg, fakeSchema)) {
		t.Fatal("Dump differs from FormatLines(Annotate)")
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 36 {
		t.Fatalf("%d lines:\n%s", len(lines), got)
	}
	// Offset, bytes padded to 47 columns, two spaces per depth, name,
	// two spaces, value; no trailing blanks.
	want := map[int]string{
		0:  "0000  70 00 00 00" + strings.Repeat(" ", 36) + "  nlmsg_len  112",
		6:  "0011  00 00 00" + strings.Repeat(" ", 39) + "  __pad",
		10: "0020  66 61 6b 65 00" + strings.Repeat(" ", 33) + "  " + "  " + "  \"fake\"", // depth 1, no name
		19: "003c" + strings.Repeat(" ", 51) + "    fake_key[0]",
		28: "005c  08 00" + strings.Repeat(" ", 42) + "            proto  0x0800 (network order)",
		31: "0064  ab cd",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], w)
		}
	}
}

func TestAnnotateLongPayload(t *testing.T) {
	// A payload longer than 16 bytes continues on unnamed rows.
	e := nl.NewEncoder(make([]byte, 12))
	e.Attr(5, bytes.Repeat([]byte{0xee}, 20))
	b := withHeader(fakeGet, 0x0001, e.Bytes())
	checkAnnotation(t, b, annotate.Lines(b, fakeSchema), []wantLine{
		{0x00, 4, 0, "nlmsg_len", "52"},
		{0x04, 2, 0, "nlmsg_type", "RTM_GETFAKE (38)"},
		{0x06, 2, 0, "nlmsg_flags", "REQUEST (0x0001)"},
		{0x08, 4, 0, "nlmsg_seq", "0"},
		{0x0c, 4, 0, "nlmsg_pid", "0"},
		{0x10, 1, 0, "family", "0"},
		{0x11, 3, 0, "__pad", ""},
		{0x14, 4, 0, "ifindex", "0"},
		{0x18, 4, 0, "handle", "0x00000000"},
		// RTM_GETFAKE has no Attrs: everything is unknown.
		{0x1c, 4, 0, "type 5 (unknown)", "nla_len 24, nla_type 5"},
		{0x20, 16, 1, "", ""},
		{0x30, 4, 1, "", ""},
	})
}

// withHeader prepends an nlmsghdr (seq 0, pid 0) to data.
func withHeader(typ, flags uint16, data []byte) []byte {
	b := make([]byte, 16, 16+len(data))
	nl.PutUint32(b[0:], uint32(16+len(data)))
	nl.PutUint16(b[4:], typ)
	nl.PutUint16(b[6:], flags)
	return append(b, data...)
}

func TestAnnotateFlags(t *testing.T) {
	tests := []struct {
		typ   uint16
		flags uint16
		want  string
	}{
		{fakeNew, 0x0605, "REQUEST|ACK|EXCL|CREATE (0x0605)"},
		{fakeNew, 0x0405, "REQUEST|ACK|CREATE (0x0405)"},
		{fakeNew, 0x0000, "0"},
		{fakeNew, 0x0102, "MULTI|REPLACE (0x0102)"},
		{fakeNew, 0x0800, "APPEND (0x0800)"},
		{fakeGet, 0x0301, "REQUEST|ROOT|MATCH (0x0301)"},
		{fakeGet, 0x0401, "REQUEST|ATOMIC (0x0401)"},
		{fakeDel, 0x0105, "REQUEST|ACK|NONREC (0x0105)"},
		{fakeDel, 0x0205, "REQUEST|ACK|BULK (0x0205)"},
		{fakeDel, 0x1005, "REQUEST|ACK|0x1000 (0x1005)"},
		{fakeNew, 0x0038, "ECHO|DUMP_INTR|DUMP_FILTERED (0x0038)"},
		{unix.NLMSG_DONE, 0x0002, "MULTI (0x0002)"},
		{0x7777, 0x0600, "EXCL|CREATE (0x0600)"},
	}
	for _, tt := range tests {
		b := withHeader(tt.typ, tt.flags, make([]byte, 12))
		lines := annotate.Lines(b, fakeSchema)
		fuzzcheck.Lines(t, b, lines)
		if len(lines) < 3 || lines[2].Name != "nlmsg_flags" {
			t.Fatalf("no nlmsg_flags line:\n%s", annotate.Format(lines))
		}
		if got := lines[2].Value; got != tt.want {
			t.Errorf("type %d flags %#04x: %q, want %q", tt.typ, tt.flags, got, tt.want)
		}
	}
}

func TestAnnotateMultipart(t *testing.T) {
	// A dump reply: two FAKE_NEW messages and NLMSG_DONE, in one buffer.
	one := withHeader(fakeNew, unix.NLM_F_MULTI, append(make([]byte, 12), 0x08, 0x00, 0x05, 0x00, 0x10, 0x00, 0x00, 0x00))
	done := withHeader(unix.NLMSG_DONE, unix.NLM_F_MULTI, []byte{0, 0, 0, 0})
	b := append(append(append([]byte(nil), one...), one...), done...)

	lines := annotate.Lines(b, fakeSchema)
	fuzzcheck.Lines(t, b, lines)
	var got []string
	for _, l := range lines {
		if l.Name == "nlmsg_type" || l.Name == "RATE" || l.Name == "error" {
			got = append(got, fmt.Sprintf("%04x %s %s", l.Offset, l.Name, l.Value))
		}
	}
	want := []string{
		"0004 nlmsg_type FAKE_NEW (36)",
		"001c RATE nla_len 8, nla_type 5",
		"0028 nlmsg_type FAKE_NEW (36)",
		"0040 RATE nla_len 8, nla_type 5",
		"004c nlmsg_type NLMSG_DONE (3)",
		"0058 error 0 (success)",
	}
	if diff := diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s\n%s", diff, annotate.Format(lines))
	}
	for _, l := range lines {
		if l.Offset == 0x20 && l.Value != "16" {
			t.Errorf("RATE value: %q", l.Value)
		}
	}
}

// extAckError is the kernel's answer to adding a second ingress qdisc,
// written out by hand: NLMSG_ERROR with error -17, the request's header
// echoed (NLM_F_CAPPED) and NLMSGERR_ATTR_MSG (NLM_F_ACK_TLVS).
var extAckError = []byte{
	// 0x00 nlmsghdr: len 60, NLMSG_ERROR, CAPPED|ACK_TLVS, seq 7, pid 1234
	0x3c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x03,
	0x07, 0x00, 0x00, 0x00, 0xd2, 0x04, 0x00, 0x00,
	// 0x10 error -17
	0xef, 0xff, 0xff, 0xff,
	// 0x14 echoed header: len 48, RTM_NEWQDISC, 0x0605, seq 7, pid 0
	0x30, 0x00, 0x00, 0x00, 0x24, 0x00, 0x05, 0x06,
	0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	// 0x24 NLMSGERR_ATTR_MSG
	0x18, 0x00, 0x01, 0x00,
	'E', 'x', 'c', 'l', 'u', 's', 'i', 'v', 'i', 't', 'y', ' ', 'f', 'l', 'a', 'g',
	' ', 'o', 'n', 0x00,
}

func TestAnnotateExtAckError(t *testing.T) {
	checkAnnotation(t, extAckError, annotate.Lines(extAckError, fakeSchema), []wantLine{
		{0x00, 4, 0, "nlmsg_len", "60"},
		{0x04, 2, 0, "nlmsg_type", "NLMSG_ERROR (2)"},
		{0x06, 2, 0, "nlmsg_flags", "CAPPED|ACK_TLVS (0x0300)"},
		{0x08, 4, 0, "nlmsg_seq", "7"},
		{0x0c, 4, 0, "nlmsg_pid", "1234"},
		{0x10, 4, 0, "error", "-17 (EEXIST: file exists)"},
		{0x14, 0, 0, "msg", "the request, echoed"},
		{0x14, 4, 1, "nlmsg_len", "48"},
		{0x18, 2, 1, "nlmsg_type", "FAKE_NEW (36)"},
		{0x1a, 2, 1, "nlmsg_flags", "0x0605"},
		{0x1c, 8, 1, "nlmsg_seq, nlmsg_pid", ""},
		{0x24, 4, 0, "NLMSGERR_ATTR_MSG", "nla_len 24, nla_type 1"},
		{0x28, 16, 1, "", `"Exclusivity flag on"`},
		{0x38, 4, 1, "", ""},
	})

	text := annotate.Dump(extAckError, fakeSchema)
	for _, want := range []string{"EEXIST", "Exclusivity flag on", "CAPPED|ACK_TLVS"} {
		if !strings.Contains(text, want) {
			t.Errorf("dump does not mention %q:\n%s", want, text)
		}
	}
}

func TestAnnotateErrorUncapped(t *testing.T) {
	// Without NLM_F_CAPPED the whole request is echoed and annotated with
	// the schema; the TLVs (an offset here) follow it.
	req := fakeMsg[:0x28:0x28] // header, fakemsg, KIND
	req = append([]byte(nil), req...)
	nl.PutUint32(req, 0x28)
	body := append([]byte{0xea, 0xff, 0xff, 0xff}, req...) // -22
	body = append(body, 0x08, 0x00, 0x02, 0x00, 0x1c, 0x00, 0x00, 0x00)
	b := withHeader(unix.NLMSG_ERROR, 0x0200, body)

	checkAnnotation(t, b, annotate.Lines(b, fakeSchema), []wantLine{
		{0x00, 4, 0, "nlmsg_len", "68"},
		{0x04, 2, 0, "nlmsg_type", "NLMSG_ERROR (2)"},
		{0x06, 2, 0, "nlmsg_flags", "ACK_TLVS (0x0200)"},
		{0x08, 4, 0, "nlmsg_seq", "0"},
		{0x0c, 4, 0, "nlmsg_pid", "0"},
		{0x10, 4, 0, "error", "-22 (EINVAL: invalid argument)"},
		{0x14, 0, 0, "msg", "the request, echoed"},
		{0x14, 4, 1, "nlmsg_len", "40"},
		{0x18, 2, 1, "nlmsg_type", "FAKE_NEW (36)"},
		{0x1a, 2, 1, "nlmsg_flags", "REQUEST|ACK|EXCL|CREATE (0x0605)"},
		{0x1c, 4, 1, "nlmsg_seq", "1"},
		{0x20, 4, 1, "nlmsg_pid", "0"},
		{0x24, 1, 1, "family", "0"},
		{0x25, 3, 1, "__pad", ""},
		{0x28, 4, 1, "ifindex", "2"},
		{0x2c, 4, 1, "handle", "0xffff0000"},
		{0x30, 4, 1, "KIND", "nla_len 9, nla_type 1"},
		{0x34, 5, 2, "", `"fake"`},
		{0x39, 3, 2, "(padding)", ""},
		{0x3c, 4, 0, "NLMSGERR_ATTR_OFFS", "nla_len 8, nla_type 2"},
		{0x40, 4, 1, "", "28"},
	})
}

func TestAnnotateAck(t *testing.T) {
	b := withHeader(unix.NLMSG_ERROR, 0x0100, append([]byte{0, 0, 0, 0}, fakeMsg[:16]...))
	lines := annotate.Lines(b, fakeSchema)
	fuzzcheck.Lines(t, b, lines)
	if lines[5].Name != "error" || lines[5].Value != "0 (success)" {
		t.Fatalf("ack:\n%s", annotate.Format(lines))
	}
}

// garbage is input Annotate must survive, also used to seed FuzzAnnotate.
var garbage = map[string][]byte{
	"empty":                {},
	"short header":         {0x10, 0x00, 0x00},
	"nlmsg_len 0":          make([]byte, 16),
	"nlmsg_len huge":       {0xff, 0xff, 0xff, 0xff, 0x24, 0x00, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4},
	"nlmsg_len 17 of 16":   {0x11, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0},
	"nlmsg_len unaligned":  append(withHeader(fakeNew, 0, []byte{1}), 0x00),
	"header cut short":     withHeader(fakeNew, 0, []byte{0, 0, 0, 0, 2, 0}),
	"trailing bytes":       append(append([]byte(nil), fakeMsg...), 1, 2, 3),
	"attr len 0":           withHeader(fakeNew, 0, append(make([]byte, 12), 0, 0, 1, 0, 0, 0, 0, 0)),
	"attr len overlong":    withHeader(fakeNew, 0, append(make([]byte, 12), 0xff, 0x00, 0x02, 0x80, 0, 0, 0, 0)),
	"attr tail of 3":       withHeader(fakeNew, 0, append(make([]byte, 12), 0x04, 0x00, 0x05, 0x00, 1, 2, 3, 0)),
	"struct attr short":    withHeader(fakeNew, 0, append(make([]byte, 12), 0x09, 0, 1, 0, 'f', 'a', 'k', 'e', 0, 0, 0, 0, 0x08, 0, 2, 0x80, 0x05, 0, 3, 0, 1, 0, 0, 0)),
	"error body short":     withHeader(unix.NLMSG_ERROR, 0, []byte{0xef, 0xff}),
	"error no echo":        withHeader(unix.NLMSG_ERROR, 0x0300, []byte{0xef, 0xff, 0xff, 0xff}),
	"error echo overlong":  withHeader(unix.NLMSG_ERROR, 0x0200, append([]byte{0xef, 0xff, 0xff, 0xff, 0x40, 0, 0, 0}, make([]byte, 16)...)),
	"error echo len 0":     withHeader(unix.NLMSG_ERROR, 0x0200, append([]byte{0xef, 0xff, 0xff, 0xff}, make([]byte, 20)...)),
	"error echo len 17":    withHeader(unix.NLMSG_ERROR, 0x0200, append([]byte{0xef, 0xff, 0xff, 0xff, 0x11}, make([]byte, 16)...)),
	"error echo unaligned": withHeader(unix.NLMSG_ERROR, 0x0200, append([]byte{0xef, 0xff, 0xff, 0xff, 0x13}, make([]byte, 18)...)),
	"error positive":       withHeader(unix.NLMSG_ERROR, 0, append([]byte{0x05, 0, 0, 0}, make([]byte, 16)...)),
	"error in error":       withHeader(unix.NLMSG_ERROR, 0, append([]byte{0xef, 0xff, 0xff, 0xff}, withHeader(unix.NLMSG_ERROR, 0x0300, []byte{1, 0, 0, 0})...)),
	"done short":           withHeader(unix.NLMSG_DONE, 2, []byte{0, 0}),
	"unknown type":         withHeader(0x7777, 0, []byte{1, 2, 3, 4, 5, 6, 7, 8}),
	"ext ack error":        extAckError,
	"cut ext ack error":    extAckError[:len(extAckError)-5],
	"cut message":          fakeMsg[:len(fakeMsg)-1],
}

func TestAnnotateGarbage(t *testing.T) {
	for name, b := range garbage {
		t.Run(name, func(t *testing.T) {
			lines := annotate.Lines(b, fakeSchema)
			fuzzcheck.Lines(t, b, lines)
			_ = annotate.Dump(b, fakeSchema)
			_ = annotate.SideBySide("want", fakeMsg, "got", b, fakeSchema)
			// And every prefix of it.
			for i := range b {
				fuzzcheck.Lines(t, b[:i], annotate.Lines(b[:i], fakeSchema))
			}
		})
	}
}

func TestAnnotateNilSchema(t *testing.T) {
	lines := annotate.Lines(fakeMsg, nil)
	checkAnnotation(t, fakeMsg, lines, []wantLine{
		{0x00, 4, 0, "nlmsg_len", "112"},
		{0x04, 2, 0, "nlmsg_type", "unknown(36)"},
		{0x06, 2, 0, "nlmsg_flags", "REQUEST|ACK|EXCL|CREATE (0x0605)"},
		{0x08, 4, 0, "nlmsg_seq", "1"},
		{0x0c, 4, 0, "nlmsg_pid", "0"},
		{0x10, 16, 0, "(payload)", ""},
		{0x20, 16, 0, "", ""},
		{0x30, 16, 0, "", ""},
		{0x40, 16, 0, "", ""},
		{0x50, 16, 0, "", ""},
		{0x60, 16, 0, "", ""},
	})
}

func TestSideBySide(t *testing.T) {
	got := append([]byte(nil), fakeMsg...)
	got[0x58] = 0x05 // MIR_PARMS action 4 → 5
	out := annotate.SideBySide("tc", fakeMsg, "tcwire", got, fakeSchema)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1+36 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	if !strings.HasPrefix(lines[0], "  tc ") || !strings.HasSuffix(lines[0], "| tcwire") {
		t.Errorf("title: %q", lines[0])
	}
	var marked []string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "!") {
			marked = append(marked, l)
		}
	}
	if len(marked) != 1 || !strings.Contains(marked[0], "0058  04 00 00 00") || !strings.Contains(marked[0], "0058  05 00 00 00") {
		t.Fatalf("expected exactly the action row marked, got:\n%s", strings.Join(marked, "\n"))
	}

	// A shorter message marks the rows only one side has.
	out = annotate.SideBySide("tc", fakeMsg, "tcwire", fakeMsg[:0x28], fakeSchema)
	if n := strings.Count(out, "\n!"); n == 0 {
		t.Fatalf("no rows marked:\n%s", out)
	}
	if same := annotate.SideBySide("a", fakeMsg, "b", fakeMsg, fakeSchema); strings.Contains(same, "\n!") {
		t.Fatalf("identical messages marked:\n%s", same)
	}
}

func TestFormatters(t *testing.T) {
	tests := []struct {
		name string
		fn   func([]byte) string
		in   []byte
		want string
	}{
		{"FmtUint u8", annotate.FmtUint, []byte{0xff}, "255"},
		{"FmtUint u16", annotate.FmtUint, []byte{0x00, 0x01}, "256"},
		{"FmtUint u32", annotate.FmtUint, []byte{0xf1, 0xff, 0xff, 0xff}, "4294967281"},
		{"FmtUint u64", annotate.FmtUint, []byte{1, 0, 0, 0, 0, 0, 0, 0}, "1"},
		{"FmtUint odd size", annotate.FmtUint, []byte{1, 2, 3}, "01:02:03"},
		{"FmtInt -1", annotate.FmtInt, []byte{0xff, 0xff, 0xff, 0xff}, "-1"},
		{"FmtInt s8", annotate.FmtInt, []byte{0x80}, "-128"},
		{"FmtInt s16", annotate.FmtInt, []byte{0x02, 0x00}, "2"},
		{"FmtInt odd size", annotate.FmtInt, []byte{}, ""},
		{"FmtHex", annotate.FmtHex, []byte{0x00, 0x00, 0xff, 0xff}, "0xffff0000"},
		{"FmtHex u16", annotate.FmtHex, []byte{0x03, 0x00}, "0x0003"},
		{"FmtBE", annotate.FmtBE, []byte{0x08, 0x00}, "0x0800 (network order)"},
		{"FmtBE long", annotate.FmtBE, make([]byte, 9), "00:00:00:00:00:00:00:00:00"},
		{"FmtString", annotate.FmtString, []byte("u32\x00"), `"u32"`},
		{"FmtString quotes", annotate.FmtString, []byte("a\"\n"), `"a\"\n"`},
		{"FmtBytes", annotate.FmtBytes, []byte{0x02, 0x42, 0xac}, "02:42:ac"},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s(% x) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func FuzzAnnotate(f *testing.F) {
	f.Add(fakeMsg)
	f.Add(extAckError)
	for _, b := range garbage {
		f.Add(b)
	}
	// A tcmsg (ifindex 2, parent ffff:, info 0x300) with a mirred action,
	// shaped as tc writes one.
	hdr := make([]byte, 20)
	nl.PutUint32(hdr[4:], 2)
	nl.PutUint32(hdr[12:], 0xffff0000)
	nl.PutUint32(hdr[16:], 0x300)
	e := nl.NewEncoder(hdr)
	e.String(1, "fake")
	e.Nest(2, func(e *nl.Encoder) {
		e.Nest(7, func(e *nl.Encoder) {
			e.Nest(1, func(e *nl.Encoder) {
				e.String(1, "mirred")
				e.Nest(2|nl.NLA_F_NESTED, func(e *nl.Encoder) { e.Attr(2, make([]byte, 20)) })
			})
		})
	})
	r := nl.Request{Type: fakeNew, Flags: nl.FlagsCreate, Data: e.Bytes()}
	b, _ := r.MarshalBinary()
	f.Add(b)

	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcheck.Annotate(t, b, fakeSchema)
	})
}

// diff returns "" when want and got are deeply equal, else both.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("want: %#v\n got: %#v", want, got)
}
