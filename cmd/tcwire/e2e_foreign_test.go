package main

// A wire that would carry nothing is refused (issue 19, kind 3).

import (
	"strings"
	"testing"
)

func TestForeignFilterRefused(t *testing.T) {
	for _, c := range []struct {
		name, qdisc, hook, filter string
		refused                   bool
	}{
		{"classid catch-all ahead, clsact", "clsact", "ingress", "pref 20 protocol all u32 match u8 0 0 classid 1:1", true},
		{"partial redirect ahead", "ingress", "parent ffff:", "pref 20 protocol ip u32 match ip dst 10.0.0.1/32 action mirred egress redirect dev peer0", true},
		{"mirror of one ethertype ahead (pipe)", "ingress", "parent ffff:", "pref 9 protocol all u32 match u16 0x88b5 0xffff at -2 action mirred egress mirror dev peer0", true},
		{"partial redirect behind", "ingress", "parent ffff:", "pref 60000 protocol ip u32 match ip dst 10.0.0.1/32 action mirred egress redirect dev peer0", false},
		{"mirror that continues ahead", "clsact", "ingress", "pref 20 protocol all u32 match u8 0 0 action mirred egress mirror dev peer0 continue", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ns := vethNS(t)
			ns.Run("tc", "qdisc", "add", "dev", "eth0", c.qdisc)
			ns.Run("tc", append(append([]string{"filter", "add", "dev", "eth0"}, strings.Fields(c.hook)...), strings.Fields(c.filter)...)...)
			ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "vnet_hdr", "user", "0")
			before := snapshot(t, ns)
			r := runTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
			pref := strings.Fields(c.filter)[1]
			undo := "`tc filter del dev eth0 " + c.hook + " pref " + pref + "`"
			if c.refused {
				if r.code != 1 || !strings.Contains(r.stderr, "foreign") || !strings.Contains(r.stderr, "pref "+pref) || !strings.Contains(r.stderr, undo) ||
					strings.Contains(r.stderr, "tcwire detach") || strings.Contains(r.stderr, "wired to") {
					t.Fatalf("%s, want exit 1 naming the foreign filter and %s", r, undo)
				}
				sameState(t, "a refused attach", before, snapshot(t, ns))
				// The hint works: then the wire is made and carries frames.
				ns.Run("tc", append(append([]string{"filter", "del", "dev", "eth0"}, strings.Fields(c.hook)...), "pref", pref)...)
				mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
			} else if r.code != 0 {
				t.Fatalf("attach beside a foreign filter that cannot end classification first: %s", r)
			}
			f, _ := holdTap(t, ns.Name, "tap0")
			for _, d := range []string{"eth0", "peer0"} {
				ns.Run("ip", "link", "set", d, "up")
			}
			sendFrames(t, ns, "peer0", 3)
			if !readMarked(t, f) {
				t.Error("the reader holding tap0 got nothing through the wire")
			}
		})
	}
}

// TestMirrorThenAttachRefused: after attach --mirror, a plain attach of the
// pair is refused (it would run ahead of the mirror), as the reverse order
// is, and nothing changes; detach removes the mirror.
func TestMirrorThenAttachRefused(t *testing.T) {
	ns := vethNS(t)
	mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0", "--mirror")
	before := snapshot(t, ns)
	for _, tap := range []string{"tap0", "tap1"} {
		r := runTcwire(t, "--netns", ns.Name, "attach", "eth0", tap)
		if r.code != 1 || !strings.Contains(r.stderr, "eth0 mirrors to tap0") || !strings.Contains(r.stderr, "`tcwire detach eth0 tap0`") {
			t.Errorf("attach eth0 %s after --mirror: %s", tap, r)
		}
		sameState(t, "attach after --mirror", before, snapshot(t, ns))
	}
	mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
	if q := ns.Run("tc", "qdisc", "show", "dev", "eth0", "ingress"); strings.TrimSpace(q) != "" {
		t.Errorf("detach left a qdisc on eth0: %s", q)
	}
}
