package main

// A stale redirect is repaired, not a trap (issue 19, kind 2): attaching a
// pair replaces its own half whose target is gone.

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/tuntap"
)

// readMarked reads f (a tap's file, nonblocking) until a frame sendFrames
// sent arrives, for up to 5 s.
func readMarked(t *testing.T, f *os.File) bool {
	t.Helper()
	buf := make([]byte, 65536)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		f.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := f.Read(buf)
		if err == nil && bytes.Contains(buf[:n], []byte("tcwire e2e")) {
			return true
		}
	}
	return false
}

// TestStaleHalfReplaced: after the veth is recreated (a lab redeploy) and
// on qemu's second start with script=tcwire-ifup (qemu makes the tap, it
// goes when qemu exits), attach and ifup of the same pair succeed, and a
// reader holding the tap gets what arrives on the veth.
func TestStaleHalfReplaced(t *testing.T) {
	t.Run("veth recreated", func(t *testing.T) {
		ns := vethNS(t)
		mustTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
		f, _ := holdTap(t, ns.Name, "tap0")
		ns.Run("ip", "link", "del", "eth0")
		ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
		if fl := ingressFilters(t, ns, "tap0"); !strings.Contains(fl, "mirred") {
			t.Fatalf("tap0 lost its half with the veth:\n%s", fl)
		}
		r := runTcwire(t, "--netns", ns.Name, "attach", "eth0", "tap0")
		if r.code != 0 {
			t.Fatalf("attach after the veth was recreated: %s", r)
		}
		for _, d := range []string{"eth0", "peer0"} {
			ns.Run("ip", "link", "set", d, "up")
		}
		sendFrames(t, ns, "peer0", 3)
		if !readMarked(t, f) {
			t.Error("the reader holding tap0 got nothing from the recreated veth")
		}
		if fl := ingressFilters(t, ns, "tap0"); strings.Count(fl, "mirred") != 1 {
			t.Errorf("tap0's hook, want one redirect:\n%s", fl)
		}
	})
	t.Run("qemu restarted", func(t *testing.T) {
		ns := nstest.New(t)
		ns.Run("ip", "link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
		var f *os.File
		for start := range 2 {
			// qemu makes tap1 (not persistent) and runs the script.
			tap, err := tuntap.Create(tuntap.Config{Name: "tap1", NetNS: ns.Name, Flags: tuntap.DefaultFlags})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tap.Close() })
			if out, err := ns.Try(tcwireIfup, "tap1"); err != nil {
				t.Fatalf("start %d: tcwire-ifup tap1: %v\n%s", start+1, err, out)
			}
			f = tap.Files()[0]
			if start == 0 {
				tap.Close() // qemu exits: tap1 goes, eth1's half is stale
				if linkOf(t, ns, "tap1") != nil {
					t.Fatal("tap1 outlived its qemu")
				}
			}
		}
		for _, d := range []string{"eth1", "peer1"} {
			ns.Run("ip", "link", "set", d, "up")
		}
		sendFrames(t, ns, "peer1", 3)
		if !readMarked(t, f) {
			t.Error("the second qemu got nothing from eth1")
		}
		if fl := ingressFilters(t, ns, "eth1"); strings.Count(fl, "mirred") != 1 {
			t.Errorf("eth1's hook, want one redirect:\n%s", fl)
		}
	})
}
