package tcwire

import (
	"strings"
	"testing"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/tc"
)

// TestDetachKeepsHeld: in every mode, a device of tcwire's that a process
// holds open is not deleted: Detach removes the wiring and says it kept
// the device, in use.
func TestDetachKeepsHeld(t *testing.T) {
	eth0, tap0 := veth("eth0", 2), tapLink("tap0", 3, nil)
	d, tp := devOf(eth0), devOf(tap0)
	in := func(l *link.Link) *link.Link { c := *l; c.Master = 6; return &c }
	rec := bridgeRecord{Dev: "eth0", Tap: "tap0", DevMTU: 1500}
	for _, c := range []struct {
		name string
		plan func() (*Plan, error)
		keep string
		want string // the steps: the wiring goes, the device stays
	}{
		{"tc", func() (*Plan, error) {
			return decideDetach(Options{Dev: "eth0", Tap: "tap0"}, eth0, tap0, true, []tc.Hook{wired(d, tp), wired(tp, d)}, names(nil))
		}, "tap0", "tc qdisc del dev eth0 ingress\ntc qdisc del dev tap0 ingress\n"},
		{"bridge", func() (*Plan, error) {
			return decideBridgeDetach(Options{Dev: "eth0", Tap: "tap0", Mode: ModeBridge}, in(eth0), in(tap0), bridgeLink(BridgeName("tap0"), 6, rec), true)
		}, "tap0", "ip link set dev eth0 nomaster\nip link set dev tap0 nomaster\nip link del dev " + BridgeName("tap0") + "\n"},
		{"macvtap", func() (*Plan, error) {
			return decideMacvtapDetach(Options{Dev: "eth0", Tap: "mvt0", Mode: ModeMacvtap}, eth0, macvtapLink("mvt0", 5, 2, func(l *link.Link) { l.Alias = mknodAlias }), true, names(map[int32]string{2: "eth0"}))
		}, "mvt0", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := c.plan()
			if err != nil {
				t.Fatal(err)
			}
			if got := cmds(p); got != c.want {
				t.Errorf("steps:\n%s\nwant:\n%s", got, c.want)
			}
			if len(p.done.Deleted) > 0 && p.done.Deleted[0] == c.keep || len(p.done.Kept) != 1 || p.done.Kept[0] != (Kept{Name: c.keep, Why: KeptInUse}) {
				t.Errorf("deleted %v, kept %+v; want %s kept, in use", p.done.Deleted, p.done.Kept, c.keep)
			}
			if !strings.Contains(strings.Join(p.Notes, "\n"), c.keep+" stays: a process holds it open") {
				t.Errorf("notes %q do not say why %s stays", p.Notes, c.keep)
			}
		})
	}
}
