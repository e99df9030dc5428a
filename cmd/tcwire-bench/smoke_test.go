package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/internal/nstest"
)

// buildHelpers builds bin/tcwire and the bench/vishvananda program (its own
// module) into dir.
func buildHelpers(t *testing.T, dir string) (tcwire, vish string) {
	t.Helper()
	tcwire = filepath.Join(dir, "tcwire")
	vish = filepath.Join(dir, "tcwire-bench-vishvananda")
	for _, b := range []struct{ dir, out string }{{"../tcwire", tcwire}, {"../../bench/vishvananda", vish}} {
		cmd := exec.Command("go", "build", "-o", b.out, ".")
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build in %s: %v\n%s", b.dir, err, out)
		}
	}
	return tcwire, vish
}

// TestSmoke runs the whole harness with tiny trials and checks that the
// JSON report is complete and sane. It asserts nothing about speed.
func TestSmoke(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "tc")
	nstest.RequireTool(t, "iperf3")
	tcwire, vish := buildHelpers(t, t.TempDir())
	out := t.TempDir()
	// As CI would run it: --quick with the hidden --budget, one round.
	cfg, err := parseFlags([]string{"--quick", "--json", "--budget", "50ms", "--rounds", "1", "--pairs", "2", "--scale", "1,3",
		"--tcwire", tcwire, "--vishvananda", vish, "--trafgen", "none",
		"--svg", filepath.Join(out, "chart.svg"), "--results", filepath.Join(out, "RESULTS.md")}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	r, err := Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	for _, e := range r.Errors {
		t.Errorf("report error: %s", e)
	}
	var js bytes.Buffer
	if err := write(cfg, r, &js); err != nil {
		t.Fatal(err)
	}

	// The JSON, read back generically: every documented field present.
	var doc map[string]any
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	dps, _ := doc["datapaths"].([]any)
	byName := map[string]map[string]any{}
	for _, d := range dps {
		m := d.(map[string]any)
		byName[m["name"].(string)] = m
	}
	for _, s := range datapathSpecs {
		d, ok := byName[s.name]
		if !ok {
			t.Errorf("datapath %s missing", s.name)
			continue
		}
		for _, k := range []string{"tap_to_veth_pps", "veth_to_tap_pps", "rtt_p50_us", "rtt_p99_us", "rtt_p999_us", "cpu_ns_per_pkt", "l2"} {
			if _, ok := d[k]; !ok {
				t.Errorf("%s: no %q", s.name, k)
			}
		}
		pos := func(k string) {
			if v, ok := d[k].(float64); !ok || v <= 0 {
				t.Errorf("%s: %s = %v, want > 0", s.name, k, d[k])
			}
		}
		switch s.name {
		case "tap-write":
			pos("tap_to_veth_pps")
		case "packet-send":
			pos("veth_to_tap_pps")
		default:
			for _, k := range []string{"tap_to_veth_pps", "veth_to_tap_pps", "tap_to_veth_pps_1500", "veth_to_tap_pps_1500", "rtt_p50_us", "rtt_p99_us", "rtt_p999_us", "cpu_ns_per_pkt"} {
				pos(k)
			}
			l2, _ := d["l2"].(map[string]any)
			for _, k := range []string{"stp", "pause", "lacp", "dot1x", "lldp", "broadcast", "other_unicast", "vlan", "jumbo"} {
				if _, ok := l2[k].(bool); !ok {
					t.Errorf("%s: l2.%s = %v, want a bool", s.name, k, l2[k])
				}
			}
			if v, ok := l2["host_injected_frames"].(float64); !ok || v < 0 {
				t.Errorf("%s: l2.host_injected_frames = %v, want a count", s.name, l2["host_injected_frames"])
			}
			sr, _ := d["slow_reader"].(map[string]any)
			for _, k := range []string{"socket_sender", "forwarded_sender"} {
				if _, ok := sr[k].(map[string]any); !ok {
					t.Errorf("%s: no slow_reader.%s", s.name, k)
				}
			}
		}
	}
	// A functional fact, not a timing: tc mirred and a plain veth pass
	// every test frame to the VM untouched.
	for _, name := range []string{"tcwire", "tc-redirect", "veth"} {
		if l2 := r.DatapathByName(name); l2 != nil && l2.L2 != nil {
			for _, f := range l2.L2.Fields() {
				if f.Value == nil || !*f.Value {
					t.Errorf("%s: %s frame did not reach the VM", name, f.Name)
				}
			}
		}
	}
	// Functional facts: the bridge with unicast flooding off and the
	// macvtap in bridge mode keep frames for another MAC from the VM;
	// allmulticast lets LLDP through passthru.
	for name, want := range map[string]bool{"bridge-static-fdb": false, "macvtap-bridge": false, "tcwire": true} {
		if d := r.DatapathByName(name); d != nil && d.L2 != nil && (d.L2.OtherUnicast == nil || *d.L2.OtherUnicast != want) {
			t.Errorf("%s: unicast to another MAC reached the VM: %v, want %v", name, d.L2.OtherUnicast, want)
		}
	}
	if d := r.DatapathByName("tcwire-macvtap"); d != nil && d.L2 != nil && (d.L2.LLDP == nil || !*d.L2.LLDP) {
		t.Errorf("tcwire-macvtap: LLDP did not reach the VM")
	}

	// Bulk: every wiring, both directions, the CPU figure; nothing about
	// speed.
	bulk, _ := doc["bulk"].([]any)
	bulkByName := map[string]map[string]any{}
	for _, b := range bulk {
		m := b.(map[string]any)
		bulkByName[m["name"].(string)] = m
	}
	for _, s := range bulkSpecs() {
		b, ok := bulkByName[s.name]
		if !ok {
			t.Errorf("bulk %s missing", s.name)
			continue
		}
		for _, k := range []string{"guest_to_host_gbps", "host_to_guest_gbps", "cpu_per_gbit"} {
			if v, ok := b[k].(float64); !ok || v <= 0 {
				t.Errorf("bulk %s: %s = %v, want > 0", s.name, k, b[k])
			}
		}
		flows, _ := b["flows"].([]any)
		if len(flows) != 2 {
			t.Errorf("bulk %s: %d flows, want 2", s.name, len(flows))
		}
		// GSO frames cross whole with offloads on, never without.
		for _, f := range flows {
			m := f.(map[string]any)
			mf, _ := m["max_frame_bytes"].(float64)
			if s.offloads != (mf > 14+guestMTU) {
				t.Errorf("bulk %s %v: largest frame %v bytes with offloads %v", s.name, m["direction"], mf, s.offloads)
			}
		}
	}
	if left := procsLeft(); left > 0 {
		t.Errorf("%d iperf3 processes left running", left)
	}

	cps, _ := doc["control_plane"].([]any)
	seen := map[string]bool{}
	for _, c := range cps {
		m := c.(map[string]any)
		name := m["name"].(string)
		seen[name] = true
		if v, _ := m["us_per_attach"].(float64); v <= 0 {
			t.Errorf("control plane %s: us_per_attach %v", name, m["us_per_attach"])
		}
		_, hasAllocs := m["allocs_per_attach"].(float64)
		inProcess := name == "tcwire" || name == "tcwire-attach" || name == "tcwire-attachall" || name == "vishvananda" || name == "netlink-floor"
		if hasAllocs != inProcess {
			t.Errorf("control plane %s: allocs_per_attach %v", name, m["allocs_per_attach"])
		}
	}
	for _, c := range contenders {
		if !seen[c.name] {
			t.Errorf("control plane %s missing", c.name)
		}
	}
	// Watch: every repairer timed over every recreation; nothing about
	// speed.
	wrows, _ := doc["watch"].([]any)
	if len(wrows) != len(repairers) {
		t.Errorf("watch: %d rows, want %d", len(wrows), len(repairers))
	}
	for i, w := range wrows {
		m := w.(map[string]any)
		if i < len(repairers) && m["name"] != repairers[i].name {
			t.Errorf("watch row %d: %v, want %s", i, m["name"], repairers[i].name)
		}
		p50, _ := m["p50_us"].(float64)
		p99, _ := m["p99_us"].(float64)
		if n, _ := m["recreations"].(float64); n != 50 || p50 <= 0 || p99 < p50 {
			t.Errorf("watch %v: recreations %v, p50 %v, p99 %v", m["name"], m["recreations"], m["p50_us"], m["p99_us"])
		}
		// Only Watch times its own repairs.
		if _, own := m["reported_p50_us"].(float64); own != (m["name"] == "tcwire-watch") {
			t.Errorf("watch %v: reported_p50_us %v", m["name"], m["reported_p50_us"])
		}
	}
	if len(r.Scale) != 2 {
		t.Fatalf("scale: %+v", r.Scale)
	}
	for _, s := range r.Scale {
		if s.UsPerAttach <= 0 || s.ShowMs == nil || s.ShowRows != 2*s.Pairs || s.ShowOneMs <= 0 {
			t.Errorf("scale %+v", s)
		}
	}

	svg, err := os.ReadFile(cfg.SVG)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Errorf("SVG is not well-formed: %v", err)
			}
			break
		}
	}
	md, err := os.ReadFile(cfg.Results)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "](chart.svg)") || !strings.Contains(string(md), "| tcwire |") ||
		!strings.Contains(string(md), "## Bulk TCP throughput") || !strings.Contains(string(md), "## Keeping a wiring whole") || !strings.Contains(string(md), "## Which wiring when") {
		t.Errorf("RESULTS.md lacks the chart or the tcwire row:\n%s", md)
	}

	// Nothing left behind.
	left, _ := filepath.Glob(netns.Dir + "/tcwire-bench-" + itoa(os.Getpid()) + "-*")
	if len(left) > 0 {
		t.Errorf("namespaces left: %v", left)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// procsLeft counts the tracked processes nobody has waited for.
func procsLeft() int {
	procs.Lock()
	defer procs.Unlock()
	return len(procs.m)
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"--quick", "--json", "--budget", "200ms", "--scale", "1,10", "--only", "datapath,scale"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Quick || !c.JSON || c.Budget != 200*time.Millisecond || len(c.Scale) != 2 || !c.Only["scale"] || c.Only["control"] {
		t.Errorf("config %+v", c)
	}
	for _, bad := range [][]string{{"--scale", "0"}, {"--only", "nope"}, {"extra"}} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}
