package bench

import (
	"fmt"
	"io"
	"strings"
)

// The Markdown page, bench/RESULTS.md.

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
