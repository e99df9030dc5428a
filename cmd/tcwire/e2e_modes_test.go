package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

var (
	// macs, timers and qdisc handles differ between two namespaces made
	// alike (random MACs, a bridge's running timers, handles the kernel
	// counts host-wide).
	macs    = regexp.MustCompile(`[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}`) // bridge ids drop leading zeros
	timers  = regexp.MustCompile(`"[a-z_]*timer":[0-9.]+`)
	handles = regexp.MustCompile(`noqueue [0-9a-f]+:`)
)

// modeSnapshot is snapshot with the bridges' static and permanent FDB
// entries (not those learned, nor the devices' own lists, which IPv6
// changes as it joins groups), without what differs between two
// namespaces made alike.
func modeSnapshot(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	s := snapshot(t, ns) + "### bridge fdb show\n"
	for _, l := range strings.Split(ns.Run("bridge", "fdb", "show"), "\n") {
		if strings.Contains(l, " master ") && (strings.HasSuffix(l, " static") || strings.HasSuffix(l, " permanent")) {
			s += l + "\n"
		}
	}
	s = timers.ReplaceAllString(s, `"timer"`)
	s = handles.ReplaceAllString(s, "noqueue N:")
	return macs.ReplaceAllString(s, "MAC")
}

// TestModes: tcwire attach --mode macvtap, --mode bridge and --mirror leave
// what ip, bridge and tc make with the commands the modes stand for (a twin
// namespace made with them); a second attach changes nothing and explain
// finds nothing to do; detach leaves the namespace as it was.
func TestModes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string // after attach DEV NAME
		twin [][]string
		want attachResultJSON
	}{
		{"macvtap", []string{"--mode", "macvtap"}, [][]string{
			{"ip", "link", "add", "vm0", "link", "eth0", "type", "macvtap", "mode", "passthru"},
			{"ip", "link", "set", "dev", "vm0", "alias", "tcwire"},
			{"ip", "link", "set", "dev", "vm0", "allmulticast", "on"},
			{"ip", "link", "set", "dev", "vm0", "up"},
		}, attachResultJSON{Mode: "macvtap", DevNode: "/dev/tap5"}},
		{"bridge", []string{"--mode", "bridge"}, [][]string{
			{"ip", "link", "add", "br-vm0", "type", "bridge"},
			{"ip", "link", "set", "dev", "br-vm0", "alias", "tcwire:bridge dev=eth0 tap=vm0 mtu=1500 up=1"},
			{"ip", "link", "set", "dev", "br-vm0", "type", "bridge", "group_fwd_mask", "0xfff8"},
			{"ip", "link", "set", "dev", "br-vm0", "addrgenmode", "none"},
			{"ip", "link", "set", "dev", "br-vm0", "up"},
			{"ip", "tuntap", "add", "dev", "vm0", "mode", "tap", "vnet_hdr", "user", "0"},
			{"ip", "link", "set", "dev", "vm0", "alias", "tcwire"},
			{"ip", "link", "set", "dev", "vm0", "addrgenmode", "none"},
			{"ip", "link", "set", "dev", "vm0", "up"},
			{"tc", "qdisc", "add", "dev", "vm0", "root", "noqueue"},
			{"ip", "link", "set", "dev", "vm0", "master", "br-vm0"},
			{"bridge", "link", "set", "dev", "vm0", "flood", "off", "learning", "off"},
			{"ip", "link", "set", "dev", "eth0", "master", "br-vm0"},
			{"sh", "-c", "bridge fdb replace $(cat /sys/class/net/eth0/address) dev vm0 master static"},
		}, attachResultJSON{Mode: "bridge", Bridge: "br-vm0"}},
		{"mirror", []string{"--mirror"}, [][]string{
			{"ip", "tuntap", "add", "dev", "vm0", "mode", "tap", "vnet_hdr", "user", "0"},
			{"ip", "link", "set", "dev", "vm0", "alias", "tcwire"},
			{"ip", "link", "set", "dev", "vm0", "addrgenmode", "none"},
			{"ip", "link", "set", "dev", "vm0", "up"},
			{"tc", "qdisc", "add", "dev", "vm0", "root", "noqueue"},
			{"tc", "qdisc", "add", "dev", "eth0", "ingress"},
			{"tc", "filter", "add", "dev", "eth0", "parent", "ffff:", "protocol", "all", "u32", "match", "u8", "0", "0", "action", "mirred", "egress", "mirror", "dev", "vm0"},
		}, attachResultJSON{Mode: "tc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := vethNS(t)
			ns.Run("ip", "link", "set", "eth0", "up")
			ns.Run("ip", "link", "set", "peer0", "up")
			before := modeSnapshot(t, ns)
			attach := append([]string{"--netns", ns.Name, "--json", "attach", "eth0", "vm0"}, tc.args...)
			var got attachResultJSON
			if err := json.Unmarshal([]byte(mustTcwire(t, attach...).stdout), &got); err != nil {
				t.Fatal(err)
			}
			if got.Mode != tc.want.Mode || got.Bridge != tc.want.Bridge || !strings.HasPrefix(got.DevNode, strings.TrimRight(tc.want.DevNode, "0123456789")) || !got.Created || got.Tap != "vm0" {
				t.Errorf("attach --json: %+v, want %+v", got, tc.want)
			}
			attached := modeSnapshot(t, ns)
			mustTcwire(t, attach...)
			sameState(t, "a second attach", attached, modeSnapshot(t, ns))
			explain := append([]string{"--netns", ns.Name, "explain", "attach", "eth0", "vm0"}, tc.args...)
			if out := mustTcwire(t, explain...).stdout; !strings.Contains(out, ": 0 steps") {
				t.Errorf("explain after attach:\n%s", out)
			}
			if out := mustTcwire(t, "--netns", ns.Name, "show").stdout; !strings.Contains(out, "vm0") {
				t.Errorf("show does not list vm0:\n%s", out)
			}
			var bs []struct{ Mode, Dev, Tap string }
			if err := json.Unmarshal([]byte(mustTcwire(t, "--netns", ns.Name, "--json", "show", "--modes").stdout), &bs); err != nil {
				t.Fatal(err)
			}
			if want := tc.want.Mode; want != "tc" && (len(bs) != 1 || bs[0].Mode != want || bs[0].Dev != "eth0" || bs[0].Tap != "vm0") {
				t.Errorf("show --modes --json: %+v, want eth0 and vm0 in %s mode", bs, want)
			}

			twin := vethNS(t)
			twin.Run("ip", "link", "set", "eth0", "up")
			twin.Run("ip", "link", "set", "peer0", "up")
			for _, c := range tc.twin {
				twin.Run(c[0], c[1:]...)
			}
			if w, g := modeSnapshot(t, twin), modeSnapshot(t, ns); w != g {
				t.Errorf("tcwire's state differs from the commands':\n--- commands\n%s\n--- tcwire\n%s", w, g)
			}
			twin.Delete()

			detach := []string{"--netns", ns.Name, "detach", "eth0", "vm0"}
			if tc.name != "mirror" {
				detach = append(detach, tc.args...)
			}
			mustTcwire(t, detach...)
			sameState(t, "detach", before, modeSnapshot(t, ns))
		})
	}
}

// attachResultJSON is the part of attach --json the mode tests read.
type attachResultJSON struct {
	Tap     string `json:"tap"`
	Created bool   `json:"created"`
	Mode    string `json:"mode"`
	DevNode string `json:"dev_node"`
	Bridge  string `json:"bridge"`
}
