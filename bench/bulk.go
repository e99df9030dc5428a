package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// The bulk TCP section of the text table and of the Markdown page.

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
