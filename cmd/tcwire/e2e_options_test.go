package main

// Every option either acts or is refused (issue 19, kind 6).

import (
	"strings"
	"testing"
)

func TestEveryOptionActsOrIsRefused(t *testing.T) {
	ns := vethNS(t)
	before := snapshot(t, ns)
	for _, args := range [][]string{
		{"attach", "eth0", "vm0", "--mode", "macvtap", "--dev-addrgenmode", "none"},
		{"attach", "eth0", "vm0", "--mode", "bridge", "--dev-addrgenmode", "none"},
		{"attach", "eth0", "vm0", "--mode", "macvtap", "--tap-addrgenmode", "none"},
		{"attach", "eth0", "vm0", "--mode", "bridge", "--tap-addrgenmode", "none"},
		{"attach", "eth0", "vm%d"},
		{"detach", "eth0", "vm%d"},
		{"explain", "attach", "eth0", "vm%d"},
	} {
		r := runTcwire(t, append([]string{"--netns", ns.Name}, args...)...)
		if r.code != 2 {
			t.Errorf("tcwire %s: %s, want a usage error", strings.Join(args, " "), r)
		}
	}
	sameState(t, "refused options", before, snapshot(t, ns))

	// A tc-mode DEV that is a bridge port is refused, as the other modes
	// refuse it: the redirect would take the port's frames from the bridge.
	ns.Run("ip", "link", "add", "br9", "type", "bridge")
	ns.Run("ip", "link", "set", "eth0", "master", "br9")
	before = snapshot(t, ns)
	for _, mode := range []string{"tc", "macvtap", "bridge"} {
		r := runTcwire(t, "--netns", ns.Name, "attach", "eth0", "vm0", "--mode", mode)
		if r.code != 1 || !strings.Contains(r.stderr, "eth0 is a port of br9") {
			t.Errorf("--mode %s with eth0 a port of br9: %s", mode, r)
		}
	}
	sameState(t, "a bridge port refused", before, snapshot(t, ns))
}

// TestExistingTapMTU: an existing tap whose MTU differs from the veth's is
// given the veth's by ADD (as a tap ADD creates has it), so CHECK on ADD's
// own result passes.
func TestExistingTapMTU(t *testing.T) {
	ns := vethNS(t)
	ns.Run("ip", "link", "set", "eth0", "mtu", "1450")
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "vnet_hdr", "user", "0")
	ns.Run("ip", "link", "set", "tap0", "mtu", "1500", "alias", "tcwire") // as a crashed ADD's tap
	prev := `{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"` + ns.Path() + `"}]}`
	out := mustPlugin(t, "ADD", ns, `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":`+prev+`}`)
	if mtu := mustLink(t, ns, "tap0").MTU; mtu != 1450 {
		t.Errorf("tap0's MTU after ADD: %d, want eth0's 1450", mtu)
	}
	mustPlugin(t, "CHECK", ns, `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":`+strings.TrimSpace(out)+`}`)
	// The command line agrees: attach gives an existing tap DEV's MTU.
	ns.Run("ip", "link", "set", "tap0", "mtu", "1400")
	mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
	if mtu := mustLink(t, ns, "tap0").MTU; mtu != 1450 {
		t.Errorf("tap0's MTU after attach: %d, want eth0's 1450", mtu)
	}
}
