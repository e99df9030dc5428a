package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/internal/nstest"
)

// explainMessages reads the netlink messages back out of explain's output:
// each "# N. …" line starts one, and each dump line is an offset, two
// spaces, then the bytes at that offset as hex pairs separated by single
// spaces (the annotation follows after two or more spaces).
func explainMessages(t *testing.T, out string) [][]byte {
	t.Helper()
	var msgs [][]byte
	for n, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "# ") {
			if f := strings.Fields(line); len(f) > 1 && strings.HasSuffix(f[1], ".") {
				if _, err := strconv.Atoi(strings.TrimSuffix(f[1], ".")); err == nil {
					msgs = append(msgs, nil)
				}
			}
			continue
		}
		if len(line) < 6 || line[4:6] != "  " {
			continue
		}
		off, err := strconv.ParseUint(line[:4], 16, 32)
		if err != nil || len(msgs) == 0 {
			continue
		}
		cur := &msgs[len(msgs)-1]
		var bs []byte
		rest := line[6:]
		for len(rest) >= 2 && isHexPair(rest[:2]) && (len(rest) == 2 || rest[2] == ' ') {
			v, _ := strconv.ParseUint(rest[:2], 16, 8)
			bs = append(bs, byte(v))
			rest = rest[2:]
			if strings.HasPrefix(rest, "  ") {
				break
			}
			rest = strings.TrimPrefix(rest, " ")
		}
		if len(bs) == 0 {
			continue
		}
		if int(off) != len(*cur) {
			t.Fatalf("explain output line %d: offset %#x, but %d bytes read so far: %q", n+1, off, len(*cur), line)
		}
		*cur = append(*cur, bs...)
	}
	return msgs
}

func isHexPair(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// fixtureRequest is the request a golden fixture's tc sent, seq and pid
// zeroed as explain prints them.
func fixtureRequest(t *testing.T, name string) (msg []byte, ifindex map[string]int) {
	t.Helper()
	f, err := fixture.Load(filepath.Join("..", "..", "testdata", "tc", name+".fixture"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.Request()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fixture.ZeroSeqPID(m.Raw), f.Ifindex
}

// TestExplain: explain prints the plan attach or detach would carry out
// now, read from the live state: its tc messages are, byte for byte, what
// tc sent in the golden fixtures, and explain changes nothing (it sends
// only requests that read).
func TestExplain(t *testing.T) {
	ns := vethNS(t)
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
	for _, tc := range []struct {
		what     string
		before   []string // tcwire commands run first
		fixtures []string // "": a message no tc fixture holds
	}{
		// tap0 exists and is down: attach brings it up, then wires.
		{"attach", nil, []string{"", "qdisc-add-ingress", "filter-add-redirect", "qdisc-add-ingress-tap", "filter-add-redirect-tap"}},
		// Once wired, detach deletes both ingress qdiscs (with their
		// filters) and leaves tap0, which tcwire did not create.
		{"detach", []string{"attach", "eth0", "tap0"}, []string{"qdisc-del-ingress", ""}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			if tc.before != nil {
				mustTcwire(t, append([]string{"--netns", ns.Name}, tc.before...)...)
			}
			before := snapshot(t, ns)
			r := mustTcwire(t, "--netns", ns.Name, "explain", tc.what, "eth0", "tap0")
			msgs := explainMessages(t, r.stdout)
			if len(msgs) != len(tc.fixtures) {
				t.Fatalf("explain %s: %d messages, want %d:\n%s", tc.what, len(msgs), len(tc.fixtures), r.stdout)
			}
			for i, name := range tc.fixtures {
				if name == "" {
					continue
				}
				want, ifindex := fixtureRequest(t, name)
				for dev, idx := range ifindex {
					if dev == "peer0" || dev == "eth0" || dev == "tap0" {
						if got := ns.Ifindex(dev); got != idx {
							t.Fatalf("%s has ifindex %d here, %d in %s", dev, got, idx, name)
						}
					}
				}
				if !bytes.Equal(msgs[i], want) {
					t.Errorf("explain %s message %d differs from %s:\n got % x\nwant % x", tc.what, i+1, name, msgs[i], want)
				}
			}
			// --json: the same steps, each message in hex.
			var plan struct {
				Op    string `json:"op"`
				Steps []struct {
					Cmd     string `json:"cmd"`
					Message string `json:"message"`
				} `json:"steps"`
			}
			js := mustTcwire(t, "--netns", ns.Name, "--json", "explain", tc.what, "eth0", "tap0").stdout
			if err := json.Unmarshal([]byte(js), &plan); err != nil || plan.Op != tc.what || len(plan.Steps) != len(msgs) {
				t.Fatalf("--json explain %s: %v\n%s", tc.what, err, js)
			}
			for i, st := range plan.Steps {
				if b, err := hex.DecodeString(st.Message); err != nil || !bytes.Equal(b, msgs[i]) || !strings.Contains(r.stdout, st.Cmd) {
					t.Errorf("--json explain %s step %d (%s) differs from the text's", tc.what, i+1, st.Cmd)
				}
			}
			sameState(t, "explain "+tc.what, before, snapshot(t, ns))
			onlyReads(t, "--netns", ns.Name, "explain", tc.what, "eth0", "tap0")
		})
	}
}

// onlyReads runs tcwire under strace and fails t if it sends a netlink
// request that is not a GET (RTM_GETLINK, RTM_GETQDISC, RTM_GETTFILTER,
// RTM_GETADDR).
func onlyReads(t *testing.T, args ...string) {
	t.Helper()
	nstest.RequireTool(t, "strace")
	trace := filepath.Join(t.TempDir(), "strace.out")
	r := execute(t, append([]string{"strace", "-f", "-qq", "-o", trace, "-e", "trace=sendmsg,sendto,sendmmsg,write", tcwireBin}, args...)...)
	if r.code != 0 {
		t.Fatalf("strace tcwire %s: %s", strings.Join(args, " "), r)
	}
	out, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]bool{"0x12": true, "0x16": true, "0x26": true, "0x2e": true,
		"RTM_GETLINK": true, "RTM_GETADDR": true, "RTM_GETQDISC": true, "RTM_GETTFILTER": true}
	typeRE := regexp.MustCompile(`nlmsg_type=([0-9a-zA-Z_]+)`)
	sent := 0
	for _, line := range strings.Split(string(out), "\n") {
		for _, m := range typeRE.FindAllStringSubmatch(line, -1) {
			sent++
			if !reads[m[1]] {
				t.Errorf("tcwire %s sent a request that changes something (nlmsg_type %s): %s", strings.Join(args, " "), m[1], line)
			}
		}
	}
	if sent == 0 || !strings.Contains(string(out), "write(1") {
		t.Errorf("the trace saw no request or no output; trace:\n%s", out)
	}
}

// TestExplainMissingDevices: explain says what attach would do where the
// tap does not exist yet (create it, with an ifindex the kernel will
// choose), and fails as attach would when DEV does not exist.
func TestExplainMissingDevices(t *testing.T) {
	ns := vethNS(t)
	r := mustTcwire(t, "--netns", ns.Name, "explain", "attach", "eth0", "tap0")
	if !strings.Contains(r.stdout, "# tap0 does not exist: Attach creates it; its requests show ifindex 2147483647") {
		t.Errorf("explain with the tap missing:\n%s", r.stdout)
	}
	// Create (ioctls), mark, MTU, addrgenmode none, up, noqueue, persist,
	// then the four tc messages.
	if msgs := explainMessages(t, r.stdout); len(msgs) != 11 {
		t.Errorf("%d steps, want 11:\n%s", len(msgs), r.stdout)
	}
	if !strings.Contains(r.stdout, "ip tuntap add dev tap0 mode tap vnet_hdr user 0") {
		t.Errorf("explain does not say how the tap is made:\n%s", r.stdout)
	}
	empty := nstest.New(t)
	r = runTcwire(t, "--netns", empty.Name, "explain", "attach", "eth0", "tap0")
	if r.code != 1 || !strings.Contains(r.stderr, "eth0: no such device") {
		t.Errorf("explain with DEV missing: %s", r)
	}
}

// errorCase is a command line tcwire must refuse, run by TestErrors in a
// namespace holding eth0/peer0 and a tap tap9 that tcwire did not make.
// Unless it names a namespace itself, --netns NS is put in front of args.
// FuzzCommandLine is seeded with the same command lines.
type errorCase struct {
	args []string
	code int
	want []string // in stderr: the culprit, and what is wrong with it
}

var errorCases = []errorCase{
	// Commands and flags.
	{[]string{}, 2, []string{"no command", "usage:"}},
	{[]string{"frob"}, 2, []string{`"frob"`, "usage:"}},
	{[]string{"ATTACH", "eth0", "tap0"}, 2, []string{`"ATTACH"`}},
	{[]string{"--frob", "show"}, 2, []string{"frob"}},
	{[]string{"--json=maybe", "show"}, 2, []string{"maybe", "json"}},
	{[]string{"--netns"}, 2, []string{"netns", "needs an argument"}},
	{[]string{"attach", "eth0", "tap0", "--frob"}, 2, []string{"frob", "attach DEV TAP"}},
	{[]string{"attach", "eth0", "tap0", "--queues"}, 2, []string{"queues", "needs an argument"}},
	{[]string{"attach", "eth0", "tap0", "--mac", "02:00:00:00:00:01"}, 2, []string{"mac"}},
	{[]string{"attach", "eth0", "tap0", "-\x01"}, 2, []string{`\x01`}},
	{[]string{"detach", "eth0", "tap0", "--owner", "1"}, 2, []string{"owner"}},
	{[]string{"show", "--queues", "1"}, 2, []string{"queues"}},
	{[]string{"tap", "del", "tap9", "--mac", "02:00:00:00:00:01"}, 2, []string{"mac"}},
	// Arguments missing or extra.
	{[]string{"attach"}, 2, []string{"missing arguments", "attach DEV TAP"}},
	{[]string{"attach", "eth0"}, 2, []string{"missing arguments"}},
	{[]string{"attach", "eth0", "tap0", "extra"}, 2, []string{`"extra"`}},
	{[]string{"detach", "eth0"}, 2, []string{"missing arguments"}},
	{[]string{"detach", "eth0", "tap0", "--queues", "2"}, 2, []string{"queues"}},
	// Device names: empty, too long, what the kernel refuses.
	{[]string{"attach", "", "tap0"}, 2, []string{"empty device name"}},
	{[]string{"attach", "eth0", ""}, 2, []string{"empty device name"}},
	{[]string{"detach", "", "tap0"}, 2, []string{"empty device name"}},
	{[]string{"show", ""}, 2, []string{"empty device name"}},
	{[]string{"attach", "eth0", "averyveryverylongname"}, 2, []string{"averyveryverylongname", "15"}},
	{[]string{"attach", "eth0", "abcdefghijklmnop"}, 2, []string{"abcdefghijklmnop", "15"}}, // 16 bytes
	{[]string{"attach", "eth0", "a/b"}, 2, []string{"a/b"}},
	{[]string{"attach", "eth0", "tap:0"}, 2, []string{"tap:0"}},
	{[]string{"attach", "eth0", ".."}, 2, []string{`".."`}},
	{[]string{"attach", "eth0", "tap 0"}, 2, []string{`"tap 0"`}},
	{[]string{"attach", "eth0", "tap\v0"}, 2, []string{`"tap\v0"`}},
	{[]string{"attach", "eth0", "tap\u00a0"}, 2, []string{`"tap\u00a0"`}}, // 0xa0 is a space to the kernel
	{[]string{"detach", "eth0", "a/b"}, 2, []string{"a/b"}},
	// Devices that do not exist, or are not what they should be.
	{[]string{"attach", "nosuch0", "tap0"}, 1, []string{"nosuch0"}},
	{[]string{"attach", "eth0", "peer0"}, 1, []string{"peer0", "not a tap"}},
	{[]string{"attach", "eth0", "eth0"}, 2, []string{"both eth0", "wired to itself"}},
	{[]string{"show", "nosuch0"}, 1, []string{"nosuch0"}},
	{[]string{"ifup", "tap7"}, 1, []string{"eth7"}},
	// Numbers: queues, uid, gid.
	{[]string{"attach", "eth0", "tap0", "--queues", "0"}, 2, []string{"--queues 0"}},
	{[]string{"attach", "eth0", "tap0", "--queues", "257"}, 2, []string{"--queues 257"}},
	{[]string{"attach", "eth0", "tap0", "--queues", "-1"}, 2, []string{"--queues -1"}},
	{[]string{"attach", "eth0", "tap0", "--queues", "four"}, 2, []string{"queues", "four"}},
	{[]string{"attach", "eth0", "tap0", "--queues", "1.5"}, 2, []string{"queues", "1.5"}},
	{[]string{"attach", "eth0", "tap0", "--queues", "99999999999999999999"}, 2, []string{"queues", "99999999999999999999"}},
	{[]string{"attach", "eth0", "tap0", "--owner", "-2"}, 2, []string{"--owner -2"}},
	{[]string{"attach", "eth0", "tap0", "--owner", "root"}, 2, []string{"owner", "root"}},
	{[]string{"attach", "eth0", "tap0", "--owner", "4294967295"}, 2, []string{"--owner 4294967295"}},
	{[]string{"attach", "eth0", "tap0", "--owner", "4294967296"}, 2, []string{"--owner 4294967296"}},
	{[]string{"attach", "eth0", "tap0", "--owner", ""}, 2, []string{"owner"}},
	{[]string{"attach", "eth0", "tap0", "--group", "-7"}, 2, []string{"--group -7"}},
	{[]string{"attach", "eth0", "tap0", "--group", "wheel"}, 2, []string{"group", "wheel"}},
	{[]string{"attach", "eth0", "tap0", "--group", "8589934592"}, 2, []string{"--group 8589934592"}},
	{[]string{"attach", "eth0", "tap0", "--tap-qdisc", "fq"}, 2, []string{"--tap-qdisc", "fq"}},
	{[]string{"attach", "eth0", "tap0", "--dev-addrgenmode", "eui64"}, 2, []string{"dev-addrgenmode", "eui64", "want none"}},
	{[]string{"attach", "eth0", "tap0", "--tap-addrgenmode", ""}, 2, []string{"tap-addrgenmode", `""`}},
	{[]string{"attach", "eth0", "tap9", "--dev-addrgenmode", "none"}, 1, []string{"tap9", "not made by tcwire"}},
	{[]string{"attach", "eth0", "tap9", "--queues", "2"}, 1, []string{"tap9", "queues 2"}},
	// tap add and del.
	{[]string{"tap"}, 2, []string{"add or del"}},
	{[]string{"tap", "frob"}, 2, []string{`"frob"`}},
	{[]string{"tap", "list"}, 2, []string{`"list"`}},
	{[]string{"tap", "add"}, 2, []string{"missing arguments"}},
	{[]string{"tap", "add", ""}, 2, []string{"empty device name"}},
	{[]string{"tap", "add", "tapx", "--mtu", "10"}, 2, []string{"--mtu 10"}},
	{[]string{"tap", "add", "tapx", "--mtu", "67"}, 2, []string{"--mtu 67"}},
	{[]string{"tap", "add", "tapx", "--mtu", "65522"}, 2, []string{"--mtu 65522"}},
	{[]string{"tap", "add", "tapx", "--mtu", "70000"}, 2, []string{"--mtu 70000"}},
	{[]string{"tap", "add", "tapx", "--mtu", "-1"}, 2, []string{"mtu", "-1"}},
	{[]string{"tap", "add", "tapx", "--mtu", "abc"}, 2, []string{"mtu", "abc"}},
	{[]string{"tap", "add", "tapx", "--mtu", "99999999999999999999"}, 2, []string{"mtu", "99999999999999999999"}},
	{[]string{"tap", "add", "tapx", "--mac", "nope"}, 2, []string{"--mac", "nope"}},
	{[]string{"tap", "add", "tapx", "--mac", ""}, 2, []string{"--mac", `""`}},
	{[]string{"tap", "add", "tapx", "--mac", "02:11:22:33:44"}, 2, []string{"--mac", "02:11:22:33:44"}},
	{[]string{"tap", "add", "tapx", "--mac", "02:11:22:33:44:55:66:77"}, 2, []string{"--mac", "02:11:22:33:44:55:66:77"}},
	{[]string{"tap", "add", "tapx", "--mac", "02:11:22:33:44:gg"}, 2, []string{"--mac", "02:11:22:33:44:gg"}},
	{[]string{"tap", "add", "tapx", "--mac", "01:00:5e:00:00:01"}, 2, []string{"multicast"}},
	{[]string{"tap", "add", "tapx", "--mac", "ff:ff:ff:ff:ff:ff"}, 2, []string{"ff:ff:ff:ff:ff:ff", "multicast"}},
	{[]string{"tap", "add", "tapx", "--mac", "00:00:00:00:00:00"}, 2, []string{"00:00:00:00:00:00", "all-zero"}},
	{[]string{"tap", "add", "tapx", "--queues", "300"}, 2, []string{"--queues 300"}},
	{[]string{"tap", "add", "tapx", "--owner", "4294967296"}, 2, []string{"--owner 4294967296"}},
	{[]string{"tap", "add", "averyveryverylongname"}, 2, []string{"averyveryverylongname"}},
	{[]string{"tap", "add", "tap9"}, 1, []string{"tap9", "exists"}},
	{[]string{"tap", "add", "eth0"}, 1, []string{"eth0"}},
	{[]string{"tap", "del"}, 2, []string{"missing arguments"}},
	{[]string{"tap", "del", ""}, 2, []string{"empty device name"}},
	{[]string{"tap", "del", "nosuch0"}, 1, []string{"nosuch0"}},
	{[]string{"tap", "del", "eth0"}, 1, []string{"eth0"}},
	// ifup and explain.
	{[]string{"ifup", "foo"}, 2, []string{`"foo"`, "tapN"}},
	{[]string{"ifup", "tap"}, 2, []string{`"tap"`, "tapN"}},
	{[]string{"ifup", "tap65536"}, 2, []string{`"tap65536"`}},
	{[]string{"ifup"}, 2, []string{"missing arguments"}},
	{[]string{"explain"}, 2, []string{"which command"}},
	{[]string{"explain", "show"}, 2, []string{`"show"`}},
	{[]string{"explain", "attach", "eth0"}, 2, []string{"missing arguments"}},
	{[]string{"explain", "attach", "eth0", ""}, 2, []string{"empty device name"}},
	// Modes: unknown, or with an option they do not take (both named);
	// devices that do not fit the mode.
	{[]string{"attach", "eth0", "tap0", "--mode", "vxlan"}, 2, []string{"--mode", `"vxlan"`}},
	{[]string{"attach", "eth0", "tap0", "--mode", ""}, 2, []string{"--mode", `""`}},
	{[]string{"attach", "eth0", "mv0", "--mode", "macvtap", "--queues", "4"}, 2, []string{"--mode macvtap", "--queues 4"}},
	{[]string{"attach", "eth0", "mv0", "--mode", "macvtap", "--mtu", "9000"}, 2, []string{"--mode macvtap", "--mtu 9000"}},
	{[]string{"attach", "eth0", "mv0", "--mode", "macvtap", "--no-vnet-hdr"}, 2, []string{"--mode macvtap", "--no-vnet-hdr"}},
	{[]string{"attach", "eth0", "mv0", "--mode", "macvtap", "--tap-qdisc", "keep"}, 2, []string{"--mode macvtap", "--tap-qdisc keep"}},
	{[]string{"attach", "eth0", "mv0", "--mode", "macvtap", "--mirror"}, 2, []string{"--mode macvtap", "--mirror"}},
	{[]string{"attach", "eth0", "vm0", "--mirror", "--mode", "bridge"}, 2, []string{"--mode bridge", "--mirror"}},
	{[]string{"detach", "eth0", "tap0", "--mirror"}, 2, []string{"mirror", "detach DEV TAP"}},
	{[]string{"detach", "eth0", "mv0", "--mode", "macvlan"}, 2, []string{"--mode", `"macvlan"`}},
	{[]string{"explain", "attach", "eth0", "vm0", "--mode", "bridge", "--mirror"}, 2, []string{"--mode bridge", "--mirror"}},
	{[]string{"explain", "detach", "eth0", "vm0", "--mode", "tap"}, 2, []string{"--mode", `"tap"`}},
	{[]string{"attach", "eth0", "mv%d", "--mode", "macvtap"}, 2, []string{"--mode macvtap", "TAP mv%d"}},
	{[]string{"attach", "eth0", "tap9", "--mode", "macvtap"}, 1, []string{"tap9", "not a macvtap"}},
	{[]string{"detach", "eth0", "tap9", "--mode", "macvtap"}, 1, []string{"tap9", "not a macvtap"}},
	{[]string{"attach", "eth0", "peer0", "--mode", "macvtap"}, 1, []string{"peer0", "not a macvtap"}},
	{[]string{"attach", "eth0", "peer0", "--mode", "bridge"}, 1, []string{"peer0", "not a tap"}},
	{[]string{"attach", "nosuch0", "mv0", "--mode", "macvtap"}, 1, []string{"nosuch0"}},
	{[]string{"attach", "nosuch0", "vm0", "--mode", "bridge"}, 1, []string{"nosuch0"}},
	{[]string{"attach", "nosuch0", "tap0", "--mirror"}, 1, []string{"nosuch0"}},
	{[]string{"attach", "eth0", "eth0", "--mode", "bridge"}, 2, []string{"both eth0", "wired to itself"}},
	{[]string{"detach", "nosuch0", "nosuch1", "--mode", "bridge"}, 1, []string{"nosuch0", "nosuch1"}},
	{[]string{"detach", "nosuch0", "nosuch1", "--mode", "macvtap"}, 1, []string{"nosuch0", "nosuch1"}},
	// Namespaces: missing, not a namespace, not a network namespace, or
	// no name at all (which must not mean the caller's namespace).
	{[]string{"--netns", "tcwire-no-such-ns", "attach", "eth0", "tap0"}, 1, []string{"tcwire-no-such-ns"}},
	{[]string{"--netns", "tcwire-no-such-ns", "show"}, 1, []string{"tcwire-no-such-ns"}},
	{[]string{"--netns", "tcwire-no-such-ns", "tap", "add", "tapx"}, 1, []string{"tcwire-no-such-ns"}},
	{[]string{"--netns", "tcwire-no-such-ns", "tap", "del", "tapx"}, 1, []string{"tcwire-no-such-ns"}},
	{[]string{"--netns", "tcwire-no-such-ns", "explain", "attach", "eth0", "tap0"}, 1, []string{"tcwire-no-such-ns"}},
	{[]string{"--netns", "/proc/self/status", "show"}, 1, []string{"/proc/self/status"}},
	{[]string{"--netns", "/proc/self/ns/mnt", "show"}, 1, []string{"/proc/self/ns/mnt", "not a network namespace"}},
	{[]string{"--netns", "/tmp", "attach", "tcwire-nodev0", "tcwire-notap0"}, 1, []string{"/tmp", "not a network namespace"}},
	{[]string{"--netns", "/nonexistent/tcwire/ns", "detach", "tcwire-nodev0", "tcwire-notap0"}, 1, []string{"/nonexistent/tcwire/ns"}},
	{[]string{"--netns", "", "attach", "tcwire-nodev0", "tcwire-notap0"}, 2, []string{"netns", "empty network namespace"}},
	{[]string{"--netns", "..", "show"}, 2, []string{"netns", `".."`}},
	{[]string{"attach", "tcwire-nodev0", "tcwire-notap0", "--netns", ""}, 2, []string{"netns", "empty network namespace"}},
}

// TestErrors: every bad command line or failing operation exits with the
// documented status, names the culprit, and changes nothing: the
// namespace's whole state (every link, qdisc and ingress filter, dumped by
// iproute2) is the same after each case as before the first.
func TestErrors(t *testing.T) {
	ns := vethNS(t)
	ns.Run("ip", "tuntap", "add", "tap9", "mode", "tap", "vnet_hdr", "user", "0")
	before := snapshot(t, ns)
	for _, tc := range errorCases {
		args := tc.args
		if !slices.Contains(args, "--netns") {
			args = append([]string{"--netns", ns.Name}, args...)
		}
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runTcwire(t, args...)
			if r.code != tc.code {
				t.Errorf("%s\nwant exit %d", r, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if n := strings.Count(r.stderr, "tcwire: "); n != 1 {
				t.Errorf("stderr has %d error lines, want 1:\n%s", n, r.stderr)
			}
			if tc.code == 2 && !strings.Contains(r.stderr, "\nusage: ") {
				t.Errorf("a usage error without the usage:\n%s", r.stderr)
			}
			sameState(t, "a failing command", before, snapshot(t, ns))
		})
	}
}

// commandHelp are ways to ask a command for its usage, and what the usage
// shows.
var commandHelp = []struct{ args, want string }{
	{"attach -h", "attach DEV TAP"},
	{"attach eth0 tap0 --help", "attach DEV TAP"},
	{"detach -h", "detach DEV TAP"},
	{"show --help", "show [--modes] [DEV...]"},
	{"tap -h", "tap add NAME"},
	{"tap add -h", "tap add NAME"},
	{"tap del -h", "tap del NAME"},
	{"ifup -h", "ifup TAP"},
	{"explain -h", "explain attach|detach"},
	{"explain attach -h", "explain attach|detach"},
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := runTcwire(t, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: tcwire") || r.stderr != "" {
			t.Errorf("tcwire %s: %s", args[0], r)
		}
		for _, cmd := range []string{"attach", "detach", "show", "tap add", "tap del", "ifup", "explain"} {
			if !strings.Contains(r.stdout, "\n  "+cmd+" ") {
				t.Errorf("tcwire %s does not list %q:\n%s", args[0], cmd, r.stdout)
			}
		}
	}
	// Each command's -h prints its own usage, exit 0, and does nothing.
	for _, tc := range commandHelp {
		r := runTcwire(t, strings.Fields(tc.args)...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "usage: tcwire") || !strings.Contains(r.stdout, tc.want) || r.stderr != "" {
			t.Errorf("tcwire %s: %s\nwant exit 0 and a usage with %q", tc.args, r, tc.want)
		}
	}
}

// nobody runs the binary (bin) with no capabilities at all, as uid/gid
// 65534.
func nobody(t *testing.T, ns *nstest.NS, bin string, args ...string) result {
	t.Helper()
	argv := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", bin}
	if ns != nil {
		argv = append([]string{"ip", "netns", "exec", ns.Name}, argv...)
	}
	return execute(t, append(argv, args...)...)
}

// TestWithoutCapNetAdmin runs every command as a user with no capability,
// inside the namespace and with --netns: what changes something fails
// with exit 1 and says CAP_NET_ADMIN is needed (and CAP_SYS_ADMIN for
// --netns), and changes nothing; what only reads works inside the
// namespace.
func TestWithoutCapNetAdmin(t *testing.T) {
	nstest.RequireTool(t, "setpriv")
	ns := vethNS(t)
	wired := vethNS(t)
	// With an owner and group, so that only CAP_NET_ADMIN opens the tap:
	// the kernel lets anyone attach to a persistent tap that has neither.
	mustTcwire(t, "--netns", wired.Name, "attach", "eth0", "tap0", "--owner", "1234", "--group", "5678")
	explained := mustTcwire(t, "--netns", wired.Name, "explain", "attach", "eth0", "tap0").stdout
	for _, tc := range []struct {
		name string
		ns   *nstest.NS // run inside it; nil: pass --netns
		in   *nstest.NS
		bin  string // tcwireBin unless set
		args []string
		ok   bool     // exit 0, else exit 1
		want []string // in stderr when it fails; CAP_NET_ADMIN unless set
	}{
		{name: "attach in the namespace", ns: ns, in: ns, args: []string{"attach", "eth0", "tap0"}},
		{name: "attach --json in the namespace", ns: ns, in: ns, args: []string{"--json", "attach", "eth0", "tap0", "--queues", "2"}},
		{name: "attach --netns", in: ns, args: []string{"--netns", ns.Name, "attach", "eth0", "tap0"}, want: []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}},
		// Nothing to change, and reading needs no privilege.
		{name: "attach of a wired pair", ns: wired, in: wired, args: []string{"attach", "eth0", "tap0"}, ok: true},
		{name: "detach in the namespace", ns: wired, in: wired, args: []string{"detach", "eth0", "tap0"}},
		{name: "detach --netns", in: wired, args: []string{"--netns", wired.Name, "detach", "eth0", "tap0"}, want: []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}},
		{name: "tap add", ns: ns, in: ns, args: []string{"tap", "add", "tapx"}},
		{name: "tap add --netns", in: ns, args: []string{"--netns", ns.Name, "tap", "add", "tapx"}, want: []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}},
		{name: "tap del", ns: wired, in: wired, args: []string{"tap", "del", "tap0"}},
		{name: "tap del --netns", in: wired, args: []string{"--netns", wired.Name, "tap", "del", "tap0"}, want: []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}},
		{name: "ifup --netns", in: ns, args: []string{"--netns", ns.Name, "ifup", "tap0"}, want: []string{"CAP_NET_ADMIN", "CAP_SYS_ADMIN"}},
		{name: "tcwire-ifup in the namespace", ns: ns, in: ns, bin: tcwireIfup, args: []string{"tap0"}},
		{name: "show --netns", in: wired, args: []string{"--netns", wired.Name, "show"}, want: []string{"CAP_SYS_ADMIN"}},
		{name: "explain --netns", in: wired, args: []string{"--netns", wired.Name, "explain", "attach", "eth0", "tap0"}, want: []string{"CAP_SYS_ADMIN"}},
		// Reading needs no privilege.
		{name: "show in the namespace", ns: wired, in: wired, args: []string{"show"}, ok: true},
		{name: "explain in the namespace", ns: wired, in: wired, args: []string{"explain", "attach", "eth0", "tap0"}, ok: true},
		{name: "help", args: []string{"--help"}, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin, code, want := tc.bin, 1, tc.want
			if bin == "" {
				bin = tcwireBin
			}
			switch {
			case tc.ok:
				code, want = 0, nil
			case want == nil:
				want = []string{"CAP_NET_ADMIN"}
			}
			var before string
			if tc.in != nil {
				before = snapshot(t, tc.in)
			}
			r := nobody(t, tc.ns, bin, tc.args...)
			if r.code != code {
				t.Errorf("%s\nwant exit %d", r, code)
			}
			for _, w := range want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %s:\n%s", w, r)
				}
			}
			switch tc.name {
			case "show in the namespace":
				if !strings.Contains(r.stdout, "tap0") {
					t.Errorf("unprivileged show: %s", r)
				}
			case "explain in the namespace":
				if r.stdout != explained {
					t.Errorf("unprivileged explain differs from root's:\n%s\n--- root's\n%s", r.stdout, explained)
				}
			}
			if tc.in != nil {
				sameState(t, "an unprivileged "+tc.name, before, snapshot(t, tc.in))
			}
		})
	}
}

// sendFrames sends n broadcast frames (ethertype 0x88b5, local
// experimental) out of dev in ns, with an AF_PACKET socket.
func sendFrames(t *testing.T, ns *nstest.NS, dev string, n int) {
	t.Helper()
	err := netns.Do(ns.Path(), func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		frame := make([]byte, 60)
		copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		copy(frame[6:], ifi.HardwareAddr)
		binary.BigEndian.PutUint16(frame[12:], 0x88b5)
		copy(frame[14:], "tcwire e2e")
		sa := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Protocol: 0xb588, Halen: 6}
		copy(sa.Addr[:], frame[:6])
		for i := 0; i < n; i++ {
			if err := unix.Sendto(fd, frame, 0, sa); err != nil {
				return fmt.Errorf("sendto %s: %w", dev, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("[netns %s] send frames: %v", ns.Name, err)
	}
}
