package main

import (
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

// TestDetachRefusesOtherWiring: with eth0 and tap0 wired to each other,
// detach of a pair that is not wired together (a typo, or another veth)
// exits 1 naming what it found and leaves the kernel as it was; the
// running VM keeps its tap.
func TestDetachRefusesOtherWiring(t *testing.T) {
	ns := vethNS(t)
	ns.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
	mustTcwire(t, "--netns", ns.Name, "attach", "eth1", "tap1")
	before := snapshot(t, ns)
	for _, tc := range []struct {
		args []string
		want string
	}{
		// eth9 does not exist: tap0 is wired to eth0.
		{[]string{"detach", "eth9", "tap0"}, "tap0 is wired to eth0, not eth9 (pref 49152, handle 800::800); `tcwire detach eth0 tap0` undoes that"},
		// eth1 exists, wired to tap1.
		{[]string{"detach", "eth1", "tap0"}, "tap0 is wired to eth0, not eth1"},
		// eth0 is wired to tap0, not tap1.
		{[]string{"detach", "eth0", "tap1"}, "tap1 is wired to eth1, not eth0"},
		// tap9 does not exist: eth0 is wired to tap0.
		{[]string{"detach", "eth0", "tap9"}, "eth0 is wired to tap0, not tap9 (pref 49152, handle 800::800); `tcwire detach eth0 tap0` undoes that"},
		// Neither exists.
		{[]string{"detach", "eth8", "tap8"}, "neither eth8 nor tap8 exists"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runTcwire(t, append([]string{"--netns", ns.Name}, tc.args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s\nwant exit 1 saying %q", r, tc.want)
			}
			sameState(t, "a refused detach", before, snapshot(t, ns))
		})
	}
	// The right pairs still detach, and leave nothing.
	mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
	mustTcwire(t, "--netns", ns.Name, "detach", "eth1", "tap1")
	if got := tcState(t, ns, "eth0", "eth1"); got != "### eth0\n### eth1\n" {
		t.Errorf("detach left tc state:\n%s", got)
	}
}

// TestDetachStaleHalf: a half whose other end is gone is cleaned up —
// eth0 redirecting into a deleted tap, a tcwire tap whose veth is gone.
func TestDetachStaleHalf(t *testing.T) {
	t.Run("tap deleted", func(t *testing.T) {
		ns := vethNS(t)
		initial := snapshot(t, ns)
		mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
		ns.Run("ip", "link", "del", "tap0")
		mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
		sameState(t, "detach after the tap went", initial, snapshot(t, ns))
	})
	t.Run("veth deleted", func(t *testing.T) {
		ns := vethNS(t)
		mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
		ns.Run("ip", "link", "del", "eth0")
		// Deleting eth0 took peer0 with it: lo alone is left.
		initial := snapshot(t, nstest.New(t))
		mustTcwire(t, "--netns", ns.Name, "detach", "eth0", "tap0")
		sameState(t, "detach after the veth went", initial, snapshot(t, ns))
	})
}

// TestAttachExistingTapMismatch: attach on an existing tap whose settings
// contradict the options given exits 1 naming the setting and changes
// nothing; options that agree are accepted.
func TestAttachExistingTapMismatch(t *testing.T) {
	ns := vethNS(t)
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "vnet_hdr", "user", "1234")
	ns.Run("ip", "link", "set", "tap0", "mtu", "1400")
	ns.Run("ip", "tuntap", "add", "tapm", "mode", "tap", "multi_queue", "user", "0")
	before := snapshot(t, ns)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"attach", "eth0", "tap0", "--queues", "2"}, "tap0 exists with queues 1 (single-queue), but queues 2 was asked for"},
		{[]string{"attach", "eth0", "tapm", "--queues", "1"}, "tapm exists with queues multi-queue, but queues 1 (single-queue) was asked for"},
		{[]string{"attach", "eth0", "tap0", "--owner", "1000"}, "tap0 exists with owner 1234, but owner 1000 was asked for"},
		{[]string{"attach", "eth0", "tap0", "--group", "100"}, "tap0 exists with group none, but group 100 was asked for"},
		{[]string{"attach", "eth0", "tap0", "--mtu", "1500"}, "tap0 exists with mtu 1400, but mtu 1500 was asked for"},
		{[]string{"attach", "eth0", "tap0", "--no-vnet-hdr"}, "tap0 exists with vnet_hdr on, but vnet_hdr off was asked for"},
		{[]string{"--json", "attach", "eth0", "tap0", "--queues", "2"}, "queues 2 was asked for"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runTcwire(t, append([]string{"--netns", ns.Name}, tc.args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("%s\nwant exit 1 saying %q and no output", r, tc.want)
			}
			sameState(t, "a refused attach", before, snapshot(t, ns))
		})
	}
	// What agrees with the tap is taken.
	mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0", "--queues", "1", "--owner", "1234", "--mtu", "1400")
}
