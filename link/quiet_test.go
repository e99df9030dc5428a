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
// control). The tap is held open, as a VMM holds it, so it has carrier.
func TestLiveQuietTap(t *testing.T) {
	t.Parallel()
	for _, quiet := range []bool{true, false} {
		name := map[bool]string{true: "addrgenmode-none", false: "control"}[quiet]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := nstest.New(t)
			tap, err := tuntap.Create(tuntap.Config{Name: "tap0", Flags: tuntap.IFF_TAP | tuntap.IFF_NO_PI, NetNS: ns.Name})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tap.Close() })
			c, err := nl.Dial(&nl.Config{NetNS: ns.Path()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			if quiet {
				if err := link.SetAddrGenMode(c, "tap0", link.AddrGenModeNone); err != nil {
					t.Fatal(err)
				}
			}
			if err := link.SetUp(c, "tap0"); err != nil {
				t.Fatal(err)
			}
			l, err := link.Lookup(c, "tap0")
			if err != nil {
				t.Fatal(err)
			}
			wantMode := map[bool]link.AddrGenMode{true: link.AddrGenModeNone, false: link.AddrGenModeEUI64}[quiet]
			if l.Inet6 == nil || l.Inet6.AddrGenMode != wantMode || !l.Carrier {
				t.Fatalf("tap0: Inet6 %+v, Carrier %v; want addrgenmode %s and carrier", l.Inet6, l.Carrier, wantMode)
			}

			frames := nstest.ReadFrames(t, int(tap.Files()[0].Fd()), quietWindow)
			var seen []string
			for _, f := range frames {
				seen = append(seen, nstest.FrameSummary(f))
			}
			t.Logf("%d frames in %s:\n%s", len(frames), quietWindow, strings.Join(seen, "\n"))

			addrs, err := link.ListAddrs(c, "tap0", unix.AF_INET6)
			if err != nil {
				t.Fatal(err)
			}
			ipAddrs := ipAddrCount(t, ns, "tap0")
			if len(addrs) != ipAddrs {
				t.Errorf("ListAddrs: %d addresses, ip -6 addr shows %d", len(addrs), ipAddrs)
			}
			if quiet && (len(frames) != 0 || len(addrs) != 0) {
				t.Errorf("quiet tap: %d frames, addresses %v; want none", len(frames), addrs)
			}
			if !quiet && (len(frames) == 0 || len(addrs) != 1 || !addrs[0].LinkLocal()) {
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
