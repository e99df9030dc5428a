package main

// A device a process holds open is never deleted (issue 19, kind 1):
// detach removes the wiring, keeps the device, and says so.

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/tuntap"
)

// holdTap opens the tap name of ns the way a VMM does; it stays open
// until the returned function (or cleanup) closes it.
func holdTap(t *testing.T, ns string, name string) (*os.File, func()) {
	t.Helper()
	tap, err := tuntap.Open(tuntap.OpenConfig{Name: name, NetNS: ns})
	if err != nil {
		t.Fatalf("hold %s: %v", name, err)
	}
	closed := false
	done := func() {
		if !closed {
			closed = true
			tap.Close()
		}
	}
	t.Cleanup(done)
	return tap.Files()[0], done
}

// vmFrame is a broadcast frame a VM sends, after a virtio-net header of
// zeros (tcwire's taps and a macvtap's file have IFF_VNET_HDR): writing it
// fails once the device is gone under the file (EBADFD).
var vmFrame = append(make([]byte, 10), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x09, 0x88, 0xb5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

func TestDetachLeavesDeviceInUse(t *testing.T) {
	for _, c := range []struct{ mode, tap string }{{"tc", "tap0"}, {"bridge", "vm0"}, {"macvtap", "mvt0"}} {
		t.Run(c.mode, func(t *testing.T) {
			ns := vethNS(t)
			if c.mode == "macvtap" {
				// Pads: /dev/tapN is shared by every namespace.
				for i := range 6 {
					ns.Run("ip", "link", "add", fmt.Sprintf("pad%d", i), "type", "veth", "peer", "name", fmt.Sprintf("padp%d", i))
				}
			}
			r := mustTcwire(t, "--netns", ns.Name, "attach", "eth0", c.tap, "--mode", c.mode)
			var f *os.File
			var release func()
			if c.mode == "macvtap" {
				node := strings.Fields(r.stdout)[1]
				var err error
				if f, err = os.OpenFile(node, os.O_RDWR, 0); err != nil {
					t.Fatal(err)
				}
				release = func() { f.Close() }
				t.Cleanup(release)
			} else {
				f, release = holdTap(t, ns.Name, c.tap)
			}
			before := mustLink(t, ns, c.tap)

			r = mustTcwire(t, "--netns", ns.Name, "--json", "detach", "eth0", c.tap)
			var d struct {
				Deleted []string `json:"deleted"`
				Kept    []struct{ Name, Why string }
			}
			if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
				t.Fatalf("detach --json: %v\n%s", err, r.stdout)
			}
			if len(d.Kept) != 1 || d.Kept[0].Name != c.tap || d.Kept[0].Why != "in use" || slices.Contains(d.Deleted, c.tap) {
				t.Errorf("detach --json: %s, want %s kept, in use", r.stdout, c.tap)
			}
			after := linkOf(t, ns, c.tap)
			if after == nil || after.Ifindex != before.Ifindex {
				t.Fatalf("%s is gone (or replaced) under the process holding it", c.tap)
			}
			if _, err := f.Write(vmFrame); err != nil {
				t.Errorf("the VM's write after detach: %v", err)
			}
			// The wiring is gone: no redirect on eth0, eth0 in no bridge.
			if fl := ingressFilters(t, ns, "eth0"); strings.Contains(fl, "mirred") {
				t.Errorf("eth0 still redirects:\n%s", fl)
			}
			if c.mode == "bridge" && linkOf(t, ns, "br-vm0") != nil {
				t.Error("the bridge stays")
			}
			// In text: it says so.
			if c.mode != "macvtap" {
				r = mustTcwire(t, "--netns", ns.Name, "detach", "eth0", c.tap)
				if !strings.Contains(r.stdout, c.tap+" stays: in use") {
					t.Errorf("detach says %q, want %q", r.stdout, c.tap+" stays: in use")
				}
			}
			// Closed, the next detach deletes it.
			release()
			r = mustTcwire(t, "--netns", ns.Name, "--json", "detach", "eth0", c.tap)
			if linkOf(t, ns, c.tap) != nil || !strings.Contains(r.stdout, `"deleted":["`+c.tap) {
				t.Errorf("detach once closed: %s; %s exists: %v", r.stdout, c.tap, linkOf(t, ns, c.tap) != nil)
			}
		})
	}
}
