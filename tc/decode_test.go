package tc

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
)

// The dump fixtures hold both sides of `tc -d … show`: the kernel's replies
// (Received) and tc's rendering of them (stdout). These tests decode every
// reply with tcwire and check each decoded value against the words tc
// printed for the same message, so the expectations come from the capture
// rather than being copied by hand.

// replies decodes the fixture's received messages of type typ.
func replies(t *testing.T, f *fixture.Fixture, typ uint16) []fixture.Message {
	t.Helper()
	msgs, err := f.Messages(false)
	if err != nil {
		t.Fatal(err)
	}
	var out []fixture.Message
	for _, m := range msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// decodeFilters decodes every RTM_NEWTFILTER reply of a fixture.
func decodeFilters(t *testing.T, f *fixture.Fixture) []Filter {
	t.Helper()
	var out []Filter
	for i, m := range replies(t, f, unix.RTM_NEWTFILTER) {
		var fl Filter
		if err := fl.UnmarshalBinary(m.Payload()); err != nil {
			t.Fatalf("%s: reply %d: %v", f.Name, i, err)
		}
		out = append(out, fl)
	}
	return out
}

// tcBlock is one object of tc's show output: its first line split into
// words, and the indented lines that follow it.
type tcBlock struct {
	words []string
	more  [][]string
}

// word returns the word after key on the block's first line.
func (b tcBlock) word(key string) (string, bool) { return wordAfter(b.words, key) }

func (b tcBlock) has(w string) bool {
	for _, x := range b.words {
		if x == w {
			return true
		}
	}
	return false
}

func wordAfter(words []string, key string) (string, bool) {
	for i := 0; i+1 < len(words); i++ {
		if words[i] == key {
			return words[i+1], true
		}
	}
	return "", false
}

// tcBlocks splits tc's stdout into blocks starting at lines beginning with
// prefix ("filter", "qdisc").
func tcBlocks(t *testing.T, stdout, prefix string) []tcBlock {
	t.Helper()
	var out []tcBlock
	for _, line := range strings.Split(stdout, "\n") {
		w := strings.Fields(line)
		switch {
		case len(w) == 0:
		case w[0] == prefix:
			out = append(out, tcBlock{words: w})
		case len(out) == 0:
			t.Fatalf("tc output line %q before any %q line", line, prefix)
		default:
			out[len(out)-1].more = append(out[len(out)-1].more, w)
		}
	}
	return out
}

func atoi(t *testing.T, what, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		t.Fatalf("%s: %q is not a number", what, s)
	}
	return v
}

// ifnameIndex maps a device tc named to its index in the capture namespace
// (lo is always 1 in a new namespace; the fixture lists the others).
func ifnameIndex(t *testing.T, f *fixture.Fixture, name string) int32 {
	t.Helper()
	if name == "lo" {
		return 1
	}
	i, ok := f.Ifindex[name]
	if !ok {
		t.Fatalf("tc printed device %q, not in the fixture's ifindex line %v", name, f.Ifindex)
	}
	return int32(i)
}

// tcClassid prints a handle as tc's qdisc lines do ("ffff:fff1", "ffff:",
// "0:", "root"), written out here so the check does not lean on
// Handle.String.
func tcClassid(h Handle) string {
	switch {
	case h == TC_H_ROOT:
		return "root"
	case h.Minor() == 0:
		return fmt.Sprintf("%x:", h.Major())
	}
	return fmt.Sprintf("%x:%x", h.Major(), h.Minor())
}

var filterDumps = []struct {
	name   string
	parent Handle
	// prefs and the u32 handles expected, as the task states them; the
	// stdout cross-check below catches any mismatch with the capture too.
	prefs   []uint16
	handles []uint32
}{
	{"dump-filter-show", IngressHandle, []uint16{10, 49152}, []uint32{0x80100000, 0x80100800, 0x80000000, 0x80000800}},
	{"dump-filter-show-clsact", ClsactIngress, []uint16{49152}, []uint32{0x80000000, 0x80000800}},
}

// TestDecodeFilterDump decodes every RTM_NEWTFILTER reply of the filter dump
// fixtures and compares it, message by message, with the line tc printed.
func TestDecodeFilterDump(t *testing.T) {
	for _, c := range filterDumps {
		t.Run(c.name, func(t *testing.T) {
			f := loadFixture(t, c.name)
			eth0, tap0 := int32(f.Ifindex["eth0"]), int32(f.Ifindex["tap0"])
			filters := decodeFilters(t, f)
			blocks := tcBlocks(t, f.Stdout, "filter")
			if len(filters) == 0 || len(filters) != len(blocks) {
				t.Fatalf("%d RTM_NEWTFILTER replies, tc printed %d filters", len(filters), len(blocks))
			}
			var prefs []uint16
			var handles []uint32
			for i, fl := range filters {
				b := blocks[i]
				ctx := fmt.Sprintf("reply %d (tc: %q)", i, strings.Join(b.words, " "))
				checkFilterHeader(t, ctx, f, fl, b)
				if fl.Ifindex != eth0 || fl.Parent != c.parent {
					t.Errorf("%s: ifindex %d parent %s, want %d %s", ctx, fl.Ifindex, fl.Parent, eth0, c.parent)
				}
				if len(prefs) == 0 || prefs[len(prefs)-1] != fl.Pref {
					prefs = append(prefs, fl.Pref)
				}
				fh, hasFH := b.word("fh")
				switch {
				case fl.Handle == 0:
					// The classifier instance itself: tc prints no fh.
					if hasFH || fl.U32 != nil {
						t.Errorf("%s: handle 0 with fh %q / options %+v", ctx, fh, fl.U32)
					}
					continue
				case !hasFH:
					t.Errorf("%s: handle %#x but tc printed no fh", ctx, fl.Handle)
				case U32HandleString(fl.Handle) != fh:
					t.Errorf("%s: handle %s, tc printed fh %s", ctx, U32HandleString(fl.Handle), fh)
				}
				handles = append(handles, fl.Handle)
				if fl.U32 == nil {
					t.Fatalf("%s: no u32 options", ctx)
				}
				if div, ok := b.word("divisor"); ok {
					checkHashTable(t, ctx, fl, div)
					continue
				}
				checkKnode(t, ctx, f, fl, b, tap0)
			}
			if fmt.Sprint(prefs) != fmt.Sprint(c.prefs) {
				t.Errorf("prefs %v, want %v", prefs, c.prefs)
			}
			if fmt.Sprint(handles) != fmt.Sprint(c.handles) {
				t.Errorf("handles %x, want %x", handles, c.handles)
			}
		})
	}
}

// checkFilterHeader compares what every filter line carries: protocol, pref,
// kind and chain.
func checkFilterHeader(t *testing.T, ctx string, f *fixture.Fixture, fl Filter, b tcBlock) {
	t.Helper()
	if p, _ := b.word("protocol"); fl.Protocol.String() != p || fl.Protocol != ETH_P_ALL {
		t.Errorf("%s: protocol %s (%#x), tc printed %q, want all", ctx, fl.Protocol.String(), fl.Protocol, p)
	}
	if p, _ := b.word("pref"); int64(fl.Pref) != atoi(t, "pref", p) {
		t.Errorf("%s: pref %d, tc printed %s", ctx, fl.Pref, p)
	}
	// "filter protocol P pref N KIND …": the kind follows the pref.
	if len(b.words) < 6 || fl.Kind != b.words[5] || fl.Kind != KindU32 {
		t.Errorf("%s: kind %q, want u32", ctx, fl.Kind)
	}
	chain, ok := b.word("chain")
	switch {
	case !ok:
		t.Errorf("%s: tc printed no chain", ctx)
	case fl.Chain == nil:
		t.Errorf("%s: no TCA_CHAIN decoded", ctx)
	case int64(*fl.Chain) != atoi(t, "chain", chain) || *fl.Chain != 0:
		t.Errorf("%s: chain %d, tc printed %s, want 0", ctx, *fl.Chain, chain)
	}
}

// checkHashTable checks a "fh 800: ht divisor 1" entry: the u32 hash table
// the kernel creates for every pref, with no selector and no actions.
func checkHashTable(t *testing.T, ctx string, fl Filter, div string) {
	t.Helper()
	u := fl.U32
	if int64(u.Divisor) != atoi(t, "divisor", div) || u.Divisor != 1 {
		t.Errorf("%s: divisor %d, tc printed %s, want 1", ctx, u.Divisor, div)
	}
	if len(u.Actions) != 0 || len(u.Sel.Keys) != 0 || u.IsCatchAll() {
		t.Errorf("%s: hash table with actions %v keys %v", ctx, u.Actions, u.Sel.Keys)
	}
	if fl.Handle&0xfffff != 0 {
		t.Errorf("%s: hash table handle %s has a hash or node", ctx, U32HandleString(fl.Handle))
	}
}

// checkKnode checks a "fh 800::800 order 2048 key ht 800 bkt 0 terminal"
// entry, its match lines and its actions.
func checkKnode(t *testing.T, ctx string, f *fixture.Fixture, fl Filter, b tcBlock, tap0 int32) {
	t.Helper()
	u := fl.U32
	if u.Divisor != 0 {
		t.Errorf("%s: key node with divisor %d", ctx, u.Divisor)
	}
	if o, _ := b.word("order"); int64(fl.Handle&0xfff) != atoi(t, "order", o) {
		t.Errorf("%s: node %#x, tc printed order %s", ctx, fl.Handle&0xfff, o)
	}
	if ht, _ := b.word("ht"); strconv.FormatUint(uint64(fl.Handle>>20), 16) != ht {
		t.Errorf("%s: htid %x, tc printed key ht %s", ctx, fl.Handle>>20, ht)
	}
	if bkt, _ := b.word("bkt"); int64(fl.Handle>>12&0xff) != atoi(t, "bkt", bkt) {
		t.Errorf("%s: hash %d, tc printed bkt %s", ctx, fl.Handle>>12&0xff, bkt)
	}
	if got := u.Sel.Flags&TC_U32_TERMINAL != 0; got != b.has("terminal") || !got {
		t.Errorf("%s: TC_U32_TERMINAL %v, tc printed terminal %v", ctx, got, b.has("terminal"))
	}
	if !u.IsCatchAll() {
		t.Errorf("%s: selector %+v is not the catch-all", ctx, u.Sel)
	}

	var matches, acts [][]string
	var stats [][]string
	for _, w := range b.more {
		switch w[0] {
		case "match":
			matches = append(matches, w)
		case "action":
			acts = append(acts, w)
		case "index":
			stats = append(stats, w)
		}
	}
	if len(matches) != len(u.Sel.Keys) {
		t.Fatalf("%s: %d keys, tc printed %d match lines", ctx, len(u.Sel.Keys), len(matches))
	}
	for i, k := range u.Sel.Keys {
		// "match 00000000/00000000 at 0"
		want := fmt.Sprintf("%08x/%08x", k.Val, k.Mask)
		if matches[i][1] != want || matches[i][3] != strconv.Itoa(int(k.Off)) {
			t.Errorf("%s: key %d is %s at %d, tc printed %v", ctx, i, want, k.Off, matches[i])
		}
	}
	if len(u.Actions) != 1 || len(acts) != 1 || len(stats) != 1 {
		t.Fatalf("%s: %d actions, tc printed %d (%d index lines)", ctx, len(u.Actions), len(acts), len(stats))
	}
	a := u.Actions[0]
	// "action order 1: mirred (Egress Redirect to device tap0) stolen"
	aw := acts[0]
	if aw[2] != "1:" || aw[3] != a.Kind || a.Kind != KindMirred {
		t.Errorf("%s: action %q, tc printed %v", ctx, a.Kind, aw)
	}
	m := a.Mirred
	if m == nil {
		t.Fatalf("%s: mirred without parameters", ctx)
	}
	text := strings.ToLower(strings.Join(aw, " "))
	if !strings.Contains(text, "("+m.Eaction.String()+" to device ") || m.Eaction != TCA_EGRESS_REDIR {
		t.Errorf("%s: eaction %s, tc printed %v", ctx, m.Eaction.String(), aw)
	}
	dev, _ := wordAfter(aw, "device")
	dev = strings.TrimSuffix(dev, ")")
	if int32(m.Ifindex) != ifnameIndex(t, f, dev) || int32(m.Ifindex) != tap0 {
		t.Errorf("%s: target ifindex %d, tc printed device %s (tap0 is %d)", ctx, m.Ifindex, dev, tap0)
	}
	if m.Action.String() != aw[len(aw)-1] || m.Action != TC_ACT_STOLEN || !m.IsRedirect() {
		t.Errorf("%s: control %s, tc printed %q, want stolen", ctx, m.Action.String(), aw[len(aw)-1])
	}
	// "index 1 ref 1 bind 1"
	sw := stats[0]
	if int64(a.Index) != atoi(t, "index", sw[1]) || a.Index != m.Index {
		t.Errorf("%s: action index %d (mirred %d), tc printed %v", ctx, a.Index, m.Index, sw)
	}
	if r, _ := wordAfter(sw, "ref"); int64(m.Refcnt) != atoi(t, "ref", r) {
		t.Errorf("%s: refcnt %d, tc printed ref %s", ctx, m.Refcnt, r)
	}
	if bd, _ := wordAfter(sw, "bind"); int64(m.Bindcnt) != atoi(t, "bind", bd) {
		t.Errorf("%s: bindcnt %d, tc printed bind %s", ctx, m.Bindcnt, bd)
	}
	// Stats are reported (TCA_ACT_STATS); nothing went through in the capture.
	if a.Packets != 0 || a.Bytes != 0 {
		t.Errorf("%s: counters %d packets %d bytes on an idle filter", ctx, a.Packets, a.Bytes)
	}
}

// TestDecodeFilterDumpIndexes pins the action indexes the capture shows: the
// first filter added (pref 49152) got index 1, the second (pref 10) index 2.
func TestDecodeFilterDumpIndexes(t *testing.T) {
	f := loadFixture(t, "dump-filter-show")
	got := map[uint16]uint32{}
	for _, fl := range decodeFilters(t, f) {
		if fl.U32 != nil && len(fl.U32.Actions) == 1 {
			got[fl.Pref] = fl.U32.Actions[0].Index
		}
	}
	if got[49152] != 1 || got[10] != 2 || len(got) != 2 {
		t.Errorf("action index by pref = %v, want map[10:2 49152:1]", got)
	}
}

// TestDecodeRedirects runs Hook.Redirects on the decoded dumps: one wire per
// key node, none for the classifier entries and hash tables.
func TestDecodeRedirects(t *testing.T) {
	for _, c := range filterDumps {
		t.Run(c.name, func(t *testing.T) {
			f := loadFixture(t, c.name)
			eth0, tap0 := int32(f.Ifindex["eth0"]), int32(f.Ifindex["tap0"])
			qdisc := KindIngress
			if c.parent == ClsactIngress {
				qdisc = KindClsact
			}
			h := Hook{Dev: Dev{"eth0", eth0}, Qdisc: qdisc, Filters: decodeFilters(t, f)}
			if h.Parent() != c.parent {
				t.Errorf("Hook.Parent() = %s, want %s", h.Parent(), c.parent)
			}
			rs := h.Redirects()
			if len(rs) != len(c.prefs) {
				t.Fatalf("%d redirects, want %d: %+v", len(rs), len(c.prefs), rs)
			}
			for i, r := range rs {
				want := Redirect{
					Ifindex: eth0, TargetIfindex: tap0, Parent: c.parent, Pref: c.prefs[i],
					Handle: c.handles[2*i+1], Protocol: ETH_P_ALL, Eaction: TCA_EGRESS_REDIR,
					Action: TC_ACT_STOLEN, CatchAll: true, Index: uint32(len(rs) - i),
				}
				if r != want {
					t.Errorf("redirect %d:\n got %+v\nwant %+v", i, r, want)
				}
				if !r.IsWire() {
					t.Errorf("redirect %d is not a wire", i)
				}
			}

			// Planned against this state, the eth0→tap0 half is done; only
			// tap0's qdisc and filter remain.
			p, err := PlanWire(h, Hook{Dev: Dev{"tap0", tap0}}, WireOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if cmds := planCmds(p); len(cmds) != 2 ||
				cmds[0] != "tc qdisc add dev tap0 ingress" ||
				!strings.HasPrefix(cmds[1], "tc filter add dev tap0 parent ffff: protocol all u32") {
				t.Errorf("plan against the dump: %q", cmds)
			}
			// Unwired, every wire filter goes; an ingress qdisc holding only
			// wires goes with them, a clsact qdisc stays.
			u := PlanUnwire(h, Hook{Dev: Dev{"tap0", tap0}})
			cmds := planCmds(u)
			if qdisc == KindIngress {
				if len(cmds) != 1 || cmds[0] != "tc qdisc del dev eth0 ingress" {
					t.Errorf("unwire plan against the dump: %q", cmds)
				}
			} else {
				if len(cmds) != 1 || cmds[0] != "tc filter del dev eth0 ingress pref 49152 chain 0 protocol all u32" {
					t.Errorf("unwire plan against the dump: %q", cmds)
				}
			}
		})
	}
}

func planCmds(p *Plan) []string {
	var out []string
	for _, r := range p.Requests {
		out = append(out, r.Cmd)
	}
	return out
}

// TestDecodeQdiscDump decodes every RTM_NEWQDISC reply of the qdisc dump
// fixtures and compares it with tc's "qdisc KIND HANDLE [dev DEV] root|parent
// P" lines. Like tc (and Qdiscs), replies for other devices are dropped when
// the command names a device: the kernel ignores the dump's ifindex.
func TestDecodeQdiscDump(t *testing.T) {
	for _, c := range []struct {
		name string
		want []string // kind@dev:handle/parent, per line
	}{
		{"dump-qdisc-show", []string{"ingress@eth0:ffff:/ffff:fff1"}},
		{"dump-qdisc-show-all", []string{"noqueue@lo:0:/root", "ingress@eth0:ffff:/ffff:fff1", "ingress@tap0:ffff:/ffff:fff1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := loadFixture(t, c.name)
			dev, _ := wordAfter(strings.Fields(f.Cmd), "dev")
			var only int32
			if dev != "" {
				only = ifnameIndex(t, f, dev)
			}
			var qs []Qdisc
			for i, m := range replies(t, f, unix.RTM_NEWQDISC) {
				var q Qdisc
				if err := q.UnmarshalBinary(m.Payload()); err != nil {
					t.Fatalf("reply %d: %v", i, err)
				}
				if only == 0 || q.Ifindex == only {
					qs = append(qs, q)
				}
			}
			blocks := tcBlocks(t, f.Stdout, "qdisc")
			if len(qs) != len(blocks) || len(qs) != len(c.want) {
				t.Fatalf("%d RTM_NEWQDISC replies, tc printed %d, want %d", len(qs), len(blocks), len(c.want))
			}
			for i, q := range qs {
				b := blocks[i]
				ctx := fmt.Sprintf("reply %d (tc: %q)", i, strings.Join(b.words, " "))
				if q.Kind != b.words[1] {
					t.Errorf("%s: kind %q", ctx, q.Kind)
				}
				if h := fmt.Sprintf("%x:", q.Handle.Major()); h != b.words[2] || q.Handle.Minor() != 0 {
					t.Errorf("%s: handle %s", ctx, tcClassid(q.Handle))
				}
				name := dev
				if d, ok := b.word("dev"); ok {
					name = d
				}
				if q.Ifindex != ifnameIndex(t, f, name) {
					t.Errorf("%s: ifindex %d, want %s's", ctx, q.Ifindex, name)
				}
				parent := "root"
				if p, ok := b.word("parent"); ok {
					parent = p
				} else if !b.has("root") {
					t.Errorf("%s: tc printed neither root nor parent", ctx)
				}
				if tcClassid(q.Parent) != parent {
					t.Errorf("%s: parent %s, tc printed %s", ctx, tcClassid(q.Parent), parent)
				}
				got := fmt.Sprintf("%s@%s:%s/%s", q.Kind, name, tcClassid(q.Handle), tcClassid(q.Parent))
				if got != c.want[i] {
					t.Errorf("%s: decoded %s, want %s", ctx, got, c.want[i])
				}
				// The ingress qdiscs are what Ingress builds, and a hook
				// reading them sees an ingress qdisc.
				if q.Kind == KindIngress {
					want := Ingress(q.Ifindex, "")
					if q != want {
						t.Errorf("%s: %+v, want %+v", ctx, q, want)
					}
				}
			}
		})
	}
}
