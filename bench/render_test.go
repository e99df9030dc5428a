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

func sample() *Report {
	yes, no := b(true), b(false)
	return &Report{
		Schema: SchemaVersion,
		Host:   Host{Kernel: "6.18", CPUModel: "AMD EPYC <test>", Cores: 2, SenderCPU: 0, ReaderCPU: 1},
		Method: Method{TrialMs: 1000, Rounds: 5, SmallFrame: 60, LargeFrame: 1500, Ethertype: "0x88b5", AttachPairs: 100},
		Floors: FloorsNames{Datapath: "veth", ControlPlane: "netlink-floor"},
		Datapaths: []Datapath{
			{Name: "tcwire", TapToVethPPS: f(690000), VethToTapPPS: f(620000), RTTP50us: f(6), RTTP99us: f(30), RTTP999us: f(50), CPUNsPerPkt: f(900),
				L2:    &L2{STP: yes, Pause: yes, LACP: yes, Dot1X: yes, LLDP: yes, VLAN: yes, Jumbo: yes},
				Flows: []Flow{{Direction: TapToVeth, Frame: 60, PPS: 690000, PPSMin: 600000, PPSMax: 700000, Ratio: f(0.9)}}},
			{Name: "bridge", TapToVethPPS: f(510000), VethToTapPPS: f(480000), L2: &L2{STP: yes, Pause: no, LACP: no, Dot1X: no, LLDP: no, VLAN: yes, Jumbo: yes}},
			{Name: "tap-write", TapToVethPPS: f(1560000)},
		},
		ControlPlane: []Control{{Name: "netlink-floor", UsPerAttach: 100, AllocsPerAttach: f(0), Ratio: 1}, {Name: "tc-cli", UsPerAttach: 12000, Ratio: 120}},
		Scale:        []Scale{{Pairs: 1, UsPerAttach: 300, ShowMs: f(4)}, {Pairs: 10000, UsPerAttach: 90000, ShowLimitS: 120, KernelBytesPerPair: f(12000)}},
	}
}

func TestJSONSchemaNames(t *testing.T) {
	js, err := json.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"datapaths"`, `"tap_to_veth_pps"`, `"veth_to_tap_pps"`, `"rtt_p50_us"`, `"rtt_p99_us"`, `"rtt_p999_us"`,
		`"cpu_ns_per_pkt"`, `"l2"`, `"stp"`, `"pause"`, `"lacp"`, `"dot1x"`, `"lldp"`, `"vlan"`, `"jumbo"`,
		`"control_plane"`, `"us_per_attach"`, `"allocs_per_attach"`, `"scale"`} {
		if !bytes.Contains(js, []byte(k)) {
			t.Errorf("JSON lacks %s", k)
		}
	}
	// A ceiling's missing figures are null, not 0.
	if !bytes.Contains(js, []byte(`"name":"tap-write","description":"","tap_to_veth_pps":1560000,"veth_to_tap_pps":null`)) {
		t.Errorf("ceiling not null: %s", js)
	}
}

func TestTableAndMarkdown(t *testing.T) {
	var tb, md bytes.Buffer
	if err := Table(&tb, sample()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tcwire", "0.690", "stp pause lacp dot1x lldp vlan jumbo", "stp -pause -lacp", "> 120 s (stopped)"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tb.String())
		}
	}
	if err := Markdown(&md, sample(), "results.svg"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"![chart](results.svg)", "| bridge | yes | **no** |", "| 10000 |", "AMD EPYC <test>"} {
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
	// background, 2 legend swatches, 5 datapath bars, 2 control bars
	if n != 10 {
		t.Errorf("%d rects, want 10", n)
	}
}
