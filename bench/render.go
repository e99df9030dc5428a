package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Directions of a flow.
const (
	TapToVeth = "tap_to_veth" // the VM writes to its tap, the far side reads
	VethToTap = "veth_to_tap" // the far side sends, the VM reads its tap
)

func mpps(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.3f", *v/1e6)
}

func us(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f", *v)
}

func ns0(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f", *v)
}

func ratio(f *Flow) string {
	if f == nil || f.Ratio == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f", *f.Ratio)
}

func rangeM(f *Flow) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%.3f (%.3f–%.3f)", f.PPS/1e6, f.PPSMin/1e6, f.PPSMax/1e6)
}

// L2String is a compact "stp pause lacp …" view: the names of the frames
// that arrived, "-name" for those that did not.
func L2String(l *L2) string {
	if l == nil {
		return "—"
	}
	var parts []string
	for _, f := range l.Fields() {
		switch {
		case f.Value == nil:
			parts = append(parts, "?"+f.Name)
		case *f.Value:
			parts = append(parts, f.Name)
		default:
			parts = append(parts, "-"+f.Name)
		}
	}
	return strings.Join(parts, " ")
}

// L2Field is one entry of L2 with its JSON name.
type L2Field struct {
	Name  string
	Value *bool
}

// Fields lists the L2 results in schema order.
func (l *L2) Fields() []L2Field {
	return []L2Field{{"stp", l.STP}, {"pause", l.Pause}, {"lacp", l.LACP}, {"dot1x", l.Dot1X}, {"lldp", l.LLDP}, {"vlan", l.VLAN}, {"jumbo", l.Jumbo}}
}

// Table writes the human-readable report.
func Table(w io.Writer, r *Report) error {
	h := r.Host
	fmt.Fprintf(w, "tcwire-bench  %s  kernel %s  %s × %d  %s\n", h.Date, h.Kernel, h.CPUModel, h.Cores, h.GoVersion)
	fmt.Fprintf(w, "trial %.0f ms × %d rounds (interleaved, rotated), sender CPU %d, reader CPU %d, ethertype %s, load average %s → %s\n\n",
		r.Method.TrialMs, r.Method.Rounds, h.SenderCPU, h.ReaderCPU, r.Method.Ethertype, h.LoadAvg, h.LoadAvgEnd)
	if len(r.Datapaths) > 0 {
		fmt.Fprintf(w, "Datapaths (Mpps delivered, median over rounds; ratio = median per-round ratio to %s)\n", r.Floors.Datapath)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "datapath\tVM→veth 60B\t×floor\tveth→VM 60B\t×floor\tVM→veth 1500B\tveth→VM 1500B\tRTT p50/p99/p99.9 µs\tCPU ns/pkt\tL2 toward VM")
		for i := range r.Datapaths {
			d := &r.Datapaths[i]
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s/%s/%s\t%s\t%s\n", d.Name,
				mpps(d.TapToVethPPS), ratio(d.Flow(TapToVeth, r.Method.SmallFrame)),
				mpps(d.VethToTapPPS), ratio(d.Flow(VethToTap, r.Method.SmallFrame)),
				mpps(d.TapToVethPPS1500), mpps(d.VethToTapPPS1500),
				us(d.RTTP50us), us(d.RTTP99us), us(d.RTTP999us), ns0(d.CPUNsPerPkt), L2String(d.L2))
		}
		tw.Flush()
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Drops per second of trial (small frames; sender EAGAIN / ENOBUFS, receiver socket, devices, softnet)")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "datapath\tdirection\tMpps (min–max)\tsent Mpps\tEAGAIN/s\tENOBUFS/s\tsock drops/s\tdev drops/s\tsoftnet/s")
		for i := range r.Datapaths {
			d := &r.Datapaths[i]
			for _, f := range d.Flows {
				if f.Frame != r.Method.SmallFrame {
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\n", d.Name, f.Direction, rangeM(&f),
					f.SentPPS/1e6, f.EAGAINps, f.ENOBUFSps, f.SockDropsps, f.DevDropsps, f.Softnetps)
			}
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.ControlPlane) > 0 {
		fmt.Fprintf(w, "Control plane: one bidirectional attach on existing devices (%d per round; ratio to %s)\n", r.Method.AttachPairs, r.Floors.ControlPlane)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "contender\tµs/attach (min–max)\t×floor\tallocs/attach\tround trips\thow")
		for _, c := range r.ControlPlane {
			allocs := "—"
			if c.AllocsPerAttach != nil {
				allocs = fmt.Sprintf("%.0f", *c.AllocsPerAttach)
			}
			fmt.Fprintf(tw, "%s\t%.1f (%.1f–%.1f)\t%.1f\t%s\t%s\t%s\n", c.Name, c.UsPerAttach, c.UsMin, c.UsMax, c.Ratio, allocs, roundTrips(c), c.Description)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.CNI) > 0 {
		fmt.Fprintln(w, "CNI: cnitool add/del of ptp + host-local + the tap plugin, in a namespace playing the host")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "plugin\tADD ms (min–max)\tDEL ms (min–max)\ttrials\thow")
		for _, c := range r.CNI {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", c.Name, cniAdd(c), cniDel(c), c.Trials, c.Description)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if len(r.Scale) > 0 {
		fmt.Fprintln(w, "Scale: N veth+tap pairs wired by tcwire in one namespace")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "pairs\tµs/attach\tµs/attach+detach\tfloor µs (last pair)\tfloor µs/attach\tshow ms\tshow rows\tshow max RSS KiB\tshow DEV ms\tkernel bytes/pair")
		for _, s := range r.Scale {
			fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%.1f\t%s\t%s\t%d\t%d\t%.1f\t%s\n", s.Pairs, s.UsPerAttach, s.UsPerAttachDetach, s.FloorLastUs, floorUs(s), showMs(s), s.ShowRows, s.ShowMaxRSS, s.ShowOneMs, ns0(s.KernelBytesPerPair))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if t := r.Trafgen; t != nil {
		fmt.Fprintf(w, "trafgen check on the plain veth (%s): trafgen sent %.3f Mpps, delivered %.3f; harness sent %.3f, delivered %.3f\n",
			t.Version, t.TrafgenPPS/1e6, t.TrafgenRecv/1e6, t.HarnessPPS/1e6, t.HarnessRecv/1e6)
		if t.Note != "" {
			fmt.Fprintf(w, "  %s\n", t.Note)
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	return nil
}

func cniAdd(c CNI) string {
	if c.Skipped != "" {
		return "skipped: " + c.Skipped
	}
	return fmt.Sprintf("%.1f (%.1f–%.1f)", c.AddMs, c.AddMin, c.AddMax)
}

func cniDel(c CNI) string {
	if c.Skipped != "" {
		return "—"
	}
	return fmt.Sprintf("%.1f (%.1f–%.1f)", c.DelMs, c.DelMin, c.DelMax)
}

// roundTrips is a contender's sendmsg calls per attach, "—" when unknown.
func roundTrips(c Control) string {
	if c.RoundTrips == nil {
		return "—"
	}
	return fmt.Sprintf("%.3g", *c.RoundTrips)
}

func floorUs(s Scale) string {
	if s.Pairs < 2 {
		return "—"
	}
	return fmt.Sprintf("%.1f", s.FloorUsPerAttach)
}

func showMs(s Scale) string {
	if s.ShowMs == nil {
		return fmt.Sprintf("> %.0f s (stopped)", s.ShowLimitS)
	}
	return fmt.Sprintf("%.1f", *s.ShowMs)
}

// Markdown writes bench/RESULTS.md: host facts, the tables and the chart
// (svg, a path relative to the page; empty leaves it out).
func Markdown(w io.Writer, r *Report, svg string) error {
	h := r.Host
	fmt.Fprintf(w, "# tcwire-bench results\n\n")
	fmt.Fprintf(w, "Written by `make bench` (`bin/tcwire-bench`); how to read it: [README.md](README.md). Raw data: [results.json](results.json).\n\n")
	fmt.Fprintf(w, "## Host\n\n| | |\n|---|---|\n")
	fmt.Fprintf(w, "| date | %s |\n| kernel | %s |\n| CPU | %s |\n| cores | %d |\n| Go | %s |\n| tc | %s |\n| pinning | sender CPU %d, reader CPU %d |\n| load average (1, 5, 15 min) | %s at the start, %s at the end |\n",
		h.Date, h.Kernel, h.CPUModel, h.Cores, h.GoVersion, h.TC, h.SenderCPU, h.ReaderCPU, h.LoadAvg, h.LoadAvgEnd)
	m := r.Method
	fmt.Fprintf(w, "| method | warm-up, then %d rounds of %.0f ms trials, contenders interleaved with the order rotated each round; medians with min–max; ratios per round against the floor of the same round; GC off during trials |\n", m.Rounds, m.TrialMs)
	fmt.Fprintf(w, "| frames | %d and %d bytes (without FCS), ethertype %s; CPU at %.0f pps offered |\n\n", m.SmallFrame, m.LargeFrame, m.Ethertype, m.CPURatePPS)
	if svg != "" {
		fmt.Fprintf(w, "![chart](%s)\n\n", svg)
	}
	if len(r.Datapaths) > 0 {
		fmt.Fprintf(w, "## Datapaths\n\nMpps delivered to the receiving process (median, min–max), ×floor = ratio to `%s` in the same round.\n\n", r.Floors.Datapath)
		fmt.Fprintf(w, "| datapath | VM→veth %dB | ×floor | veth→VM %dB | ×floor | VM→veth %dB | veth→VM %dB | RTT p50 / p99 / p99.9 µs | CPU ns/pkt |\n", m.SmallFrame, m.SmallFrame, m.LargeFrame, m.LargeFrame)
		fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for i := range r.Datapaths {
			d := &r.Datapaths[i]
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s |\n", d.Name,
				rangeM(d.Flow(TapToVeth, m.SmallFrame)), ratio(d.Flow(TapToVeth, m.SmallFrame)),
				rangeM(d.Flow(VethToTap, m.SmallFrame)), ratio(d.Flow(VethToTap, m.SmallFrame)),
				rangeM(d.Flow(TapToVeth, m.LargeFrame)), rangeM(d.Flow(VethToTap, m.LargeFrame)),
				us(d.RTTP50us), us(d.RTTP99us), us(d.RTTP999us), ns0(d.CPUNsPerPkt))
		}
		fmt.Fprintf(w, "\n### L2 transparency toward the VM\n\nyes: the frame reached the VM's tap byte for byte.\n\n")
		fmt.Fprintf(w, "| datapath | STP | pause | LACP | 802.1X | LLDP | VLAN | jumbo 9000 |\n|---|---|---|---|---|---|---|---|\n")
		for i := range r.Datapaths {
			d := &r.Datapaths[i]
			if d.L2 == nil {
				continue
			}
			fmt.Fprintf(w, "| %s |", d.Name)
			for _, f := range d.L2.Fields() {
				s := "?"
				if f.Value != nil {
					s = map[bool]string{true: "yes", false: "**no**"}[*f.Value]
				}
				fmt.Fprintf(w, " %s |", s)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "\n### Drops (%d-byte frames, per second of trial)\n\n| datapath | direction | sent Mpps | EAGAIN/s | ENOBUFS/s | receiver socket drops/s | device drops/s | softnet drops/s |\n|---|---|---:|---:|---:|---:|---:|---:|\n", m.SmallFrame)
		for i := range r.Datapaths {
			d := &r.Datapaths[i]
			for _, f := range d.Flows {
				if f.Frame == m.SmallFrame {
					fmt.Fprintf(w, "| %s | %s | %.3f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", d.Name, f.Direction, f.SentPPS/1e6, f.EAGAINps, f.ENOBUFSps, f.SockDropsps, f.DevDropsps, f.Softnetps)
				}
			}
		}
		fmt.Fprintln(w)
	}
	if len(r.ControlPlane) > 0 {
		fmt.Fprintf(w, "## Control plane\n\nOne bidirectional attach on existing devices (ingress qdisc on both, u32 catch-all + mirred egress redirect both ways), %d per round; ×floor = ratio to `%s`.\n\n", m.AttachPairs, r.Floors.ControlPlane)
		fmt.Fprintf(w, "| contender | µs/attach (min–max) | ×floor | allocs/attach | round trips | how |\n|---|---:|---:|---:|---:|---|\n")
		for _, c := range r.ControlPlane {
			allocs := "—"
			if c.AllocsPerAttach != nil {
				allocs = fmt.Sprintf("%.0f", *c.AllocsPerAttach)
			}
			fmt.Fprintf(w, "| %s | %.1f (%.1f–%.1f) | %.1f | %s | %s | %s |\n", c.Name, c.UsPerAttach, c.UsMin, c.UsMax, c.Ratio, allocs, roundTrips(c), c.Description)
		}
		fmt.Fprintln(w)
	}
	if len(r.CNI) > 0 {
		fmt.Fprintf(w, "## CNI\n\n`cnitool add` and `cnitool del` of a conflist chaining ptp (host-local IPAM) and the tap plugin, for a fresh container namespace each time, run in a namespace playing the host (the times include `ip netns exec` and cnitool's own start, alike for every plugin).\n\n")
		fmt.Fprintf(w, "| plugin | ADD ms (min–max) | DEL ms (min–max) | trials | how |\n|---|---:|---:|---:|---|\n")
		for _, c := range r.CNI {
			fmt.Fprintf(w, "| %s | %s | %s | %d | %s |\n", c.Name, cniAdd(c), cniDel(c), c.Trials, c.Description)
		}
		fmt.Fprintln(w)
	}
	if len(r.Scale) > 0 {
		fmt.Fprintf(w, "## Scale\n\nN veth+tap pairs in one namespace: all but the last are wired with pre-encoded raw netlink (floor µs/attach), the last with tcwire's library (µs/attach: median of repeated attach–detach cycles); `show` is one `bin/tcwire show` process listing every redirect, `show DEV` one device's.\n\n")
		fmt.Fprintf(w, "| pairs | µs/attach | µs/attach+detach | floor µs (last pair) | floor µs/attach | show ms | show rows | show max RSS KiB | show DEV ms | kernel bytes/pair |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range r.Scale {
			fmt.Fprintf(w, "| %d | %.1f | %.1f | %.1f | %s | %s | %d | %d | %.1f | %s |\n", s.Pairs, s.UsPerAttach, s.UsPerAttachDetach, s.FloorLastUs, floorUs(s), showMs(s), s.ShowRows, s.ShowMaxRSS, s.ShowOneMs, ns0(s.KernelBytesPerPair))
		}
		fmt.Fprintln(w)
	}
	if t := r.Trafgen; t != nil {
		fmt.Fprintf(w, "## Harness check: trafgen\n\nnetsniff-ng trafgen (%s) and the harness's AF_PACKET sender on the plain veth pair, %d-byte frames, the harness's reader on the other end.\n\n", t.Version, m.SmallFrame)
		fmt.Fprintf(w, "| sender | sent Mpps | delivered Mpps |\n|---|---:|---:|\n| trafgen | %.3f | %.3f |\n| tcwire-bench | %.3f | %.3f |\n\n", t.TrafgenPPS/1e6, t.TrafgenRecv/1e6, t.HarnessPPS/1e6, t.HarnessRecv/1e6)
		if t.Note != "" {
			fmt.Fprintf(w, "%s\n\n", t.Note)
		}
	}
	if len(m.Notes) > 0 {
		fmt.Fprintf(w, "## Notes\n\n")
		for _, n := range m.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
		fmt.Fprintln(w)
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "## Errors\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(w, "- %s\n", e)
		}
	}
	return nil
}

// SVG draws two bar charts by hand: Mpps per datapath at the small frame
// size, both directions, and µs per attach per control-plane contender on a
// log scale.
func SVG(w io.Writer, r *Report) error {
	const (
		width  = 860
		left   = 170
		right  = 90
		barH   = 11
		rowGap = 8
	)
	var b strings.Builder
	y := 30
	bars := func(title string) {
		fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y, esc(title))
		y += 14
	}
	plotW := float64(width - left - right)
	var body strings.Builder
	_ = body
	// Datapaths.
	maxP := 0.0
	for i := range r.Datapaths {
		for _, v := range []*float64{r.Datapaths[i].TapToVethPPS, r.Datapaths[i].VethToTapPPS} {
			if v != nil && *v > maxP {
				maxP = *v
			}
		}
	}
	if len(r.Datapaths) > 0 && maxP > 0 {
		bars(fmt.Sprintf("Mpps delivered, %d-byte frames (median of %d rounds)", r.Method.SmallFrame, r.Method.Rounds))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="#3b6ea8"/><text x="%d" y="%d">VM → far side (the VM writes)</text>`, left, y, left+14, y+9)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="#e08a2c"/><text x="%d" y="%d">far side → VM (the VM reads)</text>`+"\n", left+200, y, left+214, y+9)
		y += 18
		for i := range r.Datapaths {
			d := &r.Datapaths[i]
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-6, y+barH+3, esc(d.Name))
			for j, v := range []*float64{d.TapToVethPPS, d.VethToTapPPS} {
				color := []string{"#3b6ea8", "#e08a2c"}[j]
				yy := y + j*barH
				if v == nil {
					fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#888">n/a</text>`+"\n", left+4, yy+barH-2)
					continue
				}
				wd := *v / maxP * plotW
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/><text x="%.1f" y="%d">%.3f</text>`+"\n",
					left, yy, wd, barH-1, color, float64(left)+wd+4, yy+barH-2, *v/1e6)
			}
			y += 2*barH + rowGap
		}
		y += 16
	}
	// Control plane, log scale.
	if len(r.ControlPlane) > 0 {
		bars("µs per bidirectional attach (log scale, median)")
		lo, hi := math.Inf(1), 0.0
		for _, c := range r.ControlPlane {
			if c.UsPerAttach > 0 {
				lo = math.Min(lo, c.UsPerAttach)
				hi = math.Max(hi, c.UsPerAttach)
			}
		}
		l0 := math.Floor(math.Log10(lo)) - 0.3
		l1 := math.Ceil(math.Log10(hi))
		if l1 <= l0 {
			l1 = l0 + 1
		}
		y += 4
		for _, c := range r.ControlPlane {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-6, y+barH-1, esc(c.Name))
			wd := 0.0
			if c.UsPerAttach > 0 {
				wd = (math.Log10(c.UsPerAttach) - l0) / (l1 - l0) * plotW
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#5a9a5a"/><text x="%.1f" y="%d">%.1f</text>`+"\n",
				left, y, wd, barH+2, float64(left)+wd+4, y+barH, c.UsPerAttach)
			y += barH + 2 + rowGap
		}
		y += 10
	}
	fmt.Fprintf(&b, `<text x="10" y="%d" fill="#666">%s, kernel %s, %d cores</text>`+"\n", y, esc(r.Host.CPUModel), esc(r.Host.Kernel), r.Host.Cores)
	y += 10
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, y, width, y)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	_, err := io.WriteString(w, b.String()+"</svg>\n")
	return err
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
