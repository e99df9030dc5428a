package tcwire

import (
	"bytes"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
)

// TestModeRequestsGolden: the requests mode.go builds itself are
// byte-identical (seq and pid aside) to those ip and bridge send, traced
// live in a namespace of their own.
func TestModeRequestsGolden(t *testing.T) {
	nstest.RequireTool(t, "strace")
	nstest.RequireTool(t, "bridge")
	ns := upVethNS(t)
	ns.Run("ip", "link", "add", "br0", "type", "bridge")
	ns.Run("ip", "link", "set", "eth0", "master", "br0")
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	for _, tc := range []struct {
		cmd []string
		req nl.Request
	}{
		{[]string{"ip", "link", "set", "dev", "eth0", "allmulticast", "on"}, setAllmultiRequest(int32(ns.Ifindex("eth0")), "eth0")},
		{[]string{"bridge", "fdb", "replace", mac.String(), "dev", "eth0", "master", "static"}, replaceFDBRequest(int32(ns.Ifindex("eth0")), "eth0", mac)},
	} {
		if got := tc.req.Cmd; got != strings.Join(tc.cmd, " ") {
			t.Errorf("Cmd %q, want %q", got, strings.Join(tc.cmd, " "))
		}
		out := filepath.Join(t.TempDir(), "strace")
		ns.Run("strace", append([]string{"-f", "-yy", "-X", "verbose", "-s", "0", "-e", "trace=sendmsg,sendto,recvmsg,recvfrom",
			"-e", "write=all", "-e", "read=all", "-o", out}, tc.cmd...)...)
		text, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sent, _, err := fixture.ParseStrace(bytes.NewReader(text))
		if err != nil || len(sent) == 0 {
			t.Fatalf("%v: %v, %d messages", tc.cmd, err, len(sent))
		}
		ours, err := tc.req.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		theirs := append([]byte(nil), sent[len(sent)-1]...)
		if len(theirs) >= 16 {
			clear(theirs[8:16]) // seq and pid
		}
		if !bytes.Equal(ours, theirs) {
			t.Errorf("%v:\nours   %s\ntheirs %s", tc.cmd, hex.EncodeToString(ours), hex.EncodeToString(theirs))
		}
	}
}
