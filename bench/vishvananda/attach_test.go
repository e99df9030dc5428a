package main

import (
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

func TestParsePairs(t *testing.T) {
	got, err := parsePairs("2:3,10:11")
	if err != nil || len(got) != 2 || got[0] != [2]int{2, 3} || got[1] != [2]int{10, 11} {
		t.Fatalf("parsePairs = %v, %v", got, err)
	}
	for _, bad := range []string{"", "2", "2:x", "0:1", "1:2,"} {
		if _, err := parsePairs(bad); err == nil {
			t.Errorf("parsePairs(%q) accepted", bad)
		}
	}
}

// TestRunWiresLikeTcwire attaches a veth and a tap with vishvananda/netlink
// and reads the result back with tcwire's decoder: both directions must be
// the catch-all mirred egress redirect tcwire installs.
func TestRunWiresLikeTcwire(t *testing.T) {
	ns := nstest.New(t)
	c, err := nl.Dial(&nl.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := link.AddVeth(c, link.Veth{Name: "eth0", Peer: "peer0"}); err != nil {
		t.Fatal(err)
	}
	tap, err := tuntap.Create(tuntap.Config{Name: "tap0", NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	eth, err := link.Lookup(c, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := link.Lookup(c, "tap0")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(ns.Path(), [][2]int{{int(eth.Index), int(tl.Index)}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Attaches != 1 || r.TotalNs <= 0 || r.Allocs <= 0 {
		t.Errorf("result %+v", r)
	}
	a, b := tc.Dev{Name: "eth0", Index: eth.Index}, tc.Dev{Name: "tap0", Index: tl.Index}
	for _, d := range [][2]tc.Dev{{a, b}, {b, a}} {
		h, err := tc.ReadHook(c, d[0])
		if err != nil {
			t.Fatal(err)
		}
		rs := h.Redirects()
		if h.Qdisc != tc.KindIngress || len(rs) != 1 || !rs[0].IsWire() || rs[0].TargetIfindex != d[1].Index {
			t.Errorf("%s: qdisc %q, redirects %+v; want one wire to %s", d[0], h.Qdisc, rs, d[1])
		}
	}
	// A second attach fails (the qdiscs exist), as tc's would.
	if _, err := Run(ns.Path(), [][2]int{{int(eth.Index), int(tl.Index)}}); err == nil {
		t.Error("second attach succeeded")
	}
}
