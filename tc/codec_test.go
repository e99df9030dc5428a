package tc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// TestU32SelMatch is the packing table of `match uSIZE VAL MASK at OFF`: the
// field lands in its aligned 32-bit word, in network order, and matches on
// one word merge into one key.
func TestU32SelMatch(t *testing.T) {
	type m struct {
		size      int
		val, mask uint32
		off       int32
	}
	for _, c := range []struct {
		name    string
		matches []m
		want    []U32Key
	}{
		{"u8 at 0", []m{{8, 0x12, 0xff, 0}}, []U32Key{{Mask: 0xff000000, Val: 0x12000000, Off: 0}}},
		{"u8 at 1", []m{{8, 0x12, 0xff, 1}}, []U32Key{{Mask: 0x00ff0000, Val: 0x00120000, Off: 0}}},
		{"u8 at 2", []m{{8, 0x12, 0xff, 2}}, []U32Key{{Mask: 0x0000ff00, Val: 0x00001200, Off: 0}}},
		{"u8 at 3", []m{{8, 0x12, 0xff, 3}}, []U32Key{{Mask: 0x000000ff, Val: 0x00000012, Off: 0}}},
		{"u8 at 9 (ip protocol)", []m{{8, 1, 0xff, 9}}, []U32Key{{Mask: 0x00ff0000, Val: 0x00010000, Off: 8}}},
		{"u8 catch-all", []m{{8, 0, 0, 0}}, []U32Key{{}}},
		{"u8 value outside mask", []m{{8, 0xff, 0x0f, 0}}, []U32Key{{Mask: 0x0f000000, Val: 0x0f000000}}},
		{"u16 at 0", []m{{16, 0x1234, 0xffff, 0}}, []U32Key{{Mask: 0xffff0000, Val: 0x12340000}}},
		{"u16 at 2", []m{{16, 0x1234, 0xffff, 2}}, []U32Key{{Mask: 0x0000ffff, Val: 0x00001234}}},
		{"u16 at 12 (ethertype)", []m{{16, 0x0800, 0xffff, 12}}, []U32Key{{Mask: 0xffff0000, Val: 0x08000000, Off: 12}}},
		{"u32 at 16", []m{{32, 0x0a000001, 0xffffffff, 16}}, []U32Key{{Mask: 0xffffffff, Val: 0x0a000001, Off: 16}}},
		{"u32 partial mask", []m{{32, 0x0a000000, 0xff000000, 12}}, []U32Key{{Mask: 0xff000000, Val: 0x0a000000, Off: 12}}},
		{"two u8 in one word", []m{{8, 0x45, 0xff, 0}, {8, 0x01, 0xff, 1}},
			[]U32Key{{Mask: 0xffff0000, Val: 0x45010000}}},
		{"u8 and u16 in one word", []m{{16, 0x0800, 0xffff, 12}, {8, 0x45, 0xff, 14}},
			[]U32Key{{Mask: 0xffffff00, Val: 0x08004500, Off: 12}}},
		{"same match twice", []m{{8, 6, 0xff, 9}, {8, 6, 0xff, 9}},
			[]U32Key{{Mask: 0x00ff0000, Val: 0x00060000, Off: 8}}},
		{"overlap that agrees", []m{{16, 0x1234, 0xffff, 0}, {8, 0x12, 0xff, 0}},
			[]U32Key{{Mask: 0xffff0000, Val: 0x12340000}}},
		{"two words two keys", []m{{16, 0x0800, 0xffff, 12}, {32, 0x0a000001, 0xffffffff, 16}},
			[]U32Key{{Mask: 0xffff0000, Val: 0x08000000, Off: 12}, {Mask: 0xffffffff, Val: 0x0a000001, Off: 16}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s U32Sel
			for _, x := range c.matches {
				if err := s.Match(x.size, x.val, x.mask, x.off); err != nil {
					t.Fatalf("Match(%d, %#x, %#x, %d): %v", x.size, x.val, x.mask, x.off, err)
				}
			}
			if !reflect.DeepEqual(s.Keys, c.want) {
				t.Errorf("keys\n got %+v\nwant %+v", s.Keys, c.want)
			}
		})
	}
}

func TestU32SelMatchErrors(t *testing.T) {
	for _, c := range []struct {
		name      string
		first     []int64 // an earlier match (size, val, mask, off), if any
		size      int
		val, mask uint32
		off       int32
		culprit   string
	}{
		{"u16 at odd offset", nil, 16, 0x800, 0xffff, 13, "offset must be even"},
		{"u32 at unaligned offset", nil, 32, 1, 0xffffffff, 2, "multiple of 4"},
		{"u32 at 6", nil, 32, 1, 0xffffffff, 6, "at 6"},
		{"size 24", nil, 24, 0, 0, 0, "size 24"},
		{"size 0", nil, 0, 0, 0, 0, "size 0"},
		{"u8 value too wide", nil, 8, 0x100, 0xff, 0, "0x100"},
		{"u8 mask too wide", nil, 8, 0x1, 0x1ff, 0, "0x1ff"},
		{"u16 value too wide", nil, 16, 0x10000, 0xffff, 0, "0x10000"},
		{"contradiction u8", []int64{8, 1, 0xff, 9}, 8, 2, 0xff, 9, "contradicts"},
		{"contradiction u16 over u8", []int64{8, 0x45, 0xff, 14}, 16, 0x4600, 0xff00, 14, "contradicts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s U32Sel
			if c.first != nil {
				if err := s.Match(int(c.first[0]), uint32(c.first[1]), uint32(c.first[2]), int32(c.first[3])); err != nil {
					t.Fatal(err)
				}
			}
			before := append([]U32Key(nil), s.Keys...)
			err := s.Match(c.size, c.val, c.mask, c.off)
			if err == nil || !strings.Contains(err.Error(), c.culprit) {
				t.Fatalf("Match: error %v, want one mentioning %q", err, c.culprit)
			}
			if !reflect.DeepEqual(s.Keys, before) {
				t.Errorf("a failed Match changed the keys: %+v → %+v", before, s.Keys)
			}
		})
	}

	// At most U32MaxKeys keys, one per distinct word.
	var s U32Sel
	for i := 0; i < U32MaxKeys; i++ {
		if err := s.Match(32, uint32(i), 0xffffffff, int32(4*i)); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if err := s.Match(8, 1, 0xff, 4*U32MaxKeys); err == nil || !strings.Contains(err.Error(), "128") {
		t.Errorf("key %d: error %v, want one naming the limit", U32MaxKeys+1, err)
	}
	// A match merged into an existing word still fits.
	if err := s.Match(8, 0, 0, 0); err != nil {
		t.Errorf("merge into a full selector: %v", err)
	}
}

// TestU32SelLayout pins struct tc_u32_sel's byte order: offmask, hmask and
// the keys' mask and val in network order, the rest host order.
func TestU32SelLayout(t *testing.T) {
	s := U32Sel{
		Flags: TC_U32_TERMINAL | TC_U32_OFFSET, Offshift: 6, Offmask: 0x0f00, Off: 0x0102,
		Offoff: -2, Hoff: 0x0304, Hmask: 0x0000ff00,
		Keys: []U32Key{{Mask: 0xffff0000, Val: 0x08000000, Off: 12, Offmask: -1}},
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	h := func(s string) []byte {
		s = strings.ReplaceAll(s, " ", "")
		out, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	le16 := func(v uint16) []byte { return nl.AppendUint16(nil, v) }
	le32 := func(v uint32) []byte { return nl.AppendUint32(nil, v) }
	want := bytes.Join([][]byte{
		{0x03, 6, 1, 0}, h("0f00"), le16(0x0102), le16(0xfffe), le16(0x0304), h("0000ff00"),
		h("ffff0000"), h("08000000"), le32(12), le32(0xffffffff),
	}, nil)
	if !bytes.Equal(b, want) {
		t.Errorf("MarshalBinary\n got %x\nwant %x", b, want)
	}
}

func TestU32SelRoundTrip(t *testing.T) {
	for _, s := range []U32Sel{
		{},
		{Flags: TC_U32_TERMINAL, Keys: []U32Key{{}}},
		{Flags: TC_U32_TERMINAL | TC_U32_VAROFFSET | TC_U32_EAT, Offshift: 3, Offmask: 0xabcd, Off: 0x1234,
			Offoff: -100, Hoff: -7, Hmask: 0xdeadbeef,
			Keys: []U32Key{{Mask: 0xff, Val: 0x11, Off: -4, Offmask: 7}, {Mask: 0xffffffff, Val: 0x80000001, Off: 1 << 20, Offmask: -1 << 31}}},
	} {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != u32SelLen+len(s.Keys)*u32KeyLen {
			t.Errorf("%d keys: %d bytes", len(s.Keys), len(b))
		}
		var got U32Sel
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("round trip\n got %+v\nwant %+v", got, s)
		}
		// Extra bytes after the keys (a longer attribute) are ignored.
		var got2 U32Sel
		if err := got2.UnmarshalBinary(append(b, 1, 2, 3, 4)); err != nil || !reflect.DeepEqual(got2, s) {
			t.Errorf("with trailing bytes: %+v, %v", got2, err)
		}
	}

	if _, err := (&U32Sel{Keys: make([]U32Key, 256)}).MarshalBinary(); err == nil || !strings.Contains(err.Error(), "256 keys") {
		t.Errorf("256 keys: error %v", err)
	}
	var s U32Sel
	if err := s.UnmarshalBinary(make([]byte, 15)); !errors.Is(err, nl.ErrTruncated) {
		t.Errorf("15 bytes: %v, want ErrTruncated", err)
	}
	b := make([]byte, u32SelLen+u32KeyLen)
	b[2] = 2 // nkeys 2, one key present
	if err := s.UnmarshalBinary(b); !errors.Is(err, nl.ErrTruncated) || !strings.Contains(err.Error(), "2 keys") {
		t.Errorf("2 keys in 16 bytes: %v, want ErrTruncated naming the keys", err)
	}
}

func TestMirredRoundTrip(t *testing.T) {
	for _, m := range []*Mirred{
		EgressRedirect(4, "tap0"),
		EgressMirror(7, "peer1"),
		{Index: 9, Capab: 1, Action: TC_ACT_PIPE, Refcnt: 2, Bindcnt: 1, Eaction: TCA_INGRESS_REDIR, Ifindex: 0xffffffff},
		{Action: TC_ACT_UNSPEC, Refcnt: -1, Bindcnt: -2, Eaction: TCA_INGRESS_MIRROR, Ifindex: 1},
	} {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != tcMirredLen {
			t.Errorf("tc_mirred is %d bytes, want 28", len(b))
		}
		if nl.Uint32(b[8:]) != uint32(m.Action) || nl.Uint32(b[20:]) != uint32(m.Eaction) || nl.Uint32(b[24:]) != m.Ifindex {
			t.Errorf("field offsets wrong: %x", b)
		}
		// The options nest as the kernel reports it: a timestamp first,
		// then the parameters.
		e := nl.NewEncoder(nil)
		e.Attr(uapi.TCA_MIRRED_TM, make([]byte, 32))
		e.Attr(uapi.TCA_MIRRED_PARMS, b)
		var got Mirred
		if err := got.UnmarshalBinary(e.Bytes()); err != nil {
			t.Fatal(err)
		}
		want := *m
		want.Dev = "" // names the target in command lines only
		if got != want {
			t.Errorf("round trip\n got %+v\nwant %+v", got, want)
		}
	}
	if r := EgressRedirect(4, "tap0"); !r.IsRedirect() || r.Action != TC_ACT_STOLEN || r.Eaction != TCA_EGRESS_REDIR || r.Ifindex != 4 {
		t.Errorf("EgressRedirect = %+v", r)
	}
	if r := EgressMirror(4, "tap0"); r.IsRedirect() || r.Action != TC_ACT_PIPE || r.Eaction != TCA_EGRESS_MIRROR {
		t.Errorf("EgressMirror = %+v", r)
	}
	// A redirect that does not steal the frame is a copy.
	if r := (&Mirred{Eaction: TCA_EGRESS_REDIR, Action: TC_ACT_PIPE}); r.IsRedirect() {
		t.Error("redirect with PIPE counted as a redirect")
	}

	var m Mirred
	e := nl.NewEncoder(nil)
	e.Attr(uapi.TCA_MIRRED_PARMS, make([]byte, 27))
	if err := m.UnmarshalBinary(e.Bytes()); !errors.Is(err, nl.ErrTruncated) {
		t.Errorf("27-byte tc_mirred: %v, want ErrTruncated", err)
	}
	e = nl.NewEncoder(nil)
	e.Attr(uapi.TCA_MIRRED_TM, make([]byte, 32))
	if err := m.UnmarshalBinary(e.Bytes()); err == nil || !strings.Contains(err.Error(), "TCA_MIRRED_PARMS") {
		t.Errorf("no parms: %v", err)
	}
	if err := m.UnmarshalBinary([]byte{0xff, 0, 0, 0}); !errors.Is(err, nl.ErrTruncated) {
		t.Errorf("bad attribute: %v, want ErrTruncated", err)
	}
}

// TestActionRoundTrip encodes an action table as tc does and decodes it as a
// dump would return it.
func TestActionRoundTrip(t *testing.T) {
	acts := []Action{
		{Kind: KindMirred, Mirred: EgressRedirect(4, "tap0"), Cookie: []byte{1, 2, 3}},
		{Kind: KindMirred, Mirred: EgressMirror(9, "peer1")},
		{Kind: "gact"},
	}
	e := nl.NewEncoder(nil)
	encodeActions(e, acts)
	got, err := decodeActions(e.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(acts) {
		t.Fatalf("%d actions decoded, want %d", len(got), len(acts))
	}
	for i, a := range acts {
		g := got[i]
		if g.Kind != a.Kind || !bytes.Equal(g.Cookie, a.Cookie) || (g.Mirred == nil) != (a.Mirred == nil) {
			t.Errorf("action %d: %+v, want %+v", i, g, a)
			continue
		}
		if a.Mirred != nil {
			want := *a.Mirred
			want.Dev = ""
			if *g.Mirred != want {
				t.Errorf("action %d mirred: %+v, want %+v", i, *g.Mirred, want)
			}
		}
	}
	// The entries are numbered 1…N in order and are not flagged nested; the
	// options nest is (as tc sends it).
	attrs, _ := nl.ParseAttrs(e.Bytes())
	for i, a := range attrs {
		if int(a.Type) != i+1 || a.Nested {
			t.Errorf("entry %d: type %d nested %v", i, a.Type, a.Nested)
		}
		inner, _ := nl.ParseAttrs(a.Data)
		for _, in := range inner {
			if in.Type == uapi.TCA_ACT_OPTIONS && !in.Nested {
				t.Errorf("entry %d: TCA_ACT_OPTIONS without NLA_F_NESTED", i)
			}
		}
	}
	// A mirred entry without options decodes without parameters.
	e = nl.NewEncoder(nil)
	e.String(uapi.TCA_ACT_KIND, KindMirred)
	e.Uint32(uapi.TCA_ACT_INDEX, 5)
	var a Action
	if err := a.UnmarshalBinary(e.Bytes()); err != nil || a.Kind != KindMirred || a.Mirred != nil || a.Index != 5 {
		t.Errorf("mirred without options: %+v, %v", a, err)
	}
}

// TestValidation: what the kernel would refuse is refused before sending,
// with a message that names the culprit.
func TestValidation(t *testing.T) {
	good := func() Filter {
		return Filter{Dev: "eth0", Ifindex: 3, Parent: IngressHandle, Protocol: ETH_P_ALL,
			U32: CatchAll(Action{Kind: KindMirred, Mirred: EgressRedirect(4, "tap0")})}
	}
	if _, err := AddFilterRequest(good()); err != nil {
		t.Fatalf("valid filter: %v", err)
	}
	for _, c := range []struct {
		name    string
		mod     func(f *Filter)
		culprit []string
	}{
		{"protocol 0", func(f *Filter) { f.Protocol = 0 }, []string{"protocol 0", "ETH_P_ALL"}},
		{"no u32", func(f *Filter) { f.U32 = nil }, []string{"U32 is nil"}},
		{"other kind", func(f *Filter) { f.Kind = "bpf" }, []string{`"bpf"`}},
		{"no ifindex", func(f *Filter) { f.Ifindex = 0 }, []string{"ifindex 0", `"eth0"`}},
		{"negative ifindex", func(f *Filter) { f.Ifindex = -1 }, []string{"ifindex -1"}},
		{"no parent", func(f *Filter) { f.Parent = 0 }, []string{"parent"}},
		{"no keys", func(f *Filter) { f.U32.Sel.Keys = nil }, []string{"no keys"}},
		{"too many keys", func(f *Filter) { f.U32.Sel.Keys = make([]U32Key, U32MaxKeys+1) }, []string{"129 keys", "128"}},
		{"cookie 17 bytes", func(f *Filter) { f.U32.Actions[0].Cookie = make([]byte, 17) }, []string{"cookie of 17 bytes", "16", "mirred"}},
		{"mirred without ifindex", func(f *Filter) { f.U32.Actions[0].Mirred.Ifindex = 0 }, []string{"egress redirect", "no target device"}},
		{"mirred unknown eaction", func(f *Filter) { f.U32.Actions[0].Mirred.Eaction = 7 }, []string{"eaction 7"}},
		{"mirred without parameters", func(f *Filter) { f.U32.Actions[0].Mirred = nil }, []string{"mirred without parameters"}},
		{"mirred parameters on gact", func(f *Filter) { f.U32.Actions[0].Kind = "gact" }, []string{`"gact"`, "mirred parameters"}},
		{"second action bad", func(f *Filter) {
			f.U32.Actions = append(f.U32.Actions, Action{Kind: KindMirred, Mirred: EgressMirror(0, "peer1")})
		}, []string{"egress mirror", "no target device"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := good()
			c.mod(&f)
			for _, build := range []func(Filter) (nl.Request, error){AddFilterRequest, ReplaceFilterRequest} {
				r, err := build(f)
				if err == nil {
					t.Fatalf("accepted: %s", r.Cmd)
				}
				for _, w := range c.culprit {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if r.Data != nil {
					t.Errorf("a refused filter still built %d bytes", len(r.Data))
				}
			}
		})
	}
	// A 16-byte cookie is the kernel's limit and is fine.
	f := good()
	f.U32.Actions[0].Cookie = make([]byte, TC_ACT_COOKIE_MAX_SIZE)
	if _, err := AddFilterRequest(f); err != nil {
		t.Errorf("16-byte cookie: %v", err)
	}
}

// TestRequestCmd: the command line of each request builder reads back as
// the tc command that sends the same bytes (checked byte for byte by the
// golden tests); here the spellings golden_test does not reach.
func TestRequestCmd(t *testing.T) {
	chain := uint32(2)
	f := Filter{Ifindex: 3, Parent: ClsactEgress, Pref: 7, Handle: 0x80101800, Chain: &chain, Protocol: 0x88b5,
		U32: CatchAll(Action{Kind: KindMirred, Mirred: &Mirred{Eaction: TCA_INGRESS_MIRROR, Action: TC_ACT_STOLEN, Ifindex: 5, Index: 3}})}
	r, err := AddFilterRequest(f)
	if err != nil {
		t.Fatal(err)
	}
	want := "tc filter add dev if3 egress pref 7 handle 801:1:800 chain 2 protocol 0x88b5 u32 match u8 0 0 action mirred ingress mirror dev if5 stolen index 3"
	if r.Cmd != want {
		t.Errorf("Cmd\n got %q\nwant %q", r.Cmd, want)
	}
	for _, c := range []struct {
		q    Qdisc
		want string
	}{
		{Ingress(3, "eth0"), "tc qdisc add dev eth0 ingress"},
		{Clsact(3, ""), "tc qdisc add dev if3 clsact"},
		{Qdisc{Dev: "eth0", Parent: TC_H_ROOT, Kind: "noqueue"}, "tc qdisc add dev eth0 root noqueue"},
		{Qdisc{Dev: "eth0", Parent: TC_H_ROOT, Handle: MakeHandle(1, 0), Kind: "prio"}, "tc qdisc add dev eth0 root handle 1: prio"},
		{Qdisc{Dev: "eth0", Parent: MakeHandle(1, 1), Kind: "pfifo"}, "tc qdisc add dev eth0 parent 1:1 pfifo"},
		{Qdisc{Dev: "eth0", Parent: MakeHandle(1, 1), Handle: MakeHandle(10, 0), Kind: "pfifo"}, "tc qdisc add dev eth0 parent 1:1 handle a: pfifo"},
	} {
		if got := AddQdiscRequest(c.q).Cmd; got != c.want {
			t.Errorf("AddQdiscRequest(%+v).Cmd = %q, want %q", c.q, got, c.want)
		}
	}
	if got := FlushFiltersRequest(4, "tap0", ClsactIngress).Cmd; got != "tc filter del dev tap0 ingress" {
		t.Errorf("flush: %q", got)
	}
	if got := ListQdiscsRequest(0, "").Cmd; got != "tc qdisc show" {
		t.Errorf("list all: %q", got)
	}
}
