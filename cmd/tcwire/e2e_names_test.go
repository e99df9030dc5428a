package main

// Names tcwire makes are unique and valid (issue 19, kind 7).

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestBridgeNamesUnique: two taps sharing a 12-byte prefix get bridges of
// their own in bridge mode; a name with multi-byte characters gives a
// bridge whose name show --json prints whole.
func TestBridgeNamesUnique(t *testing.T) {
	ns := vethNS(t)
	ns.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
	ns.Run("ip", "link", "add", "eth2", "type", "veth", "peer", "name", "peer2")
	taps := map[string]string{"eth0": "vmabcdefghij01", "eth1": "vmabcdefghij02", "eth2": "vm-éééééé"}
	bridges := map[string]bool{}
	for dev, tap := range taps {
		r := mustTcwire(t, "--netns", ns.Name, "--json", "attach", dev, tap, "--mode", "bridge")
		var a struct{ Bridge string }
		if err := json.Unmarshal([]byte(r.stdout), &a); err != nil {
			t.Fatal(err)
		}
		if bridges[a.Bridge] || !utf8.ValidString(a.Bridge) || strings.ContainsRune(a.Bridge, utf8.RuneError) || linkOf(t, ns, a.Bridge) == nil {
			t.Errorf("attach %s %s: bridge %q (taken already, invalid, or not there)", dev, tap, a.Bridge)
		}
		bridges[a.Bridge] = true
	}
	out := mustTcwire(t, "--netns", ns.Name, "--json", "show", "--modes").stdout
	if strings.ContainsRune(out, utf8.RuneError) || strings.Contains(out, `\ufffd`) {
		t.Errorf("show --json prints U+FFFD:\n%s", out)
	}
	for dev, tap := range taps {
		mustTcwire(t, "--netns", ns.Name, "detach", dev, tap)
	}
	for br := range bridges {
		if linkOf(t, ns, br) != nil {
			t.Errorf("%s stays after detach", br)
		}
	}
}
