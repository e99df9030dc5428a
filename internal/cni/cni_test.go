package cni

// Unit tests of CNI plugin mode that need no kernel: the JSON of every spec
// version, CNI_ARGS, error objects and codes.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/nl"
)

const (
	testNetNS = "/run/netns/ctr"
	testCID   = "ctr1"
	vethMAC   = "0a:58:0a:63:00:02"
	tapMAC    = "6e:06:bd:3f:be:dd"
)

func sameTestNS(s string) bool { return s == testNetNS }

// jsonEqual compares two JSON documents as values.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		var wi bytes.Buffer
		json.Indent(&wi, []byte(want), "", "  ")
		gi, _ := json.MarshalIndent(g, "", "  ")
		t.Errorf("got\n%s\nwant\n%s", gi, wi.String())
	}
}

// prevFor is ptp's result for version v: the host veth, the container's
// eth0, an IPv4 and an IPv6 address on eth0, routes and dns.
func prevFor(v string) string {
	ver4, ver6 := "", ""
	if !strings.HasPrefix(v, "1.") {
		ver4, ver6 = `"version":"4",`, `"version":"6",`
	}
	mtu, routeExtra := "", ""
	if v == "1.1.0" {
		mtu, routeExtra = `"mtu":1500,`, `,"mtu":1400,"table":100`
	}
	return fmt.Sprintf(`{"cniVersion":%q,
		"interfaces":[{"name":"veth1234","mac":"4a:cb:bf:24:8b:61"},{"name":"eth0",%s"mac":%q,"sandbox":%q}],
		"ips":[{%s"interface":1,"address":"10.99.0.2/24","gateway":"10.99.0.1"},{%s"interface":1,"address":"fd00::2/64"}],
		"routes":[{"dst":"0.0.0.0/0","gw":"10.99.0.1"%s}],
		"dns":{"nameservers":["10.99.0.1"]}}`, v, mtu, vethMAC, testNetNS, ver4, ver6, routeExtra)
}

// wantFor is tcwire's ADD result for version v on prevFor(v).
func wantFor(v string) string {
	ver4, ver6 := "", ""
	if !strings.HasPrefix(v, "1.") {
		ver4, ver6 = `"version":"4",`, `"version":"6",`
	}
	mtu, routeExtra, tapMTU := "", "", ""
	if v == "1.1.0" {
		mtu, routeExtra, tapMTU = `"mtu":1500,`, `,"mtu":1400,"table":100`, `"mtu":1500,`
	}
	return fmt.Sprintf(`{"cniVersion":%q,
		"interfaces":[
			{"name":"veth1234","mac":"4a:cb:bf:24:8b:61"},
			{"name":"eth0",%s"mac":%q,"sandbox":%q},
			{"name":"tap0",%s"mac":%q,"sandbox":%q},
			{"name":"tap0",%s"mac":%q,"sandbox":%q}],
		"ips":[
			{%s"interface":1,"address":"10.99.0.2/24","gateway":"10.99.0.1"},
			{%s"interface":1,"address":"fd00::2/64"},
			{%s"interface":3,"address":"10.99.0.2/24","gateway":"10.99.0.1"},
			{%s"interface":3,"address":"fd00::2/64"}],
		"routes":[{"dst":"0.0.0.0/0","gw":"10.99.0.1"%s}],
		"dns":{"nameservers":["10.99.0.1"]}}`, v,
		mtu, vethMAC, testNetNS,
		tapMTU, tapMAC, testNetNS,
		tapMTU, vethMAC, testCID,
		ver4, ver6, ver4, ver6, routeExtra)
}

func netconf(v, extra, prev string) []byte {
	s := fmt.Sprintf(`{"cniVersion":%q,"name":"net","type":"tcwire"%s`, v, extra)
	if prev != "" {
		s += `,"prevResult":` + prev
	}
	return []byte(s + "}")
}

func testAdd(vethIndex int) cniAdd {
	return cniAdd{ContainerID: testCID, NetNS: testNetNS, VethIndex: vethIndex, VethMAC: vethMAC, TapName: "tap0", TapMAC: tapMAC, TapMTU: 1500}
}

// TestCNIResultEveryVersion parses a netconf with ptp's prevResult in each
// spec version, finds the veth, builds the ADD result, and compares it with
// the version's shape; a second ADD on the first's output (a repeated ADD)
// gives the same result.
func TestCNIResultEveryVersion(t *testing.T) {
	for _, v := range cniSupportedVersions {
		t.Run(v, func(t *testing.T) {
			conf, cerr := parseNetConf(netconf(v, "", prevFor(v)))
			if cerr != nil {
				t.Fatal(cerr)
			}
			idx, name := findVeth(conf.PrevResult, sameTestNS, "eth0", "tap0")
			if idx != 1 || name != "eth0" {
				t.Fatalf("findVeth = %d, %q; want 1, eth0", idx, name)
			}
			r := buildResult(conf.PrevResult, conf.CNIVersion, testAdd(idx), sameTestNS)
			out, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			jsonEqual(t, out, wantFor(v))

			// A repeated ADD: the runtime's prevResult may already hold
			// what tcwire added.
			again, cerr := parseResult(out, "")
			if cerr != nil {
				t.Fatal(cerr)
			}
			out2, _ := json.Marshal(buildResult(again, v, testAdd(idx), sameTestNS))
			jsonEqual(t, out2, wantFor(v))
		})
	}
}

// TestCNIResultVersionConversion: a prevResult in another version than the
// netconf's is answered in the netconf's, with "version" on ips only for
// 0.x.
func TestCNIResultVersionConversion(t *testing.T) {
	for _, tc := range []struct{ conf, prev string }{
		{"1.0.0", "0.4.0"}, {"0.4.0", "1.0.0"}, {"0.3.1", "1.1.0"}, {"1.1.0", "0.3.0"},
	} {
		t.Run(tc.prev+"->"+tc.conf, func(t *testing.T) {
			conf, cerr := parseNetConf(netconf(tc.conf, "", prevFor(tc.prev)))
			if cerr != nil {
				t.Fatal(cerr)
			}
			out, _ := json.Marshal(buildResult(conf.PrevResult, conf.CNIVersion, testAdd(1), sameTestNS))
			var r struct {
				CNIVersion string           `json:"cniVersion"`
				IPs        []map[string]any `json:"ips"`
			}
			json.Unmarshal(out, &r)
			if r.CNIVersion != tc.conf {
				t.Errorf("cniVersion %q, want %q", r.CNIVersion, tc.conf)
			}
			for i, ip := range r.IPs {
				_, has := ip["version"]
				if want := !strings.HasPrefix(tc.conf, "1."); has != want {
					t.Errorf("ips[%d] %v: has version = %v, want %v", i, ip, has, want)
				}
			}
		})
	}
}

// TestCNIResultCilium: a prevResult whose ips have no interface index still
// gives the VM its addresses.
func TestCNIResultCilium(t *testing.T) {
	prev := `{"cniVersion":"0.4.0",
		"interfaces":[{"name":"eth0","mac":"` + vethMAC + `","sandbox":"` + testNetNS + `"}],
		"ips":[{"version":"4","address":"10.0.1.7/32","gateway":"10.0.1.1"},{"version":"6","address":"f00d::a0f:0:0:7/128"}],
		"routes":[{"dst":"0.0.0.0/0","gw":"10.0.1.1"}]}`
	conf, cerr := parseNetConf(netconf("0.4.0", "", prev))
	if cerr != nil {
		t.Fatal(cerr)
	}
	idx, _ := findVeth(conf.PrevResult, sameTestNS, "eth0", "tap0")
	out, _ := json.Marshal(buildResult(conf.PrevResult, "0.4.0", testAdd(idx), sameTestNS))
	jsonEqual(t, out, `{"cniVersion":"0.4.0",
		"interfaces":[
			{"name":"eth0","mac":"`+vethMAC+`","sandbox":"`+testNetNS+`"},
			{"name":"tap0","mac":"`+tapMAC+`","sandbox":"`+testNetNS+`"},
			{"name":"tap0","mac":"`+vethMAC+`","sandbox":"`+testCID+`"}],
		"ips":[
			{"version":"4","address":"10.0.1.7/32","gateway":"10.0.1.1"},
			{"version":"6","address":"f00d::a0f:0:0:7/128"},
			{"version":"4","interface":2,"address":"10.0.1.7/32","gateway":"10.0.1.1"},
			{"version":"6","interface":2,"address":"f00d::a0f:0:0:7/128"}],
		"routes":[{"dst":"0.0.0.0/0","gw":"10.0.1.1"}]}`)
}

// TestCNIResultVethNotInPrev: when the veth was found in the namespace
// rather than in prevResult, addresses of other interfaces stay theirs.
func TestCNIResultVethNotInPrev(t *testing.T) {
	prev := `{"cniVersion":"1.0.0","interfaces":[{"name":"host0"}],"ips":[{"interface":0,"address":"192.0.2.1/24"}]}`
	conf, cerr := parseNetConf(netconf("1.0.0", "", prev))
	if cerr != nil {
		t.Fatal(cerr)
	}
	if idx, name := findVeth(conf.PrevResult, sameTestNS, "eth0", "tap0"); idx != -1 || name != "" {
		t.Fatalf("findVeth = %d, %q; want none", idx, name)
	}
	out, _ := json.Marshal(buildResult(conf.PrevResult, "1.0.0", testAdd(-1), sameTestNS))
	jsonEqual(t, out, `{"cniVersion":"1.0.0",
		"interfaces":[{"name":"host0"},
			{"name":"tap0","mac":"`+tapMAC+`","sandbox":"`+testNetNS+`"},
			{"name":"tap0","mac":"`+vethMAC+`","sandbox":"`+testCID+`"}],
		"ips":[{"interface":0,"address":"192.0.2.1/24"}]}`)
}

func TestFindVeth(t *testing.T) {
	r := &cniResult{Interfaces: []cniInterface{
		{Name: "veth0"},
		{Name: "tap0", Sandbox: testNetNS},
		{Name: "net1", Sandbox: testNetNS},
		{Name: "eth0", Sandbox: testNetNS},
		{Name: "eth0", Sandbox: "/run/netns/other"},
	}}
	for _, tc := range []struct {
		ifname, tap string
		idx         int
	}{
		{"eth0", "tap0", 3}, // CNI_IFNAME among several
		{"eth9", "tap0", 2}, // the first in the namespace that is not the tap
		{"eth9", "tapx", 1}, // a tap of another name is a candidate
	} {
		if idx, _ := findVeth(r, sameTestNS, tc.ifname, tc.tap); idx != tc.idx {
			t.Errorf("findVeth(ifname %s, tap %s) = %d, want %d", tc.ifname, tc.tap, idx, tc.idx)
		}
	}
	if idx, _ := findVeth(nil, sameTestNS, "eth0", "tap0"); idx != -1 {
		t.Errorf("findVeth(nil) = %d", idx)
	}
}

// TestCNIBadNetConf: every malformed input gives a CNI error with the
// spec's code and a message naming the field.
func TestCNIBadNetConf(t *testing.T) {
	good := prevFor("1.0.0")
	for _, tc := range []struct {
		name string
		in   string
		code uint
		msg  []string
	}{
		{"empty", "", cniErrDecode, []string{"empty"}},
		{"truncated", `{"cniVersion":"1.0.0",`, cniErrDecode, []string{"not valid JSON", "byte"}},
		{"not an object", `[1,2]`, cniErrInvalidConfig, []string{"array"}},
		{"no cniVersion", `{"name":"x"}`, cniErrInvalidConfig, []string{`"cniVersion" is missing`}},
		{"old cniVersion", `{"cniVersion":"0.2.0"}`, cniErrIncompatibleVersion, []string{`"0.2.0"`, "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"}},
		{"cniVersion number", `{"cniVersion":1}`, cniErrInvalidConfig, []string{`"cniVersion"`, "number", "string"}},
		{"tapUID string", string(netconf("1.0.0", `,"tapUID":"1000"`, "")), cniErrInvalidConfig, []string{`"tapUID"`, `"1000"`, "string", "integer"}},
		{"tapGID negative", string(netconf("1.0.0", `,"tapGID":-2`, "")), cniErrInvalidConfig, []string{`"tapGID" is -2`}},
		{"queues float", string(netconf("1.0.0", `,"queues":1.5`, "")), cniErrInvalidConfig, []string{`"queues"`, "1.5"}},
		{"mtu small", string(netconf("1.0.0", `,"mtu":60`, "")), cniErrInvalidConfig, []string{`"mtu" is 60`}},
		{"mode macvtap", string(netconf("1.0.0", `,"mode":"macvtap"`, "")), cniErrInvalidConfig, []string{`"mode" is "macvtap"`, "tc only"}},
		{"mode bridge", string(netconf("1.0.0", `,"mode":"bridge"`, "")), cniErrInvalidConfig, []string{`"mode" is "bridge"`}},
		{"mode empty", string(netconf("1.0.0", `,"mode":""`, "")), cniErrInvalidConfig, []string{`"mode" is ""`}},
		{"mode number", string(netconf("1.0.0", `,"mode":1`, "")), cniErrInvalidConfig, []string{`"mode"`, "number", "string"}},
		{"tapName long", string(netconf("1.0.0", `,"tapName":"a-very-long-tap-name"`, "")), cniErrInvalidConfig, []string{`"tapName"`, "longer than IFNAMSIZ-1 (15)"}},
		{"tapName pattern", string(netconf("1.0.0", `,"tapName":"tap%d"`, "")), cniErrInvalidConfig, []string{`"tapName"`, "fixed name"}},
		{"tapName slash", string(netconf("1.0.0", `,"tapName":"a/b"`, "")), cniErrInvalidConfig, []string{`"tapName"`, "contains '/'"}},
		{"devAddrGenMode eui64", string(netconf("1.0.0", `,"devAddrGenMode":"eui64"`, "")), cniErrInvalidConfig, []string{`"devAddrGenMode"`, `"eui64"`}},
		{"devAddrGenMode number", string(netconf("1.0.0", `,"devAddrGenMode":1`, "")), cniErrInvalidConfig, []string{`"devAddrGenMode"`}},
		{"prevResult array", string(netconf("1.0.0", "", `[]`)), cniErrInvalidConfig, []string{`"prevResult"`, "array", "object"}},
		{"ips.interface string", string(netconf("1.0.0", "", `{"interfaces":[{"name":"eth0"}],"ips":[{"interface":"0","address":"10.0.0.1/24"}]}`)), cniErrInvalidConfig, []string{`"prevResult.ips.interface"`, `"0"`}},
		{"ips.interface range", string(netconf("1.0.0", "", `{"interfaces":[{"name":"eth0"}],"ips":[{"interface":1,"address":"10.0.0.1/24"}]}`)), cniErrInvalidConfig, []string{"prevResult.ips[0].interface", "1 entries"}},
		{"ips.address", string(netconf("1.0.0", "", `{"ips":[{"address":"10.0.0.1"}]}`)), cniErrInvalidConfig, []string{"prevResult.ips[0].address", "CIDR"}},
		{"ips.gateway", string(netconf("1.0.0", "", `{"ips":[{"address":"10.0.0.1/8","gateway":"x"}]}`)), cniErrInvalidConfig, []string{"prevResult.ips[0].gateway"}},
		{"ips.version", string(netconf("0.4.0", "", `{"ips":[{"version":"6","address":"10.0.0.1/8"}]}`)), cniErrInvalidConfig, []string{"prevResult.ips[0].version", "IPv4"}},
		{"interfaces.mac", string(netconf("1.0.0", "", `{"interfaces":[{"name":"eth0","mac":"zz"}]}`)), cniErrInvalidConfig, []string{"prevResult.interfaces[0].mac"}},
		{"interfaces.name", string(netconf("1.0.0", "", `{"interfaces":[{"mac":"02:00:00:00:00:01"}]}`)), cniErrInvalidConfig, []string{"prevResult.interfaces[0]", `"name" is empty`}},
		{"interfaces object", string(netconf("1.0.0", "", `{"interfaces":{"name":"eth0"}}`)), cniErrInvalidConfig, []string{`"prevResult.interfaces"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf, cerr := parseNetConf([]byte(tc.in))
			if cerr == nil {
				_, cerr = resolveKnobs(conf, nil)
			}
			if cerr == nil {
				t.Fatalf("%s: no error", tc.in)
			}
			if cerr.Code != tc.code {
				t.Errorf("code %d, want %d: %s", cerr.Code, tc.code, cerr)
			}
			for _, m := range tc.msg {
				if !strings.Contains(cerr.Msg, m) {
					t.Errorf("msg %q lacks %q", cerr.Msg, m)
				}
			}
		})
	}
	if _, cerr := parseNetConf(netconf("1.0.0", `,"tapName":"vm0","tapUID":1000,"tapGID":100,"queues":4,"mtu":9000,"mode":"tc","ipam":{},"runtimeConfig":{}`, good)); cerr != nil {
		t.Errorf("valid netconf: %v", cerr)
	}
}

func TestCNIKnobs(t *testing.T) {
	conf, cerr := parseNetConf(netconf("1.0.0", `,"tapName":"vm0","tapUID":1000,"queues":2,"mtu":9000,"devAddrGenMode":"none"`, ""))
	if cerr != nil {
		t.Fatal(cerr)
	}
	k, cerr := resolveKnobs(conf, nil)
	if cerr != nil {
		t.Fatal(cerr)
	}
	if want := (tcwire.Options{Tap: "vm0", Queues: 2, Owner: new(1000), MTU: 9000, QuietDev: true}); !reflect.DeepEqual(k, want) {
		t.Errorf("netconf knobs %+v, want %+v", k, want)
	}
	args, cerr := parseCNIArgs("IgnoreUnknown=1;K8S_POD_NAME=p;TC_REDIRECT_TAP_NAME=vm1;TC_REDIRECT_TAP_UID=123;TC_REDIRECT_TAP_GID=456;")
	if cerr != nil {
		t.Fatal(cerr)
	}
	k, cerr = resolveKnobs(conf, args)
	if cerr != nil {
		t.Fatal(cerr)
	}
	if want := (tcwire.Options{Tap: "vm1", Queues: 2, Owner: new(123), Group: new(456), MTU: 9000, QuietDev: true}); !reflect.DeepEqual(k, want) {
		t.Errorf("CNI_ARGS knobs %+v, want %+v (CNI_ARGS wins)", k, want)
	}
	empty, _ := parseNetConf(netconf("1.0.0", "", ""))
	k, _ = resolveKnobs(empty, nil)
	if want := (tcwire.Options{Tap: "tap0"}); !reflect.DeepEqual(k, want) {
		t.Errorf("default knobs %+v, want %+v", k, want)
	}

	for _, bad := range []string{"TC_REDIRECT_TAP_UID=x", "TC_REDIRECT_TAP_GID=-1", "TC_REDIRECT_TAP_UID=4294967295", "TC_REDIRECT_TAP_NAME=tap%d", "TC_REDIRECT_TAP_NAME="} {
		args, cerr := parseCNIArgs(bad)
		if cerr == nil {
			_, cerr = resolveKnobs(empty, args)
		}
		if cerr == nil || cerr.Code != cniErrInvalidEnv || !strings.Contains(cerr.Msg, strings.Split(bad, "=")[0]) {
			t.Errorf("CNI_ARGS %q: %v, want code 4 naming the key", bad, cerr)
		}
	}
	if _, cerr := parseCNIArgs("novalue"); cerr == nil || cerr.Code != cniErrInvalidEnv || !strings.Contains(cerr.Msg, "CNI_ARGS") {
		t.Errorf("CNI_ARGS novalue: %v", cerr)
	}
}

// cniCall runs Main with env and stdin and decodes stdout.
func cniCall(t *testing.T, env map[string]string, stdin string) (int, map[string]any, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(func(k string) string { return env[k] }, strings.NewReader(stdin), &stdout, &stderr)
	var out map[string]any
	if stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
		}
	}
	return code, out, stderr.String()
}

// TestCNIMainNoKernel covers what Main answers before touching the
// kernel: VERSION, bad environments, missing prevResult, DEL without a
// namespace, GC.
func TestCNIMainNoKernel(t *testing.T) {
	env := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	full := func(cmd string) map[string]string {
		return env("CNI_COMMAND", cmd, "CNI_CONTAINERID", "c1", "CNI_NETNS", "/nonexistent/netns", "CNI_IFNAME", "eth0")
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		stdin   string
		code    int
		want    map[string]any // fields of stdout; nil: empty stdout
		msgHas  []string
		errCode float64
	}{
		{name: "VERSION", env: env("CNI_COMMAND", "VERSION"), stdin: `{"cniVersion":"0.4.0"}`,
			want: map[string]any{"cniVersion": "0.4.0", "supportedVersions": []any{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}}},
		{name: "VERSION empty", env: env("CNI_COMMAND", "VERSION"), stdin: ``,
			want: map[string]any{"cniVersion": "1.1.0"}},
		// VERSION answers only in a version tcwire speaks.
		{name: "VERSION unknown", env: env("CNI_COMMAND", "VERSION"), stdin: `{"cniVersion":"9.9.9"}`,
			want: map[string]any{"cniVersion": "1.1.0"}},
		{name: "VERSION 0.2.0", env: env("CNI_COMMAND", "VERSION"), stdin: `{"cniVersion":"0.2.0"}`,
			want: map[string]any{"cniVersion": "1.1.0"}},
		{name: "VERSION not a string", env: env("CNI_COMMAND", "VERSION"), stdin: `{"cniVersion":7}`,
			want: map[string]any{"cniVersion": "1.1.0"}},
		{name: "ADD not a netns", env: env("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "c1", "CNI_NETNS", "/proc/self/status", "CNI_IFNAME", "eth0"),
			stdin: string(netconf("1.0.0", "", prevFor("1.0.0"))), code: 1, errCode: cniErrInvalidEnv, msgHas: []string{"/proc/self/status", "not a network namespace"}},
		{name: "unknown command", env: env("CNI_COMMAND", "FROB"), stdin: `{}`, code: 1, errCode: cniErrInvalidEnv, msgHas: []string{"CNI_COMMAND", "FROB"},
			want: map[string]any{"cniVersion": "1.1.0"}},
		{name: "ADD without env", env: env("CNI_COMMAND", "ADD"), stdin: string(netconf("0.3.1", "", prevFor("0.3.1"))), code: 1, errCode: cniErrInvalidEnv,
			msgHas: []string{"CNI_CONTAINERID is missing", "CNI_NETNS is missing", "CNI_IFNAME is missing"}, want: map[string]any{"cniVersion": "0.3.1"}},
		{name: "DEL bad container id", env: env("CNI_COMMAND", "DEL", "CNI_CONTAINERID", "-x", "CNI_IFNAME", "eth0"), stdin: string(netconf("1.0.0", "", "")), code: 1, errCode: cniErrInvalidEnv,
			msgHas: []string{"CNI_CONTAINERID"}},
		{name: "ADD bad JSON", env: full("ADD"), stdin: `{"cniVersion":"1.0.0","tapUID":"x"}`, code: 1, errCode: cniErrInvalidConfig,
			msgHas: []string{`"tapUID"`}, want: map[string]any{"cniVersion": "1.0.0"}},
		{name: "ADD without prevResult", env: full("ADD"), stdin: string(netconf("0.4.0", "", "")), code: 1, errCode: cniErrInvalidConfig,
			msgHas: []string{"prevResult is missing", "chained"}, want: map[string]any{"cniVersion": "0.4.0"}},
		{name: "ADD missing netns", env: full("ADD"), stdin: string(netconf("1.0.0", "", prevFor("1.0.0"))), code: 1, errCode: cniErrNotFound,
			msgHas: []string{"/nonexistent/netns"}},
		{name: "CHECK without prevResult", env: full("CHECK"), stdin: string(netconf("1.0.0", "", "")), code: 1, errCode: cniErrInvalidConfig, msgHas: []string{"prevResult"}},
		{name: "DEL missing netns", env: full("DEL"), stdin: string(netconf("1.0.0", "", prevFor("1.0.0")))},
		{name: "DEL no netns", env: env("CNI_COMMAND", "DEL", "CNI_CONTAINERID", "c1", "CNI_IFNAME", "eth0"), stdin: string(netconf("0.3.0", "", ""))},
		{name: "GC", env: env("CNI_COMMAND", "GC"), stdin: `{"cniVersion":"1.1.0","name":"n","type":"tcwire","cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}]}`},
		{name: "bad CNI_ARGS", env: map[string]string{"CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c1", "CNI_IFNAME": "eth0", "CNI_ARGS": "TC_REDIRECT_TAP_UID=me"}, stdin: string(netconf("1.0.0", "", "")),
			code: 1, errCode: cniErrInvalidEnv, msgHas: []string{"TC_REDIRECT_TAP_UID"}, want: map[string]any{"cniVersion": "1.0.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := cniCall(t, tc.env, tc.stdin)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stdout %v stderr %s", code, tc.code, out, stderr)
			}
			if tc.want == nil && tc.errCode == 0 && out != nil {
				t.Errorf("stdout %v, want nothing", out)
			}
			for k, v := range tc.want {
				if !reflect.DeepEqual(out[k], v) {
					t.Errorf("%s = %v, want %v", k, out[k], v)
				}
			}
			if tc.errCode != 0 {
				if out["code"] != tc.errCode {
					t.Errorf("code %v, want %v: %v", out["code"], tc.errCode, out)
				}
				msg, _ := out["msg"].(string)
				for _, m := range tc.msgHas {
					if !strings.Contains(msg, m) {
						t.Errorf("msg %q lacks %q", msg, m)
					}
				}
				if !strings.Contains(stderr, msg) {
					t.Errorf("stderr %q lacks the message", stderr)
				}
			}
		})
	}
}

// TestKernelErrorCodes: each kind of error package tcwire returns gets its
// CNI code, and a missing module is named with what to load.
func TestKernelErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code uint
		has  string
	}{
		{&tcwire.ModuleError{Module: "sch_ingress", Err: &nl.Error{Cmd: "tc qdisc add dev eth0 ingress", Err: unix.ENOENT}}, cniErrMissingModule, "sch_ingress"},
		{&tcwire.ModuleError{Module: "cls_u32 or act_mirred", Err: unix.ENOENT}, cniErrMissingModule, "cls_u32 / act_mirred"},
		{&nl.Error{Cmd: "tc filter del dev eth0", Err: unix.ENOENT, Message: "Filter with specified priority/protocol not found"}, cniErrKernel, ""},
		{fmt.Errorf("attach: %w", tcwire.ErrBusy), cniErrTryAgain, ""},
		{fmt.Errorf("eth0: %w", tcwire.ErrNotFound), cniErrNotFound, ""},
		{fmt.Errorf("tap0 is a veth device, %w", tcwire.ErrNotTap), cniErrConflict, ""},
		{&tcwire.ConflictError{Dev: "eth0", Target: "tap9", Want: "tap0"}, cniErrConflict, "tap9"},
		{&tcwire.MismatchError{Tap: "tap0", Setting: "queues", Have: "1", Want: "2"}, cniErrConflict, "queues"},
		{&nl.Error{Cmd: "tc qdisc add dev eth0 ingress", Err: unix.EPERM}, cniErrKernel, "CAP_NET_ADMIN"},
	} {
		e := kernelError("cannot wire eth0 to tap0", tc.err)
		if e.Code != tc.code || !strings.Contains(e.Msg+e.Details, tc.has) {
			t.Errorf("%v: code %d %q (%s), want code %d naming %q", tc.err, e.Code, e.Msg, e.Details, tc.code, tc.has)
		}
		if tc.code == cniErrMissingModule && !strings.Contains(e.Msg, "modprobe") {
			t.Errorf("%v: msg %q does not say modprobe", tc.err, e.Msg)
		}
	}
}

// FuzzParseNetConf: the parser never panics, and whatever it accepts
// builds a result that parses back and is stable under a repeated ADD.
func FuzzParseNetConf(f *testing.F) {
	for _, v := range cniSupportedVersions {
		f.Add(netconf(v, "", prevFor(v)))
	}
	f.Add(netconf("0.4.0", `,"tapName":"vm0","tapUID":1,"queues":2,"mtu":9000`, `{"interfaces":[{"name":"eth0","sandbox":"/run/netns/ctr"}],"ips":[{"address":"10.0.0.1/32"}]}`))
	f.Add([]byte(`{"cniVersion":"1.0.0","prevResult":{"ips":[{"interface":-1,"address":"::1/128"}]}}`))
	f.Add([]byte(`{"cniVersion":"1.1.0","prevResult":null,"tapGID":4294967294}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		conf, cerr := parseNetConf(b)
		if cerr != nil {
			if cerr.Code == 0 || cerr.Msg == "" {
				t.Fatalf("error without code or message: %+v", cerr)
			}
			return
		}
		if _, cerr := resolveKnobs(conf, nil); cerr != nil {
			t.Fatalf("accepted netconf gives bad knobs: %v", cerr)
		}
		idx, _ := findVeth(conf.PrevResult, sameTestNS, "eth0", "tap0")
		r := buildResult(conf.PrevResult, conf.CNIVersion, testAdd(idx), sameTestNS)
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshal result: %v", err)
		}
		back, cerr := parseResult(out, "")
		if cerr != nil {
			t.Fatalf("result does not parse back: %v\n%s", cerr, out)
		}
		again, _ := json.Marshal(buildResult(back, conf.CNIVersion, testAdd(idx), sameTestNS))
		if !bytes.Equal(out, again) {
			t.Fatalf("a repeated ADD changes the result:\n%s\n%s", out, again)
		}
	})
}

// TestPrevResult020: a 0.2.0 result's ip4/ip6 (a runtime passing an old
// plugin's result on) become ips and routes, so the VM gets the address;
// a result with both shapes is refused, never half read.
func TestPrevResult020(t *testing.T) {
	prev := `{"cniVersion":"0.2.0","ip4":{"ip":"10.1.0.5/16","gateway":"10.1.0.1","routes":[{"dst":"0.0.0.0/0"},{"dst":"192.0.2.0/24","gw":"10.1.0.254"}]},
		"ip6":{"ip":"2001:db8::5/64"},"dns":{"nameservers":["10.1.0.1"]}}`
	conf, cerr := parseNetConf(netconf("1.0.0", "", prev))
	if cerr != nil {
		t.Fatal(cerr)
	}
	r := buildResult(conf.PrevResult, "1.0.0", cniAdd{ContainerID: "c1", NetNS: "/run/netns/x", VethIndex: -1, VethMAC: "02:00:00:00:00:01", TapName: "tap0", TapMAC: "02:00:00:00:00:02"}, func(string) bool { return false })
	var got []string
	for _, ip := range r.IPs {
		if ip.Interface != nil && *ip.Interface == 1 {
			got = append(got, ip.Address+" gw "+ip.Gateway)
		}
	}
	if want := []string{"10.1.0.5/16 gw 10.1.0.1", "2001:db8::5/64 gw "}; !reflect.DeepEqual(got, want) {
		t.Errorf("VM addresses %q, want %q", got, want)
	}
	var routes []string
	for _, rt := range r.Routes {
		routes = append(routes, string(rt))
	}
	if want := []string{`{"dst":"0.0.0.0/0","gw":"10.1.0.1"}`, `{"dst":"192.0.2.0/24","gw":"10.1.0.254"}`}; !reflect.DeepEqual(routes, want) {
		t.Errorf("routes %q, want %q", routes, want)
	}
	if string(r.DNS) == "" {
		t.Error("dns lost")
	}
	for _, bad := range []string{
		`{"cniVersion":"0.2.0","ip4":{"ip":"10.1.0.5/16"},"ips":[{"address":"10.1.0.6/16"}]}`,
		`{"cniVersion":"0.2.0","ip4":{"gateway":"10.1.0.1"}}`,
		`{"cniVersion":"0.2.0","ip4":{"ip":"2001:db8::1/64"}}`,
		`{"cniVersion":"0.2.0","ip4":{"ip":"nonsense"}}`,
		`{"cniVersion":"0.2.0","ip4":"10.1.0.5/16"}`,
	} {
		if _, cerr := parseNetConf(netconf("1.0.0", "", bad)); cerr == nil || cerr.Code != cniErrInvalidConfig && cerr.Code != cniErrDecode {
			t.Errorf("prevResult %s: %v, want a configuration error", bad, cerr)
		}
	}
}
