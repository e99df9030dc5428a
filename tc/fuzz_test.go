package tc

import (
	"bytes"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tcwire/tcwire/internal/uapi"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/nl/annotate"
)

// Fuzz targets for every decoder, seeded with what tc sent and the kernel
// answered in the fixtures. Each one must never panic, and where a decoded
// value can be encoded again, encoding it and decoding the result must give
// the same value.

// seeds are the pieces of every captured message, sorted by what decodes
// them.
type seeds struct {
	messages [][]byte // whole netlink messages
	filters  [][]byte // RTM_*TFILTER bodies (tcmsg and attributes)
	qdiscs   [][]byte // RTM_*QDISC bodies
	sels     [][]byte // TCA_U32_SEL payloads
	actions  [][]byte // action table entries (one action's attributes)
	mirreds  [][]byte // mirred TCA_ACT_OPTIONS payloads
}

func fixtureSeeds(t testing.TB) *seeds {
	t.Helper()
	fs, err := fixture.Glob(filepath.Join("..", "testdata", "tc"), "*.fixture")
	if err != nil {
		t.Fatal(err)
	}
	s := &seeds{}
	for _, f := range fs {
		for _, sent := range []bool{true, false} {
			msgs, err := f.Messages(sent)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				// tc's own link lookups (RTM_NEWLINK, kilobytes each) are
				// not tc messages; acks, errors and dump ends are kept.
				if isTCRequest(m.Type) || m.Type == unix.NLMSG_ERROR || m.Type == unix.NLMSG_DONE {
					s.messages = append(s.messages, m.Raw)
				}
				switch m.Type {
				case unix.RTM_NEWTFILTER, unix.RTM_DELTFILTER, unix.RTM_GETTFILTER:
					s.filters = append(s.filters, m.Payload())
					s.filterParts(m.Payload())
				case unix.RTM_NEWQDISC, unix.RTM_DELQDISC, unix.RTM_GETQDISC:
					s.qdiscs = append(s.qdiscs, m.Payload())
				}
			}
		}
	}
	return s
}

// filterParts collects the selectors, actions and mirred options of a filter.
func (s *seeds) filterParts(b []byte) {
	if len(b) < TcmsgLen {
		return
	}
	top, _ := nl.ParseAttrs(b[TcmsgLen:])
	for _, a := range top {
		if a.Type != uapi.TCA_OPTIONS {
			continue
		}
		opts, _ := nl.ParseAttrs(a.Data)
		for _, o := range opts {
			switch o.Type {
			case uapi.TCA_U32_SEL:
				s.sels = append(s.sels, o.Data)
			case uapi.TCA_U32_ACT:
				entries, _ := nl.ParseAttrs(o.Data)
				for _, e := range entries {
					s.actions = append(s.actions, e.Data)
					inner, _ := nl.ParseAttrs(e.Data)
					for _, in := range inner {
						if in.Type == uapi.TCA_ACT_OPTIONS {
							s.mirreds = append(s.mirreds, in.Data)
						}
					}
				}
			}
		}
	}
}

func addSeeds(f *testing.F, bs [][]byte) {
	f.Helper()
	if len(bs) == 0 {
		f.Fatal("no seeds in the fixtures")
	}
	for _, b := range bs {
		f.Add(b)
	}
}

// sameActions compares what an action table encodes: kind, mirred
// parameters and cookie (index and counters come from dumps only).
func sameActions(t *testing.T, got, want []Action) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d actions, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Kind != w.Kind || !bytes.Equal(g.Cookie, w.Cookie) || (g.Mirred == nil) != (w.Mirred == nil) ||
			(g.Mirred != nil && *g.Mirred != *w.Mirred) {
			t.Fatalf("action %d\n got %+v (mirred %+v)\nwant %+v (mirred %+v)", i, g, g.Mirred, w, w.Mirred)
		}
	}
}

func FuzzFilterUnmarshal(f *testing.F) {
	addSeeds(f, fixtureSeeds(f).filters)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fl Filter
		if err := fl.UnmarshalBinary(b); err != nil {
			return
		}
		_ = (Hook{Filters: []Filter{fl}}).Redirects()
		_ = PlanUnwire(Hook{Dev: Dev{"a", 1}, Qdisc: KindIngress, Filters: []Filter{fl}}, Hook{Dev: Dev{"b", 2}})
		checkForeign(t, fl)
		if fl.U32 == nil || fl.Kind != KindU32 {
			return
		}
		r, err := AddFilterRequest(fl)
		if err != nil {
			return // not something tcwire would send
		}
		var back Filter
		if err := back.UnmarshalBinary(r.Data); err != nil {
			t.Fatalf("re-encoded filter does not decode: %v\n%s", err, annotate.Dump(r.Data, nil))
		}
		if back.Ifindex != fl.Ifindex || back.Parent != fl.Parent || back.Pref != fl.Pref ||
			back.Protocol != fl.Protocol || back.Handle != fl.Handle || back.Kind != KindU32 ||
			!reflect.DeepEqual(back.Chain, fl.Chain) {
			t.Fatalf("round trip\n got %+v\nwant %+v", back, fl)
		}
		if back.U32 == nil || !reflect.DeepEqual(back.U32.Sel, fl.U32.Sel) {
			t.Fatalf("selector\n got %+v\nwant %+v", back.U32, fl.U32.Sel)
		}
		sameActions(t, back.U32.Actions, fl.U32.Actions)
	})
}

func FuzzQdiscUnmarshal(f *testing.F) {
	addSeeds(f, fixtureSeeds(f).qdiscs)
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Qdisc
		if err := q.UnmarshalBinary(b); err != nil {
			return
		}
		if len(q.Kind) > 255 {
			return // kinds are IFNAMSIZ at most; longer ones do not fit nla_len again
		}
		for _, r := range []nl.Request{AddQdiscRequest(q), DelQdiscRequest(q)} {
			var back Qdisc
			if err := back.UnmarshalBinary(r.Data); err != nil {
				t.Fatalf("%s: re-encoded qdisc does not decode: %v", r.Cmd, err)
			}
			if back != q {
				t.Fatalf("round trip\n got %+v\nwant %+v", back, q)
			}
		}
	})
}

// FuzzProbeKind decodes any answer to a probe: no panic, and a kind only
// from a qdisc of the device probed on its ingress hook.
func FuzzProbeKind(f *testing.F) {
	addSeeds(f, fixtureSeeds(f).qdiscs)
	f.Fuzz(func(t *testing.T, b []byte) {
		m := nl.Message{Header: nl.Header{Type: unix.RTM_NEWQDISC}, Data: b}
		kind, err := ProbeKind(3, []nl.Message{m}, nil)
		if err != nil || kind == "" {
			return
		}
		var q Qdisc
		if err := q.UnmarshalBinary(b); err != nil || q.Ifindex != 3 || q.Parent != TC_H_INGRESS || q.Kind != kind {
			t.Fatalf("kind %q from %+v (%v)", kind, q, err)
		}
	})
}

func FuzzU32Sel(f *testing.F) {
	addSeeds(f, fixtureSeeds(f).sels)
	f.Fuzz(func(t *testing.T, b []byte) {
		var s U32Sel
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded selector does not encode: %v", err)
		}
		// The struct and its keys, with the pad byte after nkeys zeroed;
		// bytes after the keys are not part of the selector.
		want := append([]byte(nil), b[:u32SelLen+len(s.Keys)*u32KeyLen]...)
		want[3] = 0
		if !bytes.Equal(out, want) {
			t.Fatalf("round trip\n got %x\nwant %x", out, want)
		}
		u := &U32{Sel: s}
		_ = u.IsCatchAll()
		_ = s.spec()
	})
}

func FuzzActionUnmarshal(f *testing.F) {
	addSeeds(f, fixtureSeeds(f).actions)
	f.Fuzz(func(t *testing.T, b []byte) {
		var a Action
		if err := a.UnmarshalBinary(b); err != nil {
			return
		}
		_ = a.spec()
		if a.Mirred != nil && (a.Control == nil || *a.Control != a.Mirred.Action) {
			t.Fatalf("mirred's control %v, but Control %v", a.Mirred.Action, a.Control)
		}
		if a.Control != nil && actionParms[a.Kind] == 0 {
			t.Fatalf("a control decoded for kind %q, whose parameters tcwire does not know", a.Kind)
		}
		if len(b) > 60000 {
			return // a cookie this long would not fit the entry's nla_len again
		}
		e := nl.NewEncoder(nil)
		encodeActions(e, []Action{a})
		back, err := decodeActions(e.Bytes())
		if err != nil {
			t.Fatalf("re-encoded action does not decode: %v", err)
		}
		sameActions(t, back, []Action{a})
	})
}

func FuzzMirred(f *testing.F) {
	addSeeds(f, fixtureSeeds(f).mirreds)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Mirred
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		_, _ = m.spec(), m.IsRedirect()
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		// The decoder reads the first TCA_MIRRED_PARMS.
		attrs, _ := nl.ParseAttrs(b)
		var parms []byte
		for _, a := range attrs {
			if a.Type == uapi.TCA_MIRRED_PARMS {
				parms = a.Data[:tcMirredLen]
				break
			}
		}
		if !bytes.Equal(out, parms) {
			t.Fatalf("round trip\n got %x\nwant %x", out, parms)
		}
		e := nl.NewEncoder(nil)
		m.encode(e)
		var back Mirred
		if err := back.UnmarshalBinary(e.Bytes()); err != nil || back != m {
			t.Fatalf("re-encoded: %+v, %v; want %+v", back, err, m)
		}
	})
}

// FuzzParseText feeds text to the parsers of tc's words — handles,
// protocols and action controls — and checks that what parses prints back
// to something that parses to the same value.
func FuzzParseText(f *testing.F) {
	for _, s := range []string{"root", "ingress", "none", "ffff:", "ffff:fff2", "1:", "1", "10000:", "1:10000", ":1", "",
		"all", "ip", "ipv6", "802.1Q", "0x0800", "2048", "0", "65536",
		"stolen", "pipe", "ok", "pass", "drop", "control 3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if h, err := ParseHandle(s); err == nil {
			if back, err := ParseHandle(h.String()); err != nil || back != h {
				t.Fatalf("ParseHandle(%q) = %#x, printed %q, read back %#x, %v", s, uint32(h), h.String(), uint32(back), err)
			}
		}
		if p, err := ParseProtocol(s); err == nil {
			if p == 0 {
				t.Fatalf("ParseProtocol(%q) = 0, which the kernel refuses", s)
			}
			if back, err := ParseProtocol(p.String()); err != nil || back != p {
				t.Fatalf("ParseProtocol(%q) = %#x, printed %q, read back %#x, %v", s, p, p.String(), back, err)
			}
		}
		if c, err := ParseControl(s); err == nil {
			if back, err := ParseControl(c.String()); err != nil || back != c {
				t.Fatalf("ParseControl(%q) = %d, printed %q, read back %d, %v", s, c, c.String(), back, err)
			}
		}
	})
}

// checkForeign: a decoded filter is tcwire's or foreign, never both; what
// Ends says of it is consistent with its kind and said; what tcwire cannot
// decode is assumed to end classification.
func checkForeign(t *testing.T, fl Filter) {
	t.Helper()
	fl.Handle |= 1 // a filter, not an instance's entry
	h := Hook{Dev: Dev{"a", 1}, Qdisc: KindIngress, Filters: []Filter{fl}}
	foreign := h.Foreign()
	ends, why := Ends(fl)
	switch {
	case why == "":
		t.Fatalf("Ends(%+v) says no why", fl)
	case IsOwn(fl) && len(foreign) != 0:
		t.Fatalf("tcwire's filter %+v listed as foreign", fl)
	case !IsOwn(fl) && (fl.U32 == nil || fl.U32.Divisor == 0) && len(foreign) != 1:
		t.Fatalf("filter %+v: %d foreign, want 1", fl, len(foreign))
	case (fl.Chain == nil || *fl.Chain == 0) && fl.Kind != KindU32 && !ends:
		t.Fatalf("a %q filter said not to end classification: %s", fl.Kind, why)
	}
	if blocking := h.Blocking(0); len(blocking) > len(foreign) {
		t.Fatalf("%d blocking of %d foreign", len(blocking), len(foreign))
	}
}
