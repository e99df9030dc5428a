package link_test

import (
	"encoding/json"
	"strings"
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
// as a VMM started later opens it.
func TestLiveQuietTap(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name              string
		quiet, persistent bool
	}{
		{"addrgenmode-none", true, false},
		{"control", false, false},
		{"persistent-addrgenmode-none", true, true},
		{"persistent-control", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ns := nstest.New(t)
			tap, err := tuntap.Create(tuntap.Config{Name: "tap0", Flags: tuntap.IFF_TAP | tuntap.IFF_NO_PI, NetNS: ns.Name, Persist: c.persistent})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tap.Close() })
			if c.persistent {
				if err := tap.Close(); err != nil {
					t.Fatal(err)
				}
			}
			conn, err := nl.Dial(&nl.Config{NetNS: ns.Path()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			if c.quiet {
				if err := link.SetAddrGenMode(conn, "tap0", link.AddrGenModeNone); err != nil {
					t.Fatal(err)
				}
			}
			if err := link.SetUp(conn, "tap0"); err != nil {
				t.Fatal(err)
			}
			if c.persistent {
				if l, err := link.Lookup(conn, "tap0"); err != nil || l.Carrier {
					t.Fatalf("tap0 up with no one holding it: %+v, %v; want no carrier", l, err)
				}
				if tap, err = tuntap.Open("tap0", tuntap.WithNetNS(ns.Name)); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { tap.Close() })
			}
			l, err := link.Lookup(conn, "tap0")
			if err != nil {
				t.Fatal(err)
			}
			wantMode := map[bool]link.AddrGenMode{true: link.AddrGenModeNone, false: link.AddrGenModeEUI64}[c.quiet]
			if l.Inet6 == nil || l.Inet6.AddrGenMode != wantMode || !l.Carrier {
				t.Fatalf("tap0: Inet6 %+v, Carrier %v; want addrgenmode %s and carrier", l.Inet6, l.Carrier, wantMode)
			}

			frames := nstest.ReadFrames(t, int(tap.Files()[0].Fd()), quietWindow)
			var seen []string
			for _, f := range frames {
				seen = append(seen, nstest.FrameSummary(f))
			}
			t.Logf("%d frames in %s:\n%s", len(frames), quietWindow, strings.Join(seen, "\n"))

			addrs, err := link.ListAddrs(conn, "tap0", unix.AF_INET6)
			if err != nil {
				t.Fatal(err)
			}
			ipAddrs := ipAddrCount(t, ns, "tap0")
			if len(addrs) != ipAddrs {
				t.Errorf("ListAddrs: %d addresses, ip -6 addr shows %d", len(addrs), ipAddrs)
			}
			if c.quiet && (len(frames) != 0 || len(addrs) != 0) {
				t.Errorf("quiet tap: %d frames, addresses %v; want none", len(frames), addrs)
			}
			if !c.quiet && (len(frames) == 0 || len(addrs) != 1 || !addrs[0].LinkLocal()) {
				t.Errorf("control tap: %d frames, %d addresses; want frames and one fe80:: address", len(frames), len(addrs))
			}
		})
	}
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
