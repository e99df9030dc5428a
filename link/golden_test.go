package link

import (
	"bytes"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/nl/annotate"
)

// The golden tests compare what tcwire sends with what iproute2 sent for the
// same command, as testdata/link/capture.sh captured it. tcwire reproduces
// ip's whole conversation, name lookups included, except where it differs
// on purpose; each difference is named here and tested to be only that:
//
//   - ip link sends a probe first (iplink_have_newlink: an empty RTM_NEWLINK
//     asking whether the kernel knows RTM_NEWLINK at all, answered EINVAL or
//     EOPNOTSUPP by kernels since 2.6). tcwire never sends it.
//   - `ip link set dev X address MAC` asks for the device by index (no
//     attributes) to learn the address length first. tcwire does not: the
//     kernel checks the length itself and answers EINVAL.
//   - `ip link show dev X` resolves the name (the request tcwire's Lookup
//     sends) and then asks again with ifi_family AF_PACKET, to print. tcwire
//     asks once.
//   - `bridge` resolves names by dumping every link (ll_init_map); tcwire
//     asks for the one device (GetRequest), as `ip` does.
//   - `ip -6 addr show dev X` resolves the name, dumps the addresses, and
//     asks for X again by index (ifi_family AF_INET6) and for its veth peer
//     by index, to print the link line ("eth0@peer0: <…>"). tcwire sends
//     the lookup and the dump.
//   - `bridge fdb show` writes its request into a 284-byte buffer and sends
//     the whole buffer: the 28-byte message and 256 zero bytes the kernel
//     ignores. tcwire sends the message only.

// loadFixture reads testdata/link/NAME.fixture.
// ExplainSchema annotates the bytes of a golden mismatch. It is
// linkschema.Schema, which imports this package, so these internal tests
// cannot import it: explain_test.go, an external test file, sets it.
var ExplainSchema annotate.Schema

func loadFixture(t testing.TB, name string) *fixture.Fixture {
	t.Helper()
	f, err := fixture.Load(filepath.Join("..", "testdata", "link", name+".fixture"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// zeroed returns the messages' bytes with seq and pid zeroed.
func zeroed(ms []fixture.Message) [][]byte {
	out := make([][]byte, len(ms))
	for i, m := range ms {
		out[i] = fixture.ZeroSeqPID(m.Raw)
	}
	return out
}

// sent returns every message a fixture's command sent, in order, with seq
// and pid zeroed. Buffers are split as the kernel reads them
// (fixture.SplitTrailing); bytes after the messages of a buffer must be
// zero (they are, for bridge fdb show; see above).
func sent(t testing.TB, f *fixture.Fixture) [][]byte {
	t.Helper()
	var out [][]byte
	for i, b := range f.Sent {
		ms, trailing, err := fixture.SplitTrailing(b)
		if err != nil {
			t.Fatalf("%s: sent buffer %d: %v", f.Name, i, err)
		}
		if len(ms) == 0 {
			t.Fatalf("%s: sent buffer %d holds no netlink message", f.Name, i)
		}
		if len(bytes.Trim(trailing, "\x00")) != 0 {
			t.Fatalf("%s: sent buffer %d: nonzero bytes after the messages: % x", f.Name, i, trailing)
		}
		out = append(out, zeroed(ms)...)
	}
	return out
}

// received returns every message a fixture's command received, with seq
// and pid zeroed; the kernel leaves nothing after its messages.
func received(t testing.TB, f *fixture.Fixture) [][]byte {
	t.Helper()
	var out [][]byte
	for i, b := range f.Received {
		ms, trailing, err := fixture.SplitTrailing(b)
		if err != nil {
			t.Fatalf("%s: received buffer %d: %v", f.Name, i, err)
		}
		if len(trailing) != 0 {
			t.Fatalf("%s: received buffer %d: %d bytes after the messages", f.Name, i, len(trailing))
		}
		out = append(out, zeroed(ms)...)
	}
	return out
}

func msgType(b []byte) uint16 { return nl.Uint16(b[4:]) }

// isNewlinkProbe reports whether b is iplink_have_newlink's probe: an
// RTM_NEWLINK with NLM_F_REQUEST|NLM_F_ACK and a zeroed ifinfomsg.
func isNewlinkProbe(b []byte) bool {
	return len(b) == nl.NlmsgHdrLen+IfinfomsgLen && msgType(b) == unix.RTM_NEWLINK &&
		nl.Uint16(b[6:]) == uint16(nl.FlagsAck) && bytes.Count(b[nl.NlmsgHdrLen:], []byte{0}) == IfinfomsgLen
}

// isLinkDump reports whether b is a GETLINK dump (bridge's ll_init_map).
func isLinkDump(b []byte) bool {
	return msgType(b) == unix.RTM_GETLINK && nl.Uint16(b[6:])&uint16(nl.FlagsDump) == uint16(nl.FlagsDump)
}

func idx(f *fixture.Fixture, dev string) int32 { return int32(f.Ifindex[dev]) }

var testMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xaa}

// testLL is eth0's EUI-64 link-local address in the fixtures (its MAC is
// 02:00:00:00:00:01).
var testLL = netip.MustParsePrefix("fe80::ff:fe00:1/64")

// nsFD returns the IFLA_NET_NS_FD value in the last message ip sent: a
// descriptor number of ip's process, the one part of such a request that
// cannot be known in advance.
func nsFD(t testing.TB, msgs [][]byte, nested bool) int {
	t.Helper()
	last := msgs[len(msgs)-1]
	var find func(b []byte) (uint32, bool)
	find = func(b []byte) (uint32, bool) {
		attrs, _ := nl.ParseAttrs(b)
		for _, a := range attrs {
			switch {
			case a.Type == unix.IFLA_NET_NS_FD:
				v, err := a.Uint32()
				return v, err == nil
			case nested && a.Type == unix.IFLA_LINKINFO, nested && a.Type == unix.IFLA_INFO_DATA:
				if v, ok := find(a.Data); ok {
					return v, true
				}
			case nested && a.Type == VETH_INFO_PEER && len(a.Data) >= IfinfomsgLen:
				if v, ok := find(a.Data[IfinfomsgLen:]); ok {
					return v, true
				}
			}
		}
		return 0, false
	}
	fd, ok := find(last[nl.NlmsgHdrLen+IfinfomsgLen:])
	if !ok || fd < 3 {
		t.Fatalf("no plausible IFLA_NET_NS_FD in ip's request (fd %d)", fd)
	}
	return int(fd)
}

type goldenCase struct {
	name string
	// build returns what tcwire sends for the fixture's command, in order:
	// the same builders the Conn functions use. msgs is ip's conversation
	// as compared (for the one value only it knows, a descriptor number).
	build func(t *testing.T, f *fixture.Fixture, msgs [][]byte) []nl.Request
	// cmd is tcwire's spelling of the last request's command line where it
	// differs from the one the fixture ran (same bytes, other words).
	cmd string
}

func goldenCases() []goldenCase {
	get := func(f *fixture.Fixture, dev string) nl.Request { return GetRequest(dev) }
	return []goldenCase{
		{name: "link-show", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			// Lookup, then LookupIndex of the veth's peer (IFLA_LINK).
			return []nl.Request{GetRequest("eth0"), GetIndexRequest(idx(f, "peer0"))}
		}, cmd: "ip link show dev if2"},
		{name: "link-show-missing", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{GetRequest("nosuch0")}
		}, cmd: "ip link show dev nosuch0"},
		{name: "link-show-macvtap", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			// Lookup, then LookupIndex of the lower device.
			return []nl.Request{GetRequest("mvtap0"), GetIndexRequest(idx(f, "eth0"))}
		}, cmd: "ip link show dev if3"},
		{name: "link-show-all", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{ListRequest()}
		}},
		{name: "set-up", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetUpRequest(idx(f, "eth0"), "eth0")}
		}},
		{name: "set-down", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetDownRequest(idx(f, "eth0"), "eth0")}
		}},
		{name: "set-mtu", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetMTURequest(idx(f, "eth0"), "eth0", 9000)}
		}},
		{name: "set-address", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetMACRequest(idx(f, "eth0"), "eth0", testMAC)}
		}},
		{name: "set-alias", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), MarkRequest(idx(f, "eth0"), "eth0")}
		}},
		{name: "set-master", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			// SetMaster looks the master up first, as ip does.
			return []nl.Request{get(f, "br0"), get(f, "eth0"), SetMasterRequest(idx(f, "eth0"), "eth0", idx(f, "br0"), "br0")}
		}},
		{name: "set-nomaster", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetNoMasterRequest(idx(f, "eth0"), "eth0")}
		}},
		{name: "set-netns", build: func(t *testing.T, f *fixture.Fixture, msgs [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetNetNSRequest(idx(f, "eth0"), "eth0", nsFD(t, msgs, false), "tcwire-capture-other")}
		}},
		{name: "del", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), DeleteRequest(idx(f, "eth0"), "eth0")}
		}},
		{name: "del-missing", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "nosuch0")}
		}, cmd: "ip link show dev nosuch0"},
		{name: "add-veth", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{AddVethRequest(Veth{Name: "veth0", Peer: "veth1"}, -1)}
		}},
		{name: "add-veth-peer-netns", build: func(t *testing.T, f *fixture.Fixture, msgs [][]byte) []nl.Request {
			v := Veth{Name: "veth0", Peer: "veth1", PeerNetNS: "tcwire-capture-other"}
			return []nl.Request{AddVethRequest(v, nsFD(t, msgs, true))}
		}},
		{name: "add-bridge", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{AddBridgeRequest("br1")}
		}},
		{name: "add-macvtap-bridge", build: macvtapCase("mvtap0", ModeBridge, true)},
		{name: "add-macvtap-passthru", build: macvtapCase("mvtap0", ModePassthru, true)},
		{name: "add-macvtap-vepa", build: macvtapCase("mvtap0", ModeVEPA, true)},
		{name: "add-macvtap-private", build: macvtapCase("mvtap0", ModePrivate, true)},
		{name: "add-macvtap-default", build: macvtapCase("mvtap0", 0, true)},
		{name: "add-macvlan-bridge", build: macvtapCase("mvlan0", ModeBridge, false)},
		{name: "bridge-link-learning-off", build: portCase(func(i int32) nl.Request { return SetLearningRequest(i, "eth0", false) })},
		{name: "bridge-link-learning-on", build: portCase(func(i int32) nl.Request { return SetLearningRequest(i, "eth0", true) })},
		{name: "bridge-link-flood-off", build: portCase(func(i int32) nl.Request { return SetUnicastFloodRequest(i, "eth0", false) })},
		{name: "bridge-link-learning-off-flood-off", build: portCase(func(i int32) nl.Request {
			return BridgePortRequest(i, "eth0", PortFlags{Learning: ptr(false), UnicastFlood: ptr(false)})
		}), cmd: "bridge link set dev eth0 flood off learning off"},
		{name: "fdb-add-static", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), AddFDBRequest(idx(f, "eth0"), "eth0", testMAC)}
		}},
		{name: "fdb-del", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), DelFDBRequest(idx(f, "eth0"), "eth0", testMAC)}
		}},
		{name: "fdb-show", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), ListFDBRequest(idx(f, "eth0"), "eth0")}
		}},
		{name: "fdb-replace-static", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), ReplaceFDBRequest(idx(f, "eth0"), "eth0", testMAC)}
		}},
		{name: "set-addrgenmode-none", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetAddrGenModeRequest(idx(f, "eth0"), "eth0", AddrGenModeNone)}
		}},
		{name: "set-addrgenmode-eui64", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetAddrGenModeRequest(idx(f, "eth0"), "eth0", AddrGenModeEUI64)}
		}},
		{name: "set-allmulticast-on", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetAllmultiRequest(idx(f, "eth0"), "eth0", true)}
		}},
		{name: "set-allmulticast-off", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), SetAllmultiRequest(idx(f, "eth0"), "eth0", false)}
		}},
		{name: "addr-show", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), ListAddrRequest(idx(f, "eth0"), "eth0", unix.AF_INET6)}
		}},
		{name: "addr-add", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), AddAddrRequest(idx(f, "eth0"), "eth0", testLL)}
		}},
		{name: "addr-del", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), DelAddrRequest(idx(f, "eth0"), "eth0", testLL)}
		}},
		{name: "addr-del-missing", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "eth0"), DelAddrRequest(idx(f, "eth0"), "eth0", testLL)}
		}},
		{name: "group-fwd-mask", build: func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
			return []nl.Request{get(f, "br0"), SetGroupFwdMaskRequest(idx(f, "br0"), "br0", 0x4000)}
		}},
	}
}

func ptr[T any](v T) *T { return &v }

func macvtapCase(name string, mode MacvlanMode, tap bool) func(*testing.T, *fixture.Fixture, [][]byte) []nl.Request {
	return func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
		m := Macvlan{Name: name, Parent: "eth0", Mode: mode, Tap: tap}
		return []nl.Request{GetRequest("eth0"), AddMacvlanRequest(idx(f, "eth0"), m)}
	}
}

// portCase: `bridge link set dev eth0 …`, built for eth0's index by build.
func portCase(build func(ifindex int32) nl.Request) func(*testing.T, *fixture.Fixture, [][]byte) []nl.Request {
	return func(t *testing.T, f *fixture.Fixture, _ [][]byte) []nl.Request {
		return []nl.Request{GetRequest("eth0"), build(idx(f, "eth0"))}
	}
}

// operative drops from ip's conversation the messages tcwire leaves out on
// purpose (see the comment at the top of this file); TestGoldenDifferences
// checks each of them.
func operative(f *fixture.Fixture, msgs [][]byte) [][]byte {
	var out [][]byte
	for i, m := range msgs {
		switch {
		case isNewlinkProbe(m):
			continue
		case isLinkDump(m) && strings.HasPrefix(f.Cmd, "bridge "):
			// bridge's ll_init_map; tcwire looks the port up instead.
			out = append(out, nil)
			continue
		case f.Name == "set-address" && msgType(m) == unix.RTM_GETLINK && i > 0 && isAddrLenQuery(m):
			continue
		case strings.HasPrefix(f.Name, "link-show") && isShowRequest(m):
			continue
		case strings.HasPrefix(f.Name, "addr-show") && msgType(m) == unix.RTM_GETLINK && i > 0:
			continue // ip's link line: X again, and its peer
		}
		out = append(out, m)
	}
	return out
}

// isAddrLenQuery reports whether m is ip's by-index GETLINK without
// attributes (nl_get_ll_addr_len).
func isAddrLenQuery(m []byte) bool {
	return msgType(m) == unix.RTM_GETLINK && len(m) == nl.NlmsgHdrLen+IfinfomsgLen && nl.Uint32(m[20:]) != 0
}

// isShowRequest reports whether m is the GETLINK `ip link show dev X` prints
// from: ifi_family AF_PACKET, not a dump.
func isShowRequest(m []byte) bool {
	return msgType(m) == unix.RTM_GETLINK && m[nl.NlmsgHdrLen] == unix.AF_PACKET && !isLinkDump(m)
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			f := loadFixture(t, tc.name)
			ip := sent(t, f)
			want := operative(f, ip)
			got := tc.build(t, f, ip)
			if len(got) != len(want) {
				t.Fatalf("%s: tcwire sends %d requests, ip %d (of %d sent, after dropping the known differences)", f.Cmd, len(got), len(want), len(ip))
			}
			for i, r := range got {
				b, err := r.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if want[i] == nil {
					// bridge's link dump stands here: tcwire asks for one device.
					if msgType(b) != unix.RTM_GETLINK || r.Flags&nl.NLM_F_DUMP != 0 {
						t.Errorf("request %d: %s: want a GETLINK for one device in place of bridge's dump", i, r.Cmd)
					}
					continue
				}
				if !bytes.Equal(b, want[i]) {
					t.Errorf("request %d (%s) differs from %s:\n%s", i, r.Cmd, f.Cmd, annotate.SideBySide("ip ("+f.Name+")", want[i], "tcwire", b, ExplainSchema))
				}
			}
			wantCmd := f.Cmd
			if tc.cmd != "" {
				wantCmd = tc.cmd
			}
			if last := got[len(got)-1]; last.Cmd != wantCmd {
				t.Errorf("Cmd = %q, want %q", last.Cmd, wantCmd)
			}
		})
	}
}

// TestGoldenCoverage makes sure every captured fixture is compared or
// decoded somewhere, so a new capture case cannot be forgotten.
func TestGoldenCoverage(t *testing.T) {
	fs, err := fixture.Glob(filepath.Join("..", "testdata", "link"), "*.fixture")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, tc := range goldenCases() {
		known[tc.name] = true
	}
	// Compared by TestGoldenDifferences / decoded by TestDecodeFixtures only.
	for _, n := range []string{"link-show-bridge", "link-show-port", "link-show-addrgenmode"} {
		known[n] = true
	}
	for _, f := range fs {
		if !known[f.Name] {
			t.Errorf("fixture %s is not used by any golden test", f.Name)
		}
	}
}

// TestGoldenDifferences checks that each message ip sends and tcwire does
// not is exactly the one described at the top of this file.
func TestGoldenDifferences(t *testing.T) {
	t.Run("newlink-probe", func(t *testing.T) {
		f := loadFixture(t, "set-up")
		msgs := sent(t, f)
		want := setRequest(Ifinfomsg{}, "", nil)
		b, _ := want.MarshalBinary()
		if !bytes.Equal(msgs[0], b) || !isNewlinkProbe(msgs[0]) {
			t.Errorf("ip's first message is not the RTM_NEWLINK probe:\n%s", annotate.Dump(msgs[0], ExplainSchema))
		}
	})
	t.Run("address-length-query", func(t *testing.T) {
		f := loadFixture(t, "set-address")
		var q [][]byte
		for _, m := range sent(t, f) {
			if isAddrLenQuery(m) {
				q = append(q, m)
			}
		}
		if len(q) != 1 {
			t.Fatalf("want one by-index GETLINK in ip's set address, got %d", len(q))
		}
		// It is GetIndexRequest without IFLA_EXT_MASK.
		b, _ := GetIndexRequest(idx(f, "eth0")).MarshalBinary()
		b = b[:nl.NlmsgHdrLen+IfinfomsgLen]
		nl.PutUint32(b, uint32(len(b)))
		if !bytes.Equal(q[0], b) {
			t.Errorf("address length query:\n%s", annotate.SideBySide("ip", q[0], "GetIndexRequest without IFLA_EXT_MASK", b, ExplainSchema))
		}
	})
	t.Run("show-request", func(t *testing.T) {
		f := loadFixture(t, "link-show")
		var shows [][]byte
		for _, m := range sent(t, f) {
			if isShowRequest(m) {
				shows = append(shows, m)
			}
		}
		if len(shows) != 1 {
			t.Fatalf("want one AF_PACKET GETLINK in ip link show, got %d", len(shows))
		}
		// AF_PACKET, IFLA_IFNAME, IFLA_EXT_MASK RTEXT_FILTER_VF.
		e := nl.NewEncoder(Ifinfomsg{Family: unix.AF_PACKET}.Append(nil))
		e.String(unix.IFLA_IFNAME, "eth0")
		e.Uint32(unix.IFLA_EXT_MASK, RTEXT_FILTER_VF)
		b, _ := nl.Request{Type: unix.RTM_GETLINK, Flags: nl.NLM_F_REQUEST, Data: e.Bytes()}.MarshalBinary()
		if !bytes.Equal(shows[0], b) {
			t.Errorf("show request:\n%s", annotate.SideBySide("ip", shows[0], "expected", b, ExplainSchema))
		}
	})
	t.Run("bridge-link-dump", func(t *testing.T) {
		for _, name := range []string{"bridge-link-learning-off", "fdb-add-static", "fdb-del", "fdb-show", "fdb-replace-static"} {
			f := loadFixture(t, name)
			msgs := sent(t, f)
			if len(msgs) != 2 {
				t.Fatalf("%s: bridge sent %d messages, want the link dump and the request", name, len(msgs))
			}
			// ll_init_map: GETLINK dump, family 0, IFLA_EXT_MASK VF only.
			e := nl.NewEncoder(Ifinfomsg{}.Append(nil))
			e.Uint32(unix.IFLA_EXT_MASK, RTEXT_FILTER_VF)
			b, _ := nl.Request{Type: unix.RTM_GETLINK, Flags: nl.FlagsDump, Data: e.Bytes()}.MarshalBinary()
			if !bytes.Equal(msgs[0], b) {
				t.Errorf("%s: bridge's first message:\n%s", name, annotate.SideBySide("bridge", msgs[0], "expected dump", b, ExplainSchema))
			}
		}
	})
	t.Run("addr-show-link-line", func(t *testing.T) {
		f := loadFixture(t, "addr-show")
		msgs := sent(t, f)
		if len(msgs) != 4 || msgType(msgs[2]) != unix.RTM_GETADDR {
			t.Fatalf("ip -6 addr show sent %d messages; want lookup, GETLINK, dump, GETLINK", len(msgs))
		}
		// GetIndexRequest with ifi_family AF_INET6 (eth0), then as is
		// (its peer, peer0).
		for i, want := range []struct {
			family uint8
			dev    string
		}{{unix.AF_INET6, "eth0"}, {unix.AF_UNSPEC, "peer0"}} {
			b := mustBytes(t, GetIndexRequest(idx(f, want.dev)))
			b[nl.NlmsgHdrLen] = want.family
			if got := msgs[[]int{1, 3}[i]]; !bytes.Equal(got, b) {
				t.Errorf("link line request for %s:\n%s", want.dev, annotate.SideBySide("ip", got, "expected", b, ExplainSchema))
			}
		}
	})
	t.Run("fdb-show-buffer", func(t *testing.T) {
		f := loadFixture(t, "fdb-show")
		buf := f.Sent[len(f.Sent)-1]
		msgs, trailing, err := fixture.SplitTrailing(buf)
		if err != nil || len(msgs) != 1 || len(msgs[0].Raw) != nl.NlmsgHdrLen+NdmsgLen || len(trailing) == 0 || len(bytes.Trim(trailing, "\x00")) != 0 {
			t.Errorf("bridge fdb show's buffer: %d messages, %d trailing bytes, %v; want one 28-byte message and zeros", len(msgs), len(trailing), err)
		}
		all, err := f.Messages(true)
		if err != nil || len(all) != 2 {
			t.Errorf("fdb-show: Messages(true) = %d messages, %v; want the link dump and the request", len(all), err)
		}
	})
}
