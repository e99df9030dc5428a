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
	if l.HostInjected != nil {
		parts = append(parts, fmt.Sprintf("(host sent %d)", *l.HostInjected))
	}
	return strings.Join(parts, " ")
}

// L2Field is one entry of L2 with its JSON name and a column title.
type L2Field struct {
	Name, Title string
	Value       *bool
}

// Fields lists the frame kinds of L2 in schema order.
func (l *L2) Fields() []L2Field {
	return []L2Field{{"stp", "STP", l.STP}, {"pause", "pause", l.Pause}, {"lacp", "LACP", l.LACP}, {"dot1x", "802.1X", l.Dot1X},
		{"lldp", "LLDP", l.LLDP}, {"broadcast", "broadcast", l.Broadcast}, {"other_unicast", "unicast to another MAC", l.OtherUnicast},
		{"vlan", "VLAN", l.VLAN}, {"jumbo", "jumbo 9000", l.Jumbo}}
}

// Transparent reports whether every frame kind reached the VM.
func (l *L2) Transparent() bool {
	for _, f := range l.Fields() {
		if f.Value == nil || !*f.Value {
			return false
		}
	}
	return true
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
	slowReaderTable(w, r)
	bulkTable(w, r)
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
	batchTable(w, r)
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
	watchTable(w, r)
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

func intOr(v *int) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprint(*v)
}

func gbitRange(f *BulkFlow) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", f.Gbps, f.GbpsMin, f.GbpsMax)
}

func cpuRange(f *BulkFlow) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f (%.0f–%.0f)", f.CPUPerGbit, f.CPUPerGbitMin, f.CPUPerGbitMax)
}

func maxFrame(b *Bulk) string {
	var parts []string
	for _, f := range b.Flows {
		parts = append(parts, fmt.Sprint(f.MaxFrame))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " / ")
}

func bulkTable(w io.Writer, r *Report) {
	if len(r.Bulk) == 0 {
		return
	}
	fmt.Fprintf(w, "Bulk TCP (iperf3 guest ↔ host, %d s × %d rounds; Gbit/s median; CPU = all CPUs' busy ms per Gbit)\n", r.Method.BulkSecs, r.Method.BulkRounds)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "wiring\tguest→host Gbit/s\thost→guest Gbit/s\tCPU ms/Gbit\tretransmits (spurious) g→h/h→g\tdevice drops g→h/h→g\tlargest frame g→h/h→g")
	for i := range r.Bulk {
		b := &r.Bulk[i]
		g, hg := b.Flow(GuestToHost), b.Flow(HostToGuest)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s/%s\t%s/%s\t%s\n", b.Name, gbitRange(g), gbitRange(hg), ns0(b.CPUPerGbit), retrans(g), retrans(hg), drops(g), drops(hg), maxFrame(b))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func retrans(f *BulkFlow) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f (%.0f)", f.Retransmits, f.Spurious)
}

func drops(f *BulkFlow) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%.0f", f.DevDrops)
}

func bulkMarkdown(w io.Writer, r *Report) {
	if len(r.Bulk) == 0 {
		return
	}
	m := r.Method
	fmt.Fprintf(w, "## Bulk TCP throughput\n\n")
	fmt.Fprintf(w, "iperf3 (one TCP stream, %d s, %d rounds, wirings interleaved with the order rotated) between a guest namespace and the veth's peer. The guest's tap (MTU %d, checksum and TSO offloads on) stands for the guest kernel; a relay copies its frames with the virtio-net header to the wiring's VM side (tap or macvtap file, the same offloads on) and back, as a VMM's virtio-net backend does, so GSO frames cross whole (largest frame). Gbit/s: the receiver's goodput, median (min–max); retransmits (in brackets: the spurious ones, which the receiver had already — its DSACKs tell the sender; reordering, not loss) and device drops (rx+tx dropped of every device in the wiring's and the guest's namespaces) are medians per trial. CPU: every CPU's busy time (/proc/stat, other work on the host included) per gigabit delivered, in ms; the headline is the mean of both directions. `%s` is the relay between two taps with no wiring: the harness's own ceiling. `%s` shows what offloads are worth.\n\n", m.BulkSecs, m.BulkRounds, m.GuestMTU, "relay", "tcwire-offloads-off")
	fmt.Fprintf(w, "| wiring | guest→host Gbit/s | host→guest Gbit/s | CPU ms/Gbit | CPU ms/Gbit guest→host | CPU ms/Gbit host→guest | retransmits (spurious) g→h / h→g | device drops g→h / h→g | largest frame g→h / h→g |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i := range r.Bulk {
		b := &r.Bulk[i]
		g, hg := b.Flow(GuestToHost), b.Flow(HostToGuest)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s |\n", b.Name, gbitRange(g), gbitRange(hg), ns0(b.CPUPerGbit), cpuRange(g), cpuRange(hg), retrans(g), retrans(hg), drops(g), drops(hg), maxFrame(b))
	}
	fmt.Fprintln(w)
}

// senderTrial is a slow-reader trial with the name of its sender.
type senderTrial struct {
	Sender string
	*SlowTrial
}

// slowTrials lists d's slow-reader trials by sender.
func slowTrials(d *Datapath) []senderTrial {
	if d.SlowReader == nil {
		return nil
	}
	out := []senderTrial{{"socket", &d.SlowReader.Socket}}
	if d.SlowReader.Forwarded != nil {
		out = append(out, senderTrial{"forwarded", d.SlowReader.Forwarded})
	}
	return out
}

func slowReaderTable(w io.Writer, r *Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	n := 0
	for i := range r.Datapaths {
		d := &r.Datapaths[i]
		for _, s := range slowTrials(d) {
			if n == 0 {
				fmt.Fprintf(w, "A slow VM (reads at most %.0f frames/s; far side → VM, %d-byte frames, per second)\n", r.Method.SlowReaderPPS, r.Method.SmallFrame)
				fmt.Fprintln(tw, "datapath\tsender\tdelivered\tsent\tEAGAIN\tENOBUFS\tdevice drops")
			}
			n++
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\n", d.Name, s.Sender, s.DeliveredPPS, s.SentPPS, s.EAGAINps, s.ENOBUFSps, s.DevDropsps)
		}
	}
	if n > 0 {
		tw.Flush()
		fmt.Fprintln(w)
	}
}

// slowReaderMarkdown: where the frames go that a slow VM cannot take.
func slowReaderMarkdown(w io.Writer, r *Report) {
	any := false
	for i := range r.Datapaths {
		any = any || r.Datapaths[i].SlowReader != nil
	}
	if !any {
		return
	}
	fmt.Fprintf(w, "\n### A slow VM\n\nThe far side floods %d-byte frames toward a VM side that reads at most %.0f frames/s, from two senders: its AF_PACKET socket (a local sender, whose send buffer the frames are charged to), and a tap on the far side whose frames tc redirects out of the veth's peer (forwarded: like frames from a NIC, no send buffer holds them back). With a tap wiring the frames the VM cannot take are dropped at the tap (device drops) and the sender goes on. A macvtap does not release what it queues for its reader: a local sender's frames stay charged to its socket, which gets EAGAIN and is held to the VM's pace — on a real host a container's socket behind the veth, stalled for every destination it sends to. Forwarded frames have no socket to push back on: there a full macvtap queue drops, as a tap does.\n\n", r.Method.SmallFrame, r.Method.SlowReaderPPS)
	fmt.Fprintf(w, "| datapath | sender | delivered/s | sent/s | sender EAGAIN/s | ENOBUFS/s | device drops/s |\n|---|---|---:|---:|---:|---:|---:|\n")
	for i := range r.Datapaths {
		d := &r.Datapaths[i]
		for _, s := range slowTrials(d) {
			fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f |\n", d.Name, s.Sender, s.DeliveredPPS, s.SentPPS, s.EAGAINps, s.ENOBUFSps, s.DevDropsps)
		}
	}
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
	fmt.Fprintf(w, "| frames | %d and %d bytes (without FCS), ethertype %s; CPU at %.0f pps offered |\n", m.SmallFrame, m.LargeFrame, m.Ethertype, m.CPURatePPS)
	if len(r.Bulk) > 0 {
		fmt.Fprintf(w, "| bulk TCP | iperf3, one stream, %d s trials × %d rounds, rows interleaved and rotated; guest MTU %d, offloads csum+TSO4+TSO6 |\n", m.BulkSecs, m.BulkRounds, m.GuestMTU)
	}
	fmt.Fprintln(w)
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
		fmt.Fprintf(w, "\n### L2 transparency toward the VM\n\nyes: the frame reached the VM's tap byte for byte. host frames: frames the VM side read in the first %.0f s of the wiring that the harness did not send (the host's own stack: IPv6 DAD, MLD reports, router solicitations).\n\n", m.L2WindowS)
		var l2 *L2
		for i := range r.Datapaths {
			if r.Datapaths[i].L2 != nil {
				l2 = r.Datapaths[i].L2
				break
			}
		}
		if l2 != nil {
			fmt.Fprintf(w, "| datapath |")
			for _, f := range l2.Fields() {
				fmt.Fprintf(w, " %s |", f.Title)
			}
			fmt.Fprintf(w, " host frames |\n|---|%s---:|\n", strings.Repeat("---|", len(l2.Fields())))
		}
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
			fmt.Fprintf(w, " %s |\n", intOr(d.L2.HostInjected))
		}
		slowReaderMarkdown(w, r)
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
	bulkMarkdown(w, r)
	guidanceMarkdown(w, r)
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
	batchMarkdown(w, r)
	if len(r.CNI) > 0 {
		fmt.Fprintf(w, "## CNI\n\n`cnitool add` and `cnitool del` of a conflist chaining ptp (host-local IPAM) and the tap plugin, for a fresh container namespace each time, run in a namespace playing the host (the times include `ip netns exec` and cnitool's own start, alike for every plugin).\n\n")
		fmt.Fprintf(w, "| plugin | ADD ms (min–max) | DEL ms (min–max) | trials | how |\n|---|---:|---:|---:|---|\n")
		for _, c := range r.CNI {
			fmt.Fprintf(w, "| %s | %s | %s | %d | %s |\n", c.Name, cniAdd(c), cniDel(c), c.Trials, c.Description)
		}
		fmt.Fprintln(w)
	}
	watchMarkdown(w, r)
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
	// panel draws bar pairs (two directions per row) scaled to the largest
	// value; nothing when there is none.
	panel := func(title, legendA, legendB string, rows []pairRow, label func(float64) string) {
		top := 0.0
		for _, r := range rows {
			for _, v := range []*float64{r.a, r.b} {
				if v != nil && *v > top {
					top = *v
				}
			}
		}
		if top == 0 {
			return
		}
		bars(title)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="#3b6ea8"/><text x="%d" y="%d">%s</text>`, left, y, left+14, y+9, esc(legendA))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="#e08a2c"/><text x="%d" y="%d">%s</text>`+"\n", left+200, y, left+214, y+9, esc(legendB))
		y += 18
		for _, r := range rows {
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-6, y+barH+3, esc(r.name))
			for j, v := range []*float64{r.a, r.b} {
				color := []string{"#3b6ea8", "#e08a2c"}[j]
				yy := y + j*barH
				if v == nil {
					fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#888">n/a</text>`+"\n", left+4, yy+barH-2)
					continue
				}
				wd := *v / top * plotW
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n",
					left, yy, wd, barH-1, color, float64(left)+wd+4, yy+barH-2, label(*v))
			}
			y += 2*barH + rowGap
		}
		y += 16
	}
	var dps, bulk []pairRow
	for i := range r.Datapaths {
		d := &r.Datapaths[i]
		dps = append(dps, pairRow{d.Name, d.TapToVethPPS, d.VethToTapPPS})
	}
	panel(fmt.Sprintf("Mpps delivered, %d-byte frames (median of %d rounds)", r.Method.SmallFrame, r.Method.Rounds),
		"VM → far side (the VM writes)", "far side → VM (the VM reads)", dps, func(v float64) string { return fmt.Sprintf("%.3f", v/1e6) })
	for _, bk := range r.Bulk {
		bulk = append(bulk, pairRow{bk.Name, bk.GuestToHostGbps, bk.HostToGuestGbps})
	}
	panel(fmt.Sprintf("Gbit/s, bulk TCP through each wiring (iperf3, median of %d rounds)", r.Method.BulkRounds),
		"guest → host", "host → guest", bulk, func(v float64) string { return fmt.Sprintf("%.2f", v) })
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

// pairRow is one row of a two-direction bar panel.
type pairRow struct {
	name string
	a, b *float64
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
