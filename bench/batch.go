package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Batch is one contender of the batch section at one shape: many pairs
// wired in one go, their taps created.
type Batch struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Shape is "N" (N pairs in one namespace) or "NSxN" (NS namespaces
	// of N pairs each); Pairs is their total.
	Shape      string  `json:"shape"`
	Pairs      int     `json:"pairs"`
	Namespaces int     `json:"namespaces"`
	Ms         float64 `json:"ms_per_run"`
	MsMin      float64 `json:"ms_min"`
	MsMax      float64 `json:"ms_max"`
	UsPerPair  float64 `json:"us_per_pair"`
	// MaxRSSKiB is the largest resident set of the contender's processes
	// (the largest one of several); null for the floor, which runs in
	// the harness.
	MaxRSSKiB *float64 `json:"max_rss_kib"`
	// Ratio is the median of the per-round ratios to the floor of the
	// same round.
	Ratio float64 `json:"ratio_to_floor"`
	Runs  int     `json:"runs"`
}

func rss(b Batch) string {
	if b.MaxRSSKiB == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f", *b.MaxRSSKiB/1024)
}

// batchRatio is a's median time over b's, of the same shape ("—" without
// b).
func batchRatio(r *Report, a Batch, name string) string {
	for _, b := range r.Batch {
		if b.Shape == a.Shape && b.Name == name && a.Ms > 0 {
			return fmt.Sprintf("%.1f", b.Ms/a.Ms)
		}
	}
	return "—"
}

// batchRows is the batch section's rows: shape, contender, ms (min–max),
// µs/pair, ×floor, max RSS MiB, and how much faster than the other
// contenders tcwire-batch is.
func batchRows(r *Report) [][]string {
	var rows [][]string
	for _, b := range r.Batch {
		faster := ""
		if b.Name == r.Floors.BatchTcwire {
			faster = fmt.Sprintf("%s× / %s×", batchRatio(r, b, r.Floors.BatchIPTC), batchRatio(r, b, r.Floors.BatchPerPair))
		}
		rows = append(rows, []string{b.Shape, b.Name, fmt.Sprintf("%.1f (%.1f–%.1f)", b.Ms, b.MsMin, b.MsMax), fmt.Sprintf("%.1f", b.UsPerPair),
			fmt.Sprintf("%.2f", b.Ratio), rss(b), faster, b.Description})
	}
	return rows
}

const batchIntro = "Many pairs wired in one go, taps created: N pairs in one namespace, or NS namespaces × N pairs; ms per run (median, min–max), ×floor = median per-round ratio to the floor of the same round, max RSS of the contender's processes"

func batchTable(w io.Writer, r *Report) {
	if len(r.Batch) == 0 {
		return
	}
	fmt.Fprintf(w, "Batch: %s\n", batchIntro)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "shape\tcontender\tms/run (min–max)\tµs/pair\t×floor\tmax RSS MiB\tfaster than %s / %s\thow\n", r.Floors.BatchIPTC, r.Floors.BatchPerPair)
	for _, row := range batchRows(r) {
		for i, c := range row {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func batchMarkdown(w io.Writer, r *Report) {
	if len(r.Batch) == 0 {
		return
	}
	fmt.Fprintf(w, "## Batch\n\n%s. The last numeric column says how many times faster `%s` is than `%s` and than `%s`.\n\n", batchIntro, r.Floors.BatchTcwire, r.Floors.BatchIPTC, r.Floors.BatchPerPair)
	fmt.Fprintf(w, "| shape | contender | ms/run (min–max) | µs/pair | ×floor | max RSS MiB | faster than %s / %s | how |\n|---|---|---:|---:|---:|---:|---:|---|\n", r.Floors.BatchIPTC, r.Floors.BatchPerPair)
	for _, row := range batchRows(r) {
		fmt.Fprintf(w, "|")
		for _, c := range row {
			fmt.Fprintf(w, " %s |", c)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for _, g := range batchGoals(r) {
		fmt.Fprintf(w, "- %s\n", g)
	}
	fmt.Fprintln(w)
}

// The batch section's goals (issue 20).
const (
	goalVsIPTC    = 2.0  // at least this many times faster than ip+tc batch
	goalVsFloor   = 1.3  // at most this many times the floor
	goalVsPerPair = 20.0 // at least this many times faster than a process a pair
	goalRSSMiB    = 30.0 // at most this resident set at 1000 pairs
)

// batchGoals says, shape by shape, whether tcwire-batch met each goal.
func batchGoals(r *Report) []string {
	met := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	var out []string
	for _, b := range r.Batch {
		if b.Name != r.Floors.BatchTcwire {
			continue
		}
		var parts []string
		for _, o := range r.Batch {
			if o.Shape != b.Shape || b.Ms <= 0 {
				continue
			}
			switch o.Name {
			case r.Floors.BatchIPTC:
				parts = append(parts, fmt.Sprintf("%.1f× faster than %s (goal ≥ %.0f×: %s)", o.Ms/b.Ms, o.Name, goalVsIPTC, met(o.Ms/b.Ms >= goalVsIPTC)))
			case r.Floors.BatchPerPair:
				parts = append(parts, fmt.Sprintf("%.0f× faster than %s (goal ≥ %.0f×: %s)", o.Ms/b.Ms, o.Name, goalVsPerPair, met(o.Ms/b.Ms >= goalVsPerPair)))
			}
		}
		parts = append(parts, fmt.Sprintf("%.2f× the floor (goal ≤ %.1f×: %s)", b.Ratio, goalVsFloor, met(b.Ratio <= goalVsFloor)))
		if b.MaxRSSKiB != nil && b.Pairs >= 1000 {
			parts = append(parts, fmt.Sprintf("max RSS %.1f MiB (goal ≤ %.0f MiB: %s)", *b.MaxRSSKiB/1024, goalRSSMiB, met(*b.MaxRSSKiB/1024 <= goalRSSMiB)))
		}
		out = append(out, fmt.Sprintf("%s at %s: %s.", b.Name, b.Shape, strings.Join(parts, "; ")))
	}
	return out
}
