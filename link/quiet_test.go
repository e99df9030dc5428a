package link_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tuntap"
)

// An external test package: tuntap imports link.

// quietWindow is how long a quiet tap must stay silent. The host's stack
// speaks within it: DAD at once, router solicitations and MLD reports
// within a second or two of the address (6 frames in 4 s here).
const quietWindow = 4 * time.Second

// TestLiveQuietTap: a tap whose addrgenmode is none before it goes up gets
// no IPv6 link-local address, and a VMM reading it sees no frame from the
// host in quietWindow; the same tap without it gets fe80:: and speaks (the
// control). Either the tap is held open from its creation, or it is
// persistent, set up while no one holds it (no carrier) and opened after,
// as a VMM started later opens it. The four taps, each in a namespace of
// its own, are watched in the same window.
func TestLiveQuietTap(t *testing.T) {
	t.Parallel() // the window overlaps other waiting tests
	type tapCase struct {
		name              string
		quiet, persistent bool
		ns                *nstest.NS
		conn              *nl.Conn
		tap               *tuntap.Tap
		frames            [][]byte
		err               error
	}
	cases := []*tapCase{
		{name: "addrgenmode-none", quiet: true},
		{name: "control"},
		{name: "persistent-addrgenmode-none", quiet: true, persistent: true},
		{name: "persistent-control", persistent: true},
	}
	for _, c := range cases {
		c.ns, c.conn, c.tap = setUpTap(t, c.name, c.quiet, c.persistent)
	}
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.frames, c.err = nstest.ReadFrames(int(c.tap.Files()[0].Fd()), quietWindow)
		}()
	}
	wg.Wait()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err != nil {
				t.Fatal(c.err)
			}
			var seen []string
			for _, f := range c.frames {
				seen = append(seen, nstest.FrameSummary(f))
			}
			t.Logf("%d frames in %s:\n%s", len(c.frames), quietWindow, strings.Join(seen, "\n"))
			addrs, err := link.ListAddrs(c.conn, "tap0", unix.AF_INET6)
			if err != nil {
				t.Fatal(err)
			}
			if n := ipAddrCount(t, c.ns, "tap0"); len(addrs) != n {
				t.Errorf("ListAddrs: %d addresses, ip -6 addr shows %d", len(addrs), n)
			}
			if c.quiet && (len(c.frames) != 0 || len(addrs) != 0) {
				t.Errorf("quiet tap: %d frames, addresses %v; want none", len(c.frames), addrs)
			}
			if !c.quiet && (len(c.frames) == 0 || len(addrs) != 1 || !addrs[0].LinkLocal()) {
				t.Errorf("control tap: %d frames, %d addresses; want frames and one fe80:: address", len(c.frames), len(addrs))
			}
		})
	}
}

// setUpTap makes tap0 in a new namespace as TestLiveQuietTap's case name
// wants it, up and held open, with carrier.
func setUpTap(t *testing.T, name string, quiet, persistent bool) (*nstest.NS, *nl.Conn, *tuntap.Tap) {
	t.Helper()
	fail := func(format string, args ...any) { t.Fatalf("%s: "+format, append([]any{name}, args...)...) }
	ns := nstest.New(t)
	tap, err := tuntap.Create(tuntap.Config{Name: "tap0", Flags: tuntap.IFF_TAP | tuntap.IFF_NO_PI, NetNS: ns.Name, Persist: persistent})
	if err != nil {
		fail("%v", err)
	}
	created := tap
	t.Cleanup(func() { created.Close() })
	if persistent {
		if err := created.Close(); err != nil {
			fail("%v", err)
		}
	}
	conn, err := nl.Dial(&nl.Config{NetNS: ns.Path()})
	if err != nil {
		fail("%v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if quiet {
		if err := link.SetAddrGenMode(conn, "tap0", link.AddrGenModeNone); err != nil {
			fail("%v", err)
		}
	}
	if err := link.SetUp(conn, "tap0"); err != nil {
		fail("%v", err)
	}
	if persistent {
		if l, err := link.Lookup(conn, "tap0"); err != nil || l.Carrier {
			fail("tap0 up with no one holding it: %+v, %v; want no carrier", l, err)
		}
		opened, err := tuntap.Open(tuntap.OpenConfig{Name: "tap0", NetNS: ns.Name})
		if err != nil {
			fail("%v", err)
		}
		t.Cleanup(func() { opened.Close() })
		tap = opened
	}
	l, err := link.Lookup(conn, "tap0")
	if err != nil {
		fail("%v", err)
	}
	wantMode := map[bool]link.AddrGenMode{true: link.AddrGenModeNone, false: link.AddrGenModeEUI64}[quiet]
	if l.Inet6 == nil || l.Inet6.AddrGenMode != wantMode || !l.Carrier {
		fail("tap0: Inet6 %+v, Carrier %v; want addrgenmode %s and carrier", l.Inet6, l.Carrier, wantMode)
	}
	return ns, conn, tap
}

// ipAddrCount is how many addresses `ip -6 -j addr show dev DEV` lists (it
// lists no device at all when it has none).
func ipAddrCount(t *testing.T, ns *nstest.NS, dev string) int {
	t.Helper()
	var v []struct {
		AddrInfo []json.RawMessage `json:"addr_info"`
	}
	out := ns.Run("ip", "-6", "-j", "addr", "show", "dev", dev)
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) > 1 {
		t.Fatalf("ip -6 -j addr show dev %s: %v: %s", dev, err, out)
	}
	if len(v) == 0 {
		return 0
	}
	return len(v[0].AddrInfo)
}
