package bench

import (
	"fmt"
	"io"
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
