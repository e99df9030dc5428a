package main

// Messages tell the truth (issue 19, kind 8): runtime errors escape the
// control bytes of names as usage errors do, a path that is no network
// namespace is called so, a device wired to itself is a usage error, and
// a permanent refusal never says "try again".

import (
	"strings"
	"testing"
	"unicode"
)

// controlFree fails t when s holds a control byte other than the newline
// that ends a line.
func controlFree(t *testing.T, what, s string) {
	t.Helper()
	for _, r := range strings.TrimRight(s, "\n") {
		if r == '\n' {
			continue
		}
		if unicode.IsControl(r) {
			t.Errorf("%s prints the control byte %q raw: %q", what, r, s)
			return
		}
	}
}

func TestMessagesTellTruth(t *testing.T) {
	ns := vethNS(t)
	// Names the kernel allows, with control bytes: ESC (a terminal escape),
	// BEL, DEL, a C1 control.
	for _, name := range []string{"t\x1b[31map", "a\x07b", "x\x7fy", "c\u0085d", "\x1b]0;x\x07"} {
		for _, args := range [][]string{
			{"--netns", ns.Name, "attach", name, "tap0"},
			{"--netns", ns.Name, "attach", "eth0", name, "--mode", "macvtap", "--owner", "99999999999"},
			{"--netns", ns.Name, "detach", name, "tap0"},
			{"--netns", ns.Name, "show", name},
			{"--netns", ns.Name, "tap", "del", name},
			{"--netns", ns.Name, "explain", "attach", name, "tap0"},
		} {
			r := runTcwire(t, args...)
			if r.code == 0 {
				t.Errorf("tcwire %q: exit 0, want an error", args)
			}
			controlFree(t, "tcwire "+strings.Join(args, " "), r.stderr)
			controlFree(t, "tcwire "+strings.Join(args, " ")+" (stdout)", r.stdout)
		}
	}
	// A name with control bytes that exists: show prints it escaped.
	ns.Run("ip", "link", "add", "e\x1bx", "type", "veth", "peer", "name", "p\x1bx")
	ns.Run("ip", "tuntap", "add", "tap7", "mode", "tap", "user", "0")
	tcWire(ns, "e\x1bx", "tap7")
	r := mustTcwire(t, "--netns", ns.Name, "show")
	controlFree(t, "show", r.stdout)
	if !strings.Contains(r.stdout, `e\x1bx`) {
		t.Errorf("show does not name e\\x1bx escaped:\n%s", r.stdout)
	}

	// Paths that are not network namespaces.
	for _, path := range []string{"/proc/self/status", "/proc/self/ns/mnt", "/dev/null", "/proc/self/ns/uts", "/sys/class/net"} {
		r := runTcwire(t, "--netns", path, "attach", "eth0", "tap0")
		if r.code != 1 || !strings.Contains(r.stderr, "not a network namespace") || strings.Contains(r.stderr, "setns") || strings.Contains(r.stderr, "invalid argument") {
			t.Errorf("--netns %s: %s, want exit 1 and \"not a network namespace\"", path, r)
		}
	}

	// A device wired to itself: a usage error, for every command that
	// takes DEV TAP.
	for _, args := range [][]string{
		{"attach", "eth0", "eth0"},
		{"attach", "eth0", "eth0", "--mode", "bridge"},
		{"detach", "eth0", "eth0"},
		{"explain", "attach", "eth0", "eth0"},
		{"explain", "detach", "tap0", "tap0", "--mode", "macvtap"},
	} {
		r := runTcwire(t, append([]string{"--netns", ns.Name}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "wired to itself") {
			t.Errorf("tcwire %s: %s, want exit 2", strings.Join(args, " "), r)
		}
	}

	// Permanent refusals of a device in use never say "try again": a
	// macvtap as a bridge port, a bridge port under a macvtap.
	mv := vethNS(t)
	mv.Run("ip", "link", "add", "link", "eth0", "name", "mvt0", "type", "macvtap", "mode", "passthru")
	mv.Run("ip", "link", "add", "br9", "type", "bridge")
	mv.Run("ip", "link", "set", "peer0", "master", "br9")
	for _, args := range [][]string{
		{"attach", "mvt0", "vm0", "--mode", "bridge"},
		{"attach", "eth0", "vm1", "--mode", "bridge"},
		{"attach", "peer0", "vm2", "--mode", "macvtap"},
	} {
		r := runTcwire(t, append([]string{"--netns", mv.Name}, args...)...)
		if r.code != 1 || strings.Contains(r.stderr, "try again") {
			t.Errorf("tcwire %s: %s, want exit 1 without \"try again\"", strings.Join(args, " "), r)
		}
	}
}
