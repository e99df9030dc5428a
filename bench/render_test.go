package bench

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

func f(v float64) *float64 { return &v }
func b(v bool) *bool       { return &v }
func n(v int) *int         { return &v }

func sample() *Report {
	yes, no := b(true), b(false)
	return &Report{
		Schema:   SchemaVersion,
		Host:     Host{Kernel: "6.18", CPUModel: "AMD EPYC <test>", Cores: 2, SenderCPU: 0, ReaderCPU: 1},
		Method:   Method{TrialMs: 1000, Rounds: 5, SmallFrame: 60, LargeFrame: 1500, Ethertype: "0x88b5", AttachPairs: 100, L2WindowS: 3, BulkSecs: 2, BulkRounds: 5, GuestMTU: 1500},
		Floors:   FloorsNames{Datapath: "veth", ControlPlane: "netlink-floor", Watch: "netlink-floor"},
		Ceilings: []string{"tap-write"},
		Datapaths: []Datapath{
			{Name: "tcwire", VMSide: "tap", TapToVethPPS: f(690000), VethToTapPPS: f(620000), RTTP50us: f(6), RTTP99us: f(30), RTTP999us: f(50), CPUNsPerPkt: f(900),
				L2: &L2{STP: yes, Pause: yes, LACP: yes, Dot1X: yes, LLDP: yes, Broadcast: yes, OtherUnicast: yes, VLAN: yes, Jumbo: yes, HostInjected: n(6)},
				Flows: []Flow{{Direction: TapToVeth, Frame: 60, PPS: 690000, PPSMin: 600000, PPSMax: 700000, Ratio: f(0.9)},
					{Direction: VethToTap, Frame: 60, PPS: 620000, PPSMin: 610000, PPSMax: 630000}},
				SlowReader: &SlowReader{Socket: SlowTrial{DeliveredPPS: 19000, SentPPS: 700000, DevDropsps: 681000}}},
			{Name: "bridge", VMSide: "tap", SharedSegment: true, TapToVethPPS: f(510000), VethToTapPPS: f(480000),
				L2: &L2{STP: yes, Pause: no, LACP: no, Dot1X: no, LLDP: no, Broadcast: yes, OtherUnicast: yes, VLAN: yes, Jumbo: yes, HostInjected: n(14)},
				Flows: []Flow{{Direction: TapToVeth, Frame: 60, PPS: 510000, PPSMin: 500000, PPSMax: 520000},
					{Direction: VethToTap, Frame: 60, PPS: 480000, PPSMin: 470000, PPSMax: 490000}}},
			{Name: "macvtap-bridge", VMSide: "macvtap", SharedSegment: true, TapToVethPPS: f(800000), VethToTapPPS: f(790000),
				L2: &L2{STP: no, Pause: no, LACP: no, Dot1X: no, LLDP: no, Broadcast: yes, OtherUnicast: no, VLAN: yes, Jumbo: yes, HostInjected: n(0)},
				Flows: []Flow{{Direction: TapToVeth, Frame: 60, PPS: 800000, PPSMin: 780000, PPSMax: 820000},
					{Direction: VethToTap, Frame: 60, PPS: 790000, PPSMin: 500000, PPSMax: 800000}}},
			{Name: "tap-write", TapToVethPPS: f(1560000)},
		},
		Bulk: []Bulk{
			{Name: "tcwire", Offloads: true, GuestToHostGbps: f(8), HostToGuestGbps: f(7.5), CPUPerGbit: f(200), Flows: []BulkFlow{
				{Direction: GuestToHost, Gbps: 8, GbpsMin: 7.5, GbpsMax: 8.5, CPUPerGbit: 200, CPUPerGbitMin: 190, CPUPerGbitMax: 210, MaxFrame: 65226},
				{Direction: HostToGuest, Gbps: 7.5, GbpsMin: 7, GbpsMax: 8, CPUPerGbit: 200, CPUPerGbitMin: 190, CPUPerGbitMax: 210, MaxFrame: 65226}}},
			{Name: "macvtap-bridge", Offloads: true, GuestToHostGbps: f(6), HostToGuestGbps: f(6), CPUPerGbit: f(300), Flows: []BulkFlow{
				{Direction: GuestToHost, Gbps: 6, GbpsMin: 5.9, GbpsMax: 6.1, CPUPerGbit: 300, CPUPerGbitMin: 290, CPUPerGbitMax: 310},
				{Direction: HostToGuest, Gbps: 6, GbpsMin: 5.9, GbpsMax: 6.1, CPUPerGbit: 300, CPUPerGbitMin: 100, CPUPerGbitMax: 310}}},
			{Name: "tcwire-offloads-off", GuestToHostGbps: f(2), HostToGuestGbps: f(2), CPUPerGbit: f(900), Flows: []BulkFlow{
				{Direction: GuestToHost, Gbps: 2, GbpsMin: 2, GbpsMax: 2, MaxFrame: 1514}, {Direction: HostToGuest, Gbps: 2, GbpsMin: 2, GbpsMax: 2, MaxFrame: 1514}}},
			{Name: "relay", Ceiling: true, Offloads: true, GuestToHostGbps: f(9), HostToGuestGbps: nil, Flows: []BulkFlow{{Direction: GuestToHost, Gbps: 9, GbpsMin: 9, GbpsMax: 9}}},
		},
		ControlPlane: []Control{{Name: "netlink-floor", UsPerAttach: 100, AllocsPerAttach: f(0), Ratio: 1}, {Name: "tc-cli", UsPerAttach: 12000, Ratio: 120}},
		Watch: []Watch{{Name: "tcwire-watch", Recreations: 200, MinUs: 800, P50us: 2200, P99us: 9000, MaxUs: 12000, Ratio: 1.7, ReportedP50us: f(2000), ReportedP99us: f(8000)},
			{Name: "netlink-floor", Recreations: 200, MinUs: 80, P50us: 1300, P99us: 7000, MaxUs: 9000, Ratio: 1}},
		Scale: []Scale{{Pairs: 1, UsPerAttach: 300, ShowMs: f(4)}, {Pairs: 10000, UsPerAttach: 90000, ShowLimitS: 120, KernelBytesPerPair: f(12000)}},
	}
}

func TestJSONSchemaNames(t *testing.T) {
	js, err := json.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"datapaths"`, `"tap_to_veth_pps"`, `"veth_to_tap_pps"`, `"rtt_p50_us"`, `"rtt_p99_us"`, `"rtt_p999_us"`,
		`"cpu_ns_per_pkt"`, `"l2"`, `"stp"`, `"pause"`, `"lacp"`, `"dot1x"`, `"lldp"`, `"vlan"`, `"jumbo"`,
		`"broadcast"`, `"other_unicast"`, `"host_injected_frames"`, `"vm_side"`, `"shared_segment"`, `"slow_reader"`,
		`"bulk"`, `"guest_to_host_gbps"`, `"host_to_guest_gbps"`, `"cpu_per_gbit"`, `"max_frame_bytes"`,
		`"control_plane"`, `"us_per_attach"`, `"allocs_per_attach"`, `"scale"`,
		`"watch"`, `"recreations"`, `"p50_us"`, `"p99_us"`, `"p50_ratio_to_floor"`, `"reported_p50_us":2000`, `"reported_p99_us":null`} {
		if !bytes.Contains(js, []byte(k)) {
			t.Errorf("JSON lacks %s", k)
		}
	}
	// A ceiling's missing figures are null, not 0.
	if !bytes.Contains(js, []byte(`"name":"tap-write","description":"","vm_side":"","shared_segment":false,"tap_to_veth_pps":1560000,"veth_to_tap_pps":null`)) {
		t.Errorf("ceiling not null: %s", js)
	}
}

func TestTableAndMarkdown(t *testing.T) {
	var tb, md bytes.Buffer
	if err := Table(&tb, sample()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tcwire", "0.690", "stp pause lacp dot1x lldp broadcast other_unicast vlan jumbo (host sent 6)", "stp -pause -lacp",
		"> 120 s (stopped)", "8.00 (7.50–8.50)", "tcwire-watch   200          2200  9000  800–12000  1.70    2000/8000", "65226 / 65226", "A slow VM (reads at most"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tb.String())
		}
	}
	if err := Markdown(&md, sample(), "results.svg"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"![chart](results.svg)", "| bridge | yes | **no** |", "| 10000 |", "AMD EPYC <test>",
		"| broadcast | unicast to another MAC |", "| yes | 14 |", "## Bulk TCP throughput", "| tcwire-offloads-off | 2.00 (2.00–2.00) |",
		"| relay | 9.00 (9.00–9.00) | — |", "### A slow VM", "| tcwire | socket | 19000 | 700000 | 0 | 0 | 681000 |", "## Which wiring when", "## Keeping a wiring whole", "| tcwire-watch | 200 | 2200 | 9000 | 800–12000 | 1.70 | 2000 / 8000 |", "| netlink-floor | 200 | 1300 | 7000 | 80–9000 | 1.00 | — / — |", "| bulk TCP | iperf3, one stream, 2 s trials × 5 rounds"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

func TestSVGWellFormed(t *testing.T) {
	var out bytes.Buffer
	if err := SVG(&out, sample()); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&out)
	n := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			n++
		}
	}
	// background, 2×2 legend swatches, 7 datapath bars, 7 bulk bars, 2
	// control bars
	if n != 21 {
		t.Errorf("%d rects, want 21", n)
	}
}

func TestGuidance(t *testing.T) {
	got := map[string]Advice{}
	for _, a := range Guidance(sample()) {
		got[strings.SplitN(a.Need, " (", 2)[0]] = a
	}
	for need, want := range map[string][]string{
		// Only tcwire passes every frame kind.
		"full L2 transparency": {"tcwire"},
		// Taps: tcwire and bridge; bridge's range does not reach tcwire's.
		"the VMM opens the tap by name": {"tcwire"},
		// macvtap-bridge's wide veth→VM range overlaps the bridge's.
		"many VMs on one segment": {"macvtap-bridge"},
		"highest packet rate":     {"macvtap-bridge", "tcwire"},
		// The relay's ceiling and the run without offloads do not count.
		"highest bulk Gbit/s": {"tcwire"},
		// Lower is better; macvtap-bridge's range reaches tcwire's.
		"least CPU per bulk gigabit":                     {"tcwire", "macvtap-bridge"},
		"the VM hears nothing from the host's own stack": {"macvtap-bridge"},
	} {
		a, ok := got[need]
		if !ok {
			t.Errorf("no advice for %q: %+v", need, got)
			continue
		}
		if strings.Join(a.Use, ",") != strings.Join(want, ",") {
			t.Errorf("%s: use %v, want %v (%s)", need, a.Use, want, a.Why)
		}
	}
	if a := got["highest bulk Gbit/s"]; !strings.Contains(a.Why, "tcwire without offloads: 2.00") {
		t.Errorf("bulk advice: %s", a.Why)
	}
}

// TestBatchMarkdown: the batch section's rows and its goals, met or not.
func TestBatchMarkdown(t *testing.T) {
	kib := 20.0 * 1024
	r := &Report{Floors: FloorsNames{Batch: "floor", BatchTcwire: "tcwire-batch", BatchIPTC: "ip+tc-batch", BatchPerPair: "tcwire-per-pair"},
		Batch: []Batch{
			{Name: "floor", Shape: "1000", Pairs: 1000, Ms: 500, Ratio: 1},
			{Name: "tcwire-batch", Shape: "1000", Pairs: 1000, Ms: 600, UsPerPair: 600, Ratio: 1.2, MaxRSSKiB: &kib},
			{Name: "ip+tc-batch", Shape: "1000", Pairs: 1000, Ms: 1500, Ratio: 3},
			{Name: "tcwire-per-pair", Shape: "1000", Pairs: 1000, Ms: 30000, Ratio: 60},
		}}
	var b strings.Builder
	batchMarkdown(&b, r)
	for _, want := range []string{"## Batch", "| 1000 | tcwire-batch | 600.0 (0.0–0.0) | 600.0 | 1.20 | 20.0 | 2.5× / 50.0× |",
		"2.5× faster than ip+tc-batch (goal ≥ 2×: met)", "1.20× the floor (goal ≤ 1.3×: met)", "max RSS 20.0 MiB (goal ≤ 30 MiB: met)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in\n%s", want, b.String())
		}
	}
	r.Batch[1].Ratio = 1.5
	b.Reset()
	batchMarkdown(&b, r)
	if !strings.Contains(b.String(), "1.50× the floor (goal ≤ 1.3×: **not met**)") {
		t.Errorf("a goal missed is not said so:\n%s", b.String())
	}
}
