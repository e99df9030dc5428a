package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// The SVG bar chart, drawn by hand.

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
