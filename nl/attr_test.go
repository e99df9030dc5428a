package nl_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/nl"
)

// The expected bytes in this file are written out by hand from the layout
// of struct nlattr (nla_len u16, nla_type u16, payload, zero padding to 4)
// on a little-endian host, as the rest of tcwire assumes.

// tcMirred is the 28-byte struct tc_mirred of the canonical redirect:
// index 0, capab 0, action TC_ACT_STOLEN (4), refcnt 0, bindcnt 0,
// eaction TCA_EGRESS_REDIR (1), ifindex 3.
var tcMirred = []byte{
	0x00, 0x00, 0x00, 0x00, // index
	0x00, 0x00, 0x00, 0x00, // capab
	0x04, 0x00, 0x00, 0x00, // action
	0x00, 0x00, 0x00, 0x00, // refcnt
	0x00, 0x00, 0x00, 0x00, // bindcnt
	0x01, 0x00, 0x00, 0x00, // eaction
	0x03, 0x00, 0x00, 0x00, // ifindex
}

// encodeMirredAct writes TCA_U32_ACT (7, unflagged) holding one action
// (order 1, unflagged) with TCA_ACT_KIND "mirred" and TCA_ACT_OPTIONS
// (2|NLA_F_NESTED) holding TCA_MIRRED_PARMS (2), as tc does.
func encodeMirredAct(e *nl.Encoder) {
	e.Nest(7, func(e *nl.Encoder) {
		e.Nest(1, func(e *nl.Encoder) {
			e.String(1, "mirred")
			e.Nest(2|nl.NLA_F_NESTED, func(e *nl.Encoder) {
				e.Attr(2, tcMirred)
			})
		})
	})
}

func TestEncoder(t *testing.T) {
	tests := []struct {
		name   string
		prefix []byte
		enc    func(e *nl.Encoder)
		want   []byte
	}{
		{
			name: "empty",
			enc:  func(*nl.Encoder) {},
			want: nil,
		},
		{
			name: "u8",
			enc:  func(e *nl.Encoder) { e.Uint8(1, 0x2a) },
			want: []byte{0x05, 0x00, 0x01, 0x00, 0x2a, 0x00, 0x00, 0x00},
		},
		{
			name: "u16",
			enc:  func(e *nl.Encoder) { e.Uint16(2, 0x1234) },
			want: []byte{0x06, 0x00, 0x02, 0x00, 0x34, 0x12, 0x00, 0x00},
		},
		{
			name: "u32",
			enc:  func(e *nl.Encoder) { e.Uint32(3, 0xdeadbeef) },
			want: []byte{0x08, 0x00, 0x03, 0x00, 0xef, 0xbe, 0xad, 0xde},
		},
		{
			name: "raw empty payload",
			enc:  func(e *nl.Encoder) { e.Attr(7, nil) },
			want: []byte{0x04, 0x00, 0x07, 0x00},
		},
		{
			name: "raw 3 bytes",
			enc:  func(e *nl.Encoder) { e.Attr(9, []byte{0xaa, 0xbb, 0xcc}) },
			want: []byte{0x07, 0x00, 0x09, 0x00, 0xaa, 0xbb, 0xcc, 0x00},
		},
		{
			name: "empty string is one NUL",
			enc:  func(e *nl.Encoder) { e.String(1, "") },
			want: []byte{0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00},
		},
		{
			name: "string mirred: nla_len 11, one pad byte",
			enc:  func(e *nl.Encoder) { e.String(1, "mirred") },
			want: []byte{
				0x0b, 0x00, 0x01, 0x00,
				'm', 'i', 'r', 'r', 'e', 'd', 0x00, // nla_len counts the NUL
				0x00, // padding, not counted
			},
		},
		{
			name: "string ingress: nla_len 12, no padding",
			enc:  func(e *nl.Encoder) { e.String(1, "ingress") },
			want: []byte{0x0c, 0x00, 0x01, 0x00, 'i', 'n', 'g', 'r', 'e', 's', 's', 0x00},
		},
		{
			name: "string u32",
			enc:  func(e *nl.Encoder) { e.String(1, "u32") },
			want: []byte{0x08, 0x00, 0x01, 0x00, 'u', '3', '2', 0x00},
		},
		{
			name: "sequence keeps alignment",
			enc: func(e *nl.Encoder) {
				e.Uint8(1, 1)
				e.Uint16(2, 2)
				e.Uint32(3, 3)
			},
			want: []byte{
				0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
				0x06, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00,
				0x08, 0x00, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00,
			},
		},
		{
			name: "type flags are written as given",
			enc:  func(e *nl.Encoder) { e.Uint16(5|nl.NLA_F_NET_BYTEORDER, 0x0800) },
			want: []byte{0x06, 0x00, 0x05, 0x40, 0x00, 0x08, 0x00, 0x00},
		},
		{
			name: "empty nest",
			enc:  func(e *nl.Encoder) { e.Nest(2|nl.NLA_F_NESTED, func(*nl.Encoder) {}) },
			want: []byte{0x04, 0x00, 0x02, 0x80},
		},
		{
			name: "nest without NLA_F_NESTED",
			enc: func(e *nl.Encoder) {
				e.Nest(2, func(e *nl.Encoder) { e.Uint32(1, 7) })
			},
			want: []byte{
				0x0c, 0x00, 0x02, 0x00,
				0x08, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00,
			},
		},
		{
			name: "nest with NLA_F_NESTED",
			enc: func(e *nl.Encoder) {
				e.Nest(2|nl.NLA_F_NESTED, func(e *nl.Encoder) { e.Uint32(1, 7) })
			},
			want: []byte{
				0x0c, 0x00, 0x02, 0x80,
				0x08, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00,
			},
		},
		{
			name: "nest length includes its last child's padding",
			enc: func(e *nl.Encoder) {
				e.Nest(1, func(e *nl.Encoder) { e.String(1, "mirred") })
			},
			want: []byte{
				0x10, 0x00, 0x01, 0x00, // 4 + 12
				0x0b, 0x00, 0x01, 0x00, 'm', 'i', 'r', 'r', 'e', 'd', 0x00, 0x00,
			},
		},
		{
			name: "nest in nest with inner padding",
			enc: func(e *nl.Encoder) {
				e.Nest(7, func(e *nl.Encoder) {
					e.Nest(1, func(e *nl.Encoder) {
						e.String(1, "mirred")
						e.Nest(2|nl.NLA_F_NESTED, func(e *nl.Encoder) { e.Uint8(3, 1) })
					})
				})
			},
			want: []byte{
				0x20, 0x00, 0x07, 0x00, // 4 + 28
				0x1c, 0x00, 0x01, 0x00, // 4 + 12 + 12
				0x0b, 0x00, 0x01, 0x00, 'm', 'i', 'r', 'r', 'e', 'd', 0x00, 0x00,
				0x0c, 0x00, 0x02, 0x80, // 4 + 8
				0x05, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,
			},
		},
		{
			name: "tc's mirred action, as in the protocol notes",
			enc:  encodeMirredAct,
			want: append([]byte{
				0x38, 0x00, 0x07, 0x00, // TCA_U32_ACT: 4 + 52
				0x34, 0x00, 0x01, 0x00, // action 1: 4 + 12 + 36
				0x0b, 0x00, 0x01, 0x00, 'm', 'i', 'r', 'r', 'e', 'd', 0x00, 0x00, // TCA_ACT_KIND
				0x24, 0x00, 0x02, 0x80, // TCA_ACT_OPTIONS|NLA_F_NESTED: 4 + 32
				0x20, 0x00, 0x02, 0x00, // TCA_MIRRED_PARMS: 4 + 28
			}, tcMirred...),
		},
		{
			name:   "appends after a prefix",
			prefix: []byte{0xde, 0xad, 0xbe, 0xef},
			enc:    func(e *nl.Encoder) { e.Uint8(1, 0xff) },
			want:   []byte{0xde, 0xad, 0xbe, 0xef, 0x05, 0x00, 0x01, 0x00, 0xff, 0x00, 0x00, 0x00},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := nl.NewEncoder(tt.prefix)
			tt.enc(e)
			if diff := nl.Diff(tt.want, e.Bytes()); diff != "" {
				t.Fatalf("unexpected bytes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncoderPaddingIsZeroed(t *testing.T) {
	// A reused buffer with garbage in its spare capacity must not leak that
	// garbage into padding.
	buf := bytes.Repeat([]byte{0xff}, 64)[:0]
	e := nl.NewEncoder(buf)
	e.String(1, "mirred")
	e.Uint8(2, 0)
	want := []byte{
		0x0b, 0x00, 0x01, 0x00, 'm', 'i', 'r', 'r', 'e', 'd', 0x00, 0x00,
		0x05, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	}
	if diff := nl.Diff(want, e.Bytes()); diff != "" {
		t.Fatalf("unexpected bytes (-want +got):\n%s", diff)
	}
}

func TestAlign(t *testing.T) {
	for _, tt := range []struct{ in, want int }{
		{0, 0}, {1, 4}, {3, 4}, {4, 4}, {5, 8}, {11, 12}, {12, 12}, {17, 20},
	} {
		if got := nl.Align(tt.in); got != tt.want {
			t.Errorf("Align(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseAttrs(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want []nl.Attr
	}{
		{
			name: "empty",
		},
		{
			name: "u32",
			b:    []byte{0x08, 0x00, 0x03, 0x00, 0xef, 0xbe, 0xad, 0xde},
			want: []nl.Attr{{Type: 3, Data: []byte{0xef, 0xbe, 0xad, 0xde}}},
		},
		{
			name: "padding is not data",
			b: []byte{
				0x0b, 0x00, 0x01, 0x00, 'm', 'i', 'r', 'r', 'e', 'd', 0x00, 0x00,
				0x05, 0x00, 0x02, 0x00, 0x09, 0x00, 0x00, 0x00,
			},
			want: []nl.Attr{
				{Type: 1, Data: []byte("mirred\x00")},
				{Type: 2, Data: []byte{0x09}},
			},
		},
		{
			name: "last attribute without its padding",
			b:    []byte{0x05, 0x00, 0x02, 0x00, 0x09},
			want: []nl.Attr{{Type: 2, Data: []byte{0x09}}},
		},
		{
			name: "NLA_F_NESTED reported, flags stripped from type",
			b: []byte{
				0x0c, 0x00, 0x02, 0x80,
				0x08, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00,
				0x0c, 0x00, 0x02, 0x00,
				0x08, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00,
				0x06, 0x00, 0x05, 0x40, 0x08, 0x00, 0x00, 0x00,
			},
			want: []nl.Attr{
				{Type: 2, Nested: true, Data: []byte{0x08, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00}},
				{Type: 2, Nested: false, Data: []byte{0x08, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00}},
				{Type: 5, Data: []byte{0x08, 0x00}},
			},
		},
		{
			name: "unknown and zero types kept, in order",
			b: []byte{
				0x04, 0x00, 0xff, 0x3f,
				0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
				0x04, 0x00, 0x63, 0x00,
			},
			want: []nl.Attr{
				{Type: 0x3fff, Data: []byte{}},
				{Type: 0, Data: []byte{0x01}},
				{Type: 99, Data: []byte{}},
			},
		},
		{
			name: "trailing bytes shorter than a header are ignored",
			b:    []byte{0x05, 0x00, 0x01, 0x00, 0x2a, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff},
			want: []nl.Attr{{Type: 1, Data: []byte{0x2a}}},
		},
		{
			name: "only trailing bytes",
			b:    []byte{0x08, 0x00, 0x01},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nl.ParseAttrs(tt.b)
			if err != nil {
				t.Fatalf("failed to parse: %v", err)
			}
			if diff := nl.Diff(tt.want, got); diff != "" {
				t.Fatalf("unexpected attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAttrsErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		// good is the number of attributes before the bad one, which
		// ParseAttrs still returns.
		good int
	}{
		{
			name: "length past end",
			b:    []byte{0x08, 0x00, 0x01, 0x00, 0x01, 0x00},
		},
		{
			name: "maximum length",
			b:    []byte{0xff, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00},
		},
		{
			name: "length zero",
			b:    []byte{0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00},
		},
		{
			name: "length shorter than header",
			b:    []byte{0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00},
		},
		{
			name: "second attribute overlong",
			b: []byte{
				0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
				0x0c, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00,
			},
			good: 1,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nl.ParseAttrs(tt.b)
			if !errors.Is(err, nl.ErrTruncated) {
				t.Fatalf("expected ErrTruncated, got: %v", err)
			}
			if len(got) != tt.good {
				t.Fatalf("expected %d good attributes, got %d: %+v", tt.good, len(got), got)
			}
		})
	}
}

func TestParseAttrsRoundTrip(t *testing.T) {
	e := nl.NewEncoder(nil)
	e.Uint8(1, 0x2a)
	e.Uint16(2, 0xbeef)
	e.Uint32(3, 0xfffffff1)
	e.String(4, "mirred")
	e.Attr(0x1234, []byte{1, 2, 3, 4, 5})
	encodeMirredAct(e)

	attrs, err := nl.ParseAttrs(e.Bytes())
	if err != nil {
		t.Fatalf("failed to parse: %v", err)
	}
	want := []nl.Attr{
		{Type: 1, Data: []byte{0x2a}},
		{Type: 2, Data: []byte{0xef, 0xbe}},
		{Type: 3, Data: []byte{0xf1, 0xff, 0xff, 0xff}},
		{Type: 4, Data: []byte("mirred\x00")},
		{Type: 0x1234, Data: []byte{1, 2, 3, 4, 5}},
	}
	if diff := nl.Diff(want, attrs[:5]); diff != "" {
		t.Fatalf("unexpected attributes (-want +got):\n%s", diff)
	}
	if got := attrs[3].String(); got != "mirred" {
		t.Errorf("String() = %q, want %q", got, "mirred")
	}
	if v, err := attrs[2].Uint32(); err != nil || v != 0xfffffff1 {
		t.Errorf("Uint32() = %#x, %v; want 0xfffffff1", v, err)
	}

	// Walk down the mirred nest: U32_ACT → action 1 → ACT_OPTIONS (flagged)
	// → MIRRED_PARMS.
	act := attrs[5]
	if act.Type != 7 || act.Nested {
		t.Fatalf("TCA_U32_ACT: type %d nested %v, want 7 unflagged", act.Type, act.Nested)
	}
	entries, err := nl.ParseAttrs(act.Data)
	if err != nil || len(entries) != 1 || entries[0].Type != 1 || entries[0].Nested {
		t.Fatalf("action table: %+v, %v", entries, err)
	}
	inner, err := nl.ParseAttrs(entries[0].Data)
	if err != nil || len(inner) != 2 {
		t.Fatalf("action: %+v, %v", inner, err)
	}
	if inner[0].Type != 1 || inner[0].String() != "mirred" {
		t.Errorf("TCA_ACT_KIND: %+v", inner[0])
	}
	if inner[1].Type != 2 || !inner[1].Nested {
		t.Errorf("TCA_ACT_OPTIONS: type %d nested %v, want 2 flagged", inner[1].Type, inner[1].Nested)
	}
	parms, err := nl.ParseAttrs(inner[1].Data)
	if err != nil || len(parms) != 1 || parms[0].Type != 2 {
		t.Fatalf("TCA_MIRRED_PARMS: %+v, %v", parms, err)
	}
	if diff := nl.Diff(tcMirred, parms[0].Data); diff != "" {
		t.Fatalf("unexpected tc_mirred (-want +got):\n%s", diff)
	}
}

func TestAttrDecoders(t *testing.T) {
	t.Run("Uint32", func(t *testing.T) {
		if v, err := (nl.Attr{Data: []byte{1, 0, 0, 0}}).Uint32(); err != nil || v != 1 {
			t.Errorf("Uint32 = %d, %v", v, err)
		}
		for _, b := range [][]byte{nil, {1}, {1, 2, 3}} {
			if _, err := (nl.Attr{Type: 6, Data: b}).Uint32(); !errors.Is(err, nl.ErrTruncated) {
				t.Errorf("Uint32 of %d bytes: expected ErrTruncated, got %v", len(b), err)
			}
		}
	})
	t.Run("Uint64", func(t *testing.T) {
		if v, err := (nl.Attr{Data: []byte{1, 0, 0, 0, 0, 0, 0, 0x80}}).Uint64(); err != nil || v != 0x8000000000000001 {
			t.Errorf("Uint64 = %#x, %v", v, err)
		}
		if _, err := (nl.Attr{Data: []byte{1, 2, 3, 4}}).Uint64(); !errors.Is(err, nl.ErrTruncated) {
			t.Errorf("Uint64 of 4 bytes: expected ErrTruncated, got %v", err)
		}
	})
	t.Run("String", func(t *testing.T) {
		for _, tt := range []struct {
			b    []byte
			want string
		}{
			{nil, ""},
			{[]byte{0}, ""},
			{[]byte("ingress\x00"), "ingress"},
			{[]byte("eth0"), "eth0"}, // NLA_STRING, no terminator
			{[]byte("u32\x00junk"), "u32"},
		} {
			if got := (nl.Attr{Data: tt.b}).String(); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.b, got, tt.want)
			}
		}
	})
}

func FuzzParseAttrs(f *testing.F) {
	e := nl.NewEncoder(nil)
	e.String(1, "u32")
	e.Nest(2, encodeMirredAct)
	f.Add(e.Bytes())
	f.Add([]byte{0x0b, 0x00, 0x01, 0x00, 'm', 'i', 'r', 'r', 'e', 'd', 0x00, 0x00})
	f.Add([]byte{0x0c, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x07, 0x00, 0x00, 0x00})
	f.Add([]byte{0x05, 0x00, 0x01, 0x00, 0x2a, 0x00, 0x00, 0x00, 0xff, 0xff})
	f.Add([]byte{0x00, 0x00, 0x01, 0x00})
	f.Add([]byte{0xff, 0xff, 0x01, 0x00, 0x00})
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, b []byte) {
		attrs, err := nl.ParseAttrs(b)
		if err != nil && !errors.Is(err, nl.ErrTruncated) {
			t.Fatalf("error is not ErrTruncated: %v", err)
		}
		total := 0
		for _, a := range attrs {
			if a.Type&^nl.NLA_TYPE_MASK != 0 {
				t.Fatalf("type %#x carries flag bits", a.Type)
			}
			// The accessors: a payload too short is an error, never a
			// panic; a string stops at the first NUL.
			if _, err := a.Uint32(); (err == nil) != (len(a.Data) >= 4) {
				t.Fatalf("Uint32 of %d bytes: %v", len(a.Data), err)
			}
			if _, err := a.Uint64(); (err == nil) != (len(a.Data) >= 8) {
				t.Fatalf("Uint64 of %d bytes: %v", len(a.Data), err)
			}
			if s := a.String(); len(s) > len(a.Data) || strings.IndexByte(s, 0) >= 0 || !bytes.HasPrefix(a.Data, []byte(s)) {
				t.Fatalf("String of % x = %q", a.Data, s)
			}
			total += nl.Align(4 + len(a.Data))
		}
		if total > nl.Align(len(b)) {
			t.Fatalf("attributes cover %d bytes of %d", total, len(b))
		}
		if err != nil {
			return
		}

		// Re-encode what was parsed: it must parse to the same attributes
		// (input padding bytes and NLA_F_NET_BYTEORDER are not preserved).
		e := nl.NewEncoder(nil)
		for _, a := range attrs {
			typ := a.Type
			if a.Nested {
				typ |= nl.NLA_F_NESTED
			}
			e.Attr(typ, a.Data)
		}
		again, err := nl.ParseAttrs(e.Bytes())
		if err != nil {
			t.Fatalf("re-encoded attributes do not parse: %v", err)
		}
		if len(again) != len(attrs) {
			t.Fatalf("re-encoded %d attributes, parsed %d", len(attrs), len(again))
		}
		for i := range attrs {
			if attrs[i].Type != again[i].Type || attrs[i].Nested != again[i].Nested || !bytes.Equal(attrs[i].Data, again[i].Data) {
				t.Fatalf("attribute %d: %+v became %+v", i, attrs[i], again[i])
			}
		}
	})
}

func BenchmarkEncoder(b *testing.B) {
	b.Run("new buffer", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e := nl.NewEncoder(nil)
			e.String(1, "u32")
			e.Nest(2, encodeMirredAct)
			if len(e.Bytes()) != 68 {
				b.Fatalf("encoded %d bytes", len(e.Bytes()))
			}
		}
	})
	b.Run("reused buffer", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for b.Loop() {
			e := nl.NewEncoder(buf[:0])
			e.String(1, "u32")
			e.Nest(2, encodeMirredAct)
			if len(e.Bytes()) != 68 {
				b.Fatalf("encoded %d bytes", len(e.Bytes()))
			}
		}
	})
}
