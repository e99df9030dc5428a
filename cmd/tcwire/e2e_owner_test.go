package main

// No tap any user can open (issue 19, kind 5).

import (
	"strings"
	"testing"
)

func TestUnownedTapRefused(t *testing.T) {
	for _, c := range []struct {
		mode  string
		flags []string // what sets the owner or group
		user  string   // ip's "user" afterwards ("" none)
		group string
	}{
		{"tc", []string{"--owner", "1234"}, "1234", ""},
		{"tc", []string{"--group", "5678"}, "", "5678"},
		{"bridge", []string{"--owner", "0", "--group", "5678"}, "root", "5678"},
	} {
		t.Run(c.mode+strings.Join(c.flags, ""), func(t *testing.T) {
			ns := vethNS(t)
			ns.Run("ip", "tuntap", "add", "vm0", "mode", "tap", "vnet_hdr")
			before := snapshot(t, ns)
			r := runTcwire(t, "--netns", ns.Name, "attach", "eth0", "vm0", "--mode", c.mode)
			if r.code != 1 || !strings.Contains(r.stderr, "vm0 has neither owner nor group") || !strings.Contains(r.stderr, "--owner") {
				t.Fatalf("attach to an unowned tap: %s", r)
			}
			sameState(t, "a refused attach", before, snapshot(t, ns))
			mustTcwire(t, append([]string{"--netns", ns.Name, "attach", "eth0", "vm0", "--mode", c.mode}, c.flags...)...)
			d := mustLink(t, ns, "vm0").LinkInfo.Data
			id := func(p *ipID) string {
				if p == nil {
					return ""
				}
				return string(*p)
			}
			if id(d.User) != c.user || id(d.Group) != c.group {
				t.Errorf("vm0's user %q group %q, want %q %q", id(d.User), id(d.Group), c.user, c.group)
			}
			// Now owned: the same attach again converges; another owner
			// is a mismatch, not a change.
			mustTcwire(t, append([]string{"--netns", ns.Name, "attach", "eth0", "vm0", "--mode", c.mode}, c.flags...)...)
			if r := runTcwire(t, "--netns", ns.Name, "attach", "eth0", "vm0", "--mode", c.mode, "--owner", "999"); r.code != 1 || !strings.Contains(r.stderr, "owner") {
				t.Errorf("another owner on an owned tap: %s", r)
			}
		})
	}
}
