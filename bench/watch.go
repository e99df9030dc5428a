package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Watch is how fast one repairer makes a wire whole again after the VM's
// tap is deleted and made again (a VMM restarted): tcwire's Watch, and the
// floor, a minimal loop that sends the four requests of a fresh wiring.
//
// The clock is an observer of its own (a third netlink socket, subscribed
// to link and tc notifications in the repairer's namespace): it starts
// when the observer reads the kernel's RTM_NEWLINK of the new tap and
// stops when it reads the second of the RTM_NEWTFILTERs that make the
// wire whole (DEV redirecting to the new tap, the new tap to DEV).
type Watch struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Recreations is how many times the tap was made again (and timed).
	Recreations int     `json:"recreations"`
	MinUs       float64 `json:"min_us"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	MaxUs       float64 `json:"max_us"`
	// Ratio is P50us over the floor's.
	Ratio float64 `json:"p50_ratio_to_floor"`
	// ReportedP50us and ReportedP99us are the repairer's own figures
	// (WatchEvent.Latency: from its read of the notification to the
	// kernel's last answer); null for the floor.
	ReportedP50us *float64 `json:"reported_p50_us"`
	ReportedP99us *float64 `json:"reported_p99_us"`
}

// watchTable writes the watch rows of the plain-text report.
func watchTable(w io.Writer, r *Report) {
	if len(r.Watch) == 0 {
		return
	}
	fmt.Fprintf(w, "Watch: a tap deleted and made again, until the wire is whole (µs, the observer's clock; ratio to %s)\n", r.Floors.Watch)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "repairer\trecreations\tp50\tp99\tmin–max\t×floor\tits own p50/p99\thow")
	for _, x := range r.Watch {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.0f–%.0f\t%.2f\t%s/%s\t%s\n", x.Name, x.Recreations, x.P50us, x.P99us, x.MinUs, x.MaxUs, x.Ratio, ns0(x.ReportedP50us), ns0(x.ReportedP99us), x.Description)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// watchMarkdown writes the watch section of RESULTS.md.
func watchMarkdown(w io.Writer, r *Report) {
	if len(r.Watch) == 0 {
		return
	}
	fmt.Fprintf(w, "## Keeping a wiring whole\n\nA VMM restarted: the harness closes the tap's only file (the tap goes) and makes it again (TUNSETIFF, a new ifindex) while a repairer keeps the pair wired. The clock is a third netlink socket in the namespace, subscribed to link and tc notifications: from its read of the new tap's RTM_NEWLINK to its read of the second RTM_NEWTFILTER that makes the wire whole (DEV to the new tap, the new tap to DEV). It wakes on the same notifications as the repairer, so its reading delays are in the figure at both ends. The repairers run interleaved, one recreation each in turn, in namespaces of their own. `%s` is the floor: a minimal loop on one raw socket subscribed to link notifications, which deletes DEV's ingress qdisc when the tap goes (untimed) and, on the new tap's RTM_NEWLINK, sends the four requests of a fresh wiring in one write and reads their acknowledgements on that socket. Its own p50/p99: the repairer's figure from its read of the notification to the kernel's last answer.\n\n", r.Floors.Watch)
	fmt.Fprintf(w, "| repairer | recreations | p50 µs | p99 µs | min–max µs | ×floor (p50) | its own p50 / p99 µs | how |\n|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, x := range r.Watch {
		fmt.Fprintf(w, "| %s | %d | %.0f | %.0f | %.0f–%.0f | %.2f | %s / %s | %s |\n", x.Name, x.Recreations, x.P50us, x.P99us, x.MinUs, x.MaxUs, x.Ratio, ns0(x.ReportedP50us), ns0(x.ReportedP99us), x.Description)
	}
	fmt.Fprintln(w)
}
