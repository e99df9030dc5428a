package link

import (
	"bytes"

	"os"
	"path/filepath"
	"testing"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
)

// TestListKind: the request is byte-identical to the one `ip link show type
// macvtap` sends (traced live), and the kernel's filtered dump holds the
// macvtaps alone.
func TestListKind(t *testing.T) {
	nstest.RequireTool(t, "strace")
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	ns.Run("ip", "link", "add", "mvt0", "link", "eth0", "type", "macvtap", "mode", "passthru")
	out := filepath.Join(t.TempDir(), "strace")
	ns.Run("strace", "-f", "-yy", "-X", "verbose", "-s", "0", "-e", "trace=sendmsg,sendto,recvmsg,recvfrom",
		"-e", "write=all", "-e", "read=all", "-o", out, "ip", "link", "show", "type", "macvtap")
	text, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sent, _, err := fixture.ParseStrace(bytes.NewReader(text))
	if err != nil || len(sent) == 0 {
		t.Fatalf("ip link show type macvtap: %v, %d messages", err, len(sent))
	}
	ours, err := ListKindRequest("macvtap").MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// ip sends the dump, then a GETLINK per lower device it prints.
	var theirs []byte
	for _, m := range sent {
		if len(m) >= 16 && nl.Uint16(m[4:]) == 0x12 && nl.Uint16(m[6:])&0x300 == 0x300 {
			theirs = append([]byte(nil), m...)
			clear(theirs[8:16]) // seq and pid
		}
	}
	if !bytes.Equal(ours, theirs) {
		t.Errorf("ours   % x\ntheirs % x", ours, theirs)
	}
	c, err := nl.Dial(&nl.Config{NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ls, err := ListKind(c, KindMacvtap)
	if err != nil || len(ls) != 1 || ls[0].Name != "mvt0" {
		t.Errorf("ListKind(macvtap) = %v, %v; want mvt0 alone", ls, err)
	}
}
