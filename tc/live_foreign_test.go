package tc

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
)

// TestLiveForeignFilters: filters tc put on eth0's ingress hook, as the
// kernel dumps them, are told foreign or not, and whether they can end the
// classification; Wire refuses when one ahead of the wire can (changing
// nothing), and otherwise wires, and a reader holding the tap open gets
// the frames sent into eth0.
func TestLiveForeignFilters(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "tc")
	for _, c := range []struct {
		name    string
		qdisc   string
		foreign string // tc filter add dev eth0 HOOK …
		pref    uint16
		ends    bool
		why     string
		refused bool
	}{
		{"classid catch-all ahead", "clsact", "pref 20 protocol all u32 match u8 0 0 classid 1:1", 20, true, "without actions", true},
		{"classid catch-all behind", "ingress", "pref 60000 protocol all u32 match u8 0 0 classid 1:1", 60000, true, "without actions", false},
		{"partial redirect ahead", "ingress", "pref 20 protocol ip u32 match ip dst 10.0.0.1/32 action mirred egress redirect dev peer1", 20, true, "mirred stolen", true},
		{"partial mirror ahead (pipe)", "clsact", "pref 7 protocol all u32 match u16 0x88b5 0xffff at -2 action mirred egress mirror dev peer1", 7, true, "all pipe", true},
		{"mirror that continues ahead", "ingress", "pref 7 protocol all u32 match u8 0 0 action mirred egress mirror dev peer1 continue", 7, false, "continues", false},
		{"redirect with pass ahead", "clsact", "pref 30 protocol all u32 match u8 0 0 action mirred egress mirror dev peer1 pass", 30, true, "mirred pass", true},
		{"reclassify ahead", "ingress", "pref 30 protocol all u32 match u8 0 0 action mirred egress mirror dev peer1 reclassify", 30, true, "reclassify", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := newWireNS(t, "eth1")
			ns.Run("ip", "link", "del", "tap0")
			tapFD := openTap(t, ns, "tap0") // held open: a VM
			for _, d := range []string{"eth0", "peer0", "eth1", "peer1", "tap0"} {
				ns.Run("ip", "link", "set", d, "up")
			}
			hook := "parent ffff:"
			if c.qdisc == KindClsact {
				hook = "ingress"
			}
			tcRun(t, ns, "tc qdisc add dev eth0 "+c.qdisc)
			tcRun(t, ns, "tc filter add dev eth0 "+hook+" "+c.foreign)
			conn := dial(t, ns)
			eth0, tap0 := dev(t, ns, "eth0"), dev(t, ns, "tap0")

			h := readHook(t, conn, eth0)
			fs := h.Foreign()
			if len(fs) != 1 || fs[0].Pref != c.pref || fs[0].Kind != KindU32 || fs[0].Ends != c.ends || !strings.Contains(fs[0].Why, c.why) ||
				fs[0].Dev != eth0 || fs[0].Parent != h.Parent() || fs[0].Handle == 0 {
				t.Fatalf("Foreign() = %+v, want one u32 at pref %d, ends %v (%q)", fs, c.pref, c.ends, c.why)
			}
			if rs := h.Redirects(); len(rs) == 1 && (rs[0].IsWire() || rs[0].IsMirror()) {
				t.Errorf("redirect %+v: a foreign filter has tcwire's shape", rs[0])
			}

			before := tcState(t, ns, "eth0", "tap0")
			err := Wire(conn, eth0, tap0, WireOptions{})
			if c.refused {
				var be *BlockedError
				if !errors.As(err, &be) || !errors.Is(err, ErrForeign) || errors.Is(err, ErrRedirected) || len(be.Filters) != 1 || be.Filters[0].Pref != c.pref {
					t.Fatalf("Wire = %v, want a *BlockedError naming pref %d", err, c.pref)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("foreign u32 filter at pref %d", c.pref)) {
					t.Errorf("error %q does not name the foreign filter", err)
				}
				requireSameState(t, "refused Wire", before, tcState(t, ns, "eth0", "tap0"))
				return
			}
			if err != nil {
				t.Fatalf("Wire: %v", err)
			}
			// The oracle: a frame sent into eth0 (from peer0) reaches the
			// reader holding the tap.
			out := packetSocket(t, ns, ns.Ifindex("peer0"))
			marker := "foreign-" + strings.ReplaceAll(c.name, " ", "-")
			if err := unix.Sendto(out, testFrame(1, marker), 0, &unix.SockaddrLinklayer{Ifindex: ns.Ifindex("peer0")}); err != nil {
				t.Fatal(err)
			}
			awaitFrame(t, tapFD, false, marker)
		})
	}
}

// TestForeignEnds: the verdicts for what tcwire cannot decode, and the
// kernel's choice of pref.
func TestForeignEnds(t *testing.T) {
	one := uint32(1)
	pipe, unspec, ok := Control(TC_ACT_PIPE), Control(TC_ACT_UNSPEC), Control(TC_ACT_OK)
	u := func(flags uint8, acts ...Action) *U32 {
		return &U32{Sel: U32Sel{Flags: flags, Keys: []U32Key{{Mask: 0xff, Val: 1, Off: 8}}}, Actions: acts}
	}
	for _, c := range []struct {
		name string
		f    Filter
		ends bool
		why  string
	}{
		{"bpf", Filter{Kind: "bpf", Handle: 1}, true, "bpf filter"},
		{"flower", Filter{Kind: "flower", Handle: 1}, true, "flower filter"},
		{"matchall", Filter{Kind: "matchall", Handle: 1}, true, "matchall filter"},
		{"u32 in chain 1", Filter{Kind: KindU32, Handle: 0x800800, Chain: &one, U32: u(TC_U32_TERMINAL)}, false, "chain 1"},
		{"bpf in chain 1", Filter{Kind: "bpf", Handle: 1, Chain: &one}, false, "chain 1"},
		{"u32 link (not terminal)", Filter{Kind: KindU32, Handle: 0x800800, U32: u(0)}, false, "not terminal"},
		{"u32 classid", Filter{Kind: KindU32, Handle: 0x800800, U32: u(TC_U32_TERMINAL)}, true, "without actions"},
		{"u32 unknown action", Filter{Kind: KindU32, Handle: 0x800800, U32: u(TC_U32_TERMINAL, Action{Kind: "police"})}, true, "cannot read"},
		{"u32 gact pipe then continue", Filter{Kind: KindU32, Handle: 0x800800, U32: u(TC_U32_TERMINAL, Action{Kind: "gact", Control: &pipe}, Action{Kind: "gact", Control: &unspec})}, false, "continues"},
		{"u32 gact pipe then unknown", Filter{Kind: KindU32, Handle: 0x800800, U32: u(TC_U32_TERMINAL, Action{Kind: "gact", Control: &pipe}, Action{Kind: "police"})}, true, "cannot read"},
		{"u32 gact pass", Filter{Kind: KindU32, Handle: 0x800800, U32: u(TC_U32_TERMINAL, Action{Kind: "gact", Control: &ok})}, true, "pass"},
		{"u32 goto chain", Filter{Kind: KindU32, Handle: 0x800800, U32: u(TC_U32_TERMINAL, Action{Kind: "gact", Control: func() *Control { c := Control(0x20000000 | 1); return &c }()})}, true, "ends"},
	} {
		ends, why := Ends(c.f)
		if ends != c.ends || !strings.Contains(why, c.why) {
			t.Errorf("%s: Ends = %v %q, want %v %q", c.name, ends, why, c.ends, c.why)
		}
	}
	zero := uint32(0)
	at := func(prefs ...uint16) []Filter {
		var fs []Filter
		for _, p := range prefs {
			fs = append(fs, Filter{Pref: p, Chain: &zero})
		}
		return fs
	}
	for _, c := range []struct {
		fs   []Filter
		want uint16
	}{
		{nil, 49152}, {at(20), 49152}, {at(49152), 49151}, {at(20, 60000), 59999}, {at(40000, 50000), 39999}, {at(32768), 32767}, {at(32767), 49152},
		{[]Filter{{Pref: 100, Chain: &one}, {Pref: 40000, Chain: &one}}, 49152},
	} {
		if got := AutoPref(c.fs); got != c.want {
			t.Errorf("AutoPref(%v) = %d, want %d", c.fs, got, c.want)
		}
	}
}
