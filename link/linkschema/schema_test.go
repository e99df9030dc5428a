package linkschema

import (
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/internal/fuzzcheck"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/nl/annotate"
)

func load(t testing.TB, dir, name string) *fixture.Fixture {
	t.Helper()
	f, err := fixture.Load(filepath.Join("..", "..", "testdata", dir, name+".fixture"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// messages returns every message f holds, sent and received.
func messages(t testing.TB, f *fixture.Fixture) []fixture.Message {
	t.Helper()
	var out []fixture.Message
	for _, sent := range []bool{true, false} {
		ms, err := f.Messages(sent)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out = append(out, ms...)
	}
	return out
}

func dump(t testing.TB, r nl.Request) string {
	t.Helper()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return annotate.Dump(b, Schema)
}

// TestSchemaExplainsFixtures: every message the fixtures hold is annotated
// without a "(malformed attribute)" or "(unknown)" row, except the attribute
// kinds the schema leaves raw on purpose.
func TestSchemaExplainsFixtures(t *testing.T) {
	for _, name := range []string{"add-veth-peer-netns", "add-macvtap-bridge", "bridge-link-learning-off-flood-off",
		"fdb-add-static", "group-fwd-mask", "link-show-port", "link-show-bridge", "link-show-macvtap", "fdb-show",
		"fdb-replace-static", "set-addrgenmode-none", "link-show-addrgenmode", "addr-show", "addr-del-missing", "set-allmulticast-on"} {
		for _, m := range messages(t, load(t, "link", name)) {
			out := annotate.Dump(m.Raw, Schema)
			if strings.Contains(out, "(malformed") || strings.Contains(out, "(unknown)") {
				t.Errorf("%s:\n%s", name, out)
			}
		}
	}
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0xaa}
	ll := netip.MustParsePrefix("fe80::ff:fe00:1/64")
	for _, tt := range []struct {
		req  nl.Request
		want []string
	}{
		{link.AddMacvlanRequest(3, link.Macvlan{Name: "m", Parent: "eth0", Mode: link.ModePassthru, Tap: true}),
			[]string{"RTM_NEWLINK", "IFLA_LINK", "IFLA_INFO_KIND", `"macvtap"`, "MACVLAN_MODE_PASSTHRU (8)"}},
		{link.SetAddrGenModeRequest(3, "eth0", link.AddrGenModeNone),
			[]string{"IFLA_AF_SPEC", "AF_INET6", "IFLA_INET6_ADDR_GEN_MODE", "IN6_ADDR_GEN_MODE_NONE (1)"}},
		{link.DelAddrRequest(3, "eth0", ll),
			[]string{"RTM_DELADDR", "ifa_prefixlen", "IFA_LOCAL", "fe80::ff:fe00:1"}},
		{link.AddFDBRequest(3, "eth0", mac),
			[]string{"RTM_NEWNEIGH", "AF_BRIDGE (7)", "NUD_REACHABLE|NUD_NOARP (0x42)", "NTF_MASTER (0x4)", "NDA_LLADDR", "02:00:00:00:00:aa"}},
	} {
		out := dump(t, tt.req)
		for _, want := range tt.want {
			if !strings.Contains(out, want) {
				t.Errorf("annotation of %q lacks %q:\n%s", tt.req.Cmd, want, out)
			}
		}
	}
}

// TestSchemaTun: Schema names the IFLA_TUN_* attributes of a tap, as the
// kernel reported tap0 in the qdisc-add-ingress capture.
func TestSchemaTun(t *testing.T) {
	f := load(t, "tc", "qdisc-add-ingress")
	var out string
	for _, m := range messages(t, f) {
		var ifi link.Ifinfomsg
		if m.Type == unix.RTM_NEWLINK && ifi.UnmarshalBinary(m.Payload()) == nil && int(ifi.Index) == f.Ifindex["tap0"] {
			out = annotate.Dump(m.Raw, Schema)
		}
	}
	if out == "" {
		t.Fatal("no RTM_NEWLINK for tap0 in qdisc-add-ingress")
	}
	for _, name := range []string{"IFLA_TUN_TYPE", "IFLA_TUN_PI", "IFLA_TUN_VNET_HDR", "IFLA_TUN_PERSIST", "IFLA_TUN_MULTI_QUEUE"} {
		if !strings.Contains(out, name) {
			t.Errorf("annotation lacks %s:\n%s", name, out)
		}
	}
}

// FuzzLinkSchema annotates arbitrary bytes with Schema, as `tcwire
// explain` and the golden tests' diffs do: every row must be the input's
// bytes at the row's offset.
func FuzzLinkSchema(f *testing.F) {
	fs, err := fixture.Glob(filepath.Join("..", "..", "testdata", "link"), "*.fixture")
	if err != nil {
		f.Fatal(err)
	}
	for _, fx := range fs {
		for _, m := range messages(f, fx) {
			// Whole link dumps (several KB) would slow the fuzzer down
			// to a crawl; the messages under 1 KB cover every nest.
			if len(m.Raw) <= 1024 {
				f.Add(fixture.ZeroSeqPID(m.Raw))
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcheck.Annotate(t, b, Schema)
	})
}
