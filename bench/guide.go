package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Advice is one row of the "which wiring when" table: for a need, the
// wiring the figures of this run pick, and why.
type Advice struct {
	Need string
	Use  []string // the pick first, then those the run cannot tell from it
	Why  string
}

// score is a figure with its spread, for ranking.
type score struct {
	name      string
	v, lo, hi float64
}

// pick ranks candidates and returns the best and every other candidate
// whose min–max range overlaps the best's: this run cannot tell them apart.
func pick(cands []score) (best score, ties []score) {
	slices.SortStableFunc(cands, func(a, b score) int {
		switch {
		case a.v > b.v:
			return -1
		case a.v < b.v:
			return 1
		}
		return 0
	})
	best = cands[0]
	for _, c := range cands[1:] {
		if c.hi >= best.lo && c.lo <= best.hi {
			ties = append(ties, c)
		}
	}
	return best, ties
}

func names(best score, ties []score) []string {
	out := []string{best.name}
	for _, t := range ties {
		out = append(out, t.name)
	}
	return out
}

// wirings are the datapaths that join a veth to a VM (not the floor, not
// the ceilings).
func (r *Report) wirings() []*Datapath {
	var out []*Datapath
	for i := range r.Datapaths {
		d := &r.Datapaths[i]
		if d.Name == r.Floors.Datapath || slices.Contains(r.Ceilings, d.Name) || d.VMSide == "" {
			continue
		}
		out = append(out, d)
	}
	return out
}

// ppsScore is the mean of the two directions' small-frame medians, with
// the means of their minima and maxima as its spread.
func (r *Report) ppsScore(d *Datapath) (score, bool) {
	a, b := d.Flow(TapToVeth, r.Method.SmallFrame), d.Flow(VethToTap, r.Method.SmallFrame)
	if a == nil || b == nil {
		return score{}, false
	}
	return score{name: d.Name, v: (a.PPS + b.PPS) / 2, lo: (a.PPSMin + b.PPSMin) / 2, hi: (a.PPSMax + b.PPSMax) / 2}, true
}

func (r *Report) bestPPS(need string, ok func(*Datapath) bool, what string) *Advice {
	var cands []score
	for _, d := range r.wirings() {
		if s, has := r.ppsScore(d); has && ok(d) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	best, ties := pick(cands)
	why := fmt.Sprintf("%s%.3f Mpps (%d-byte frames, mean of both directions)", what, best.v/1e6, r.Method.SmallFrame)
	if len(ties) > 0 {
		var t []string
		for _, c := range ties {
			t = append(t, fmt.Sprintf("%s %.3f", c.name, c.v/1e6))
		}
		why += "; within the spread: " + strings.Join(t, ", ")
	}
	return &Advice{Need: need, Use: names(best, ties), Why: why}
}

// Guidance decides, from the figures of r, which wiring suits which need.
func Guidance(r *Report) []Advice {
	var out []Advice
	add := func(a *Advice) {
		if a != nil {
			out = append(out, *a)
		}
	}
	// Full L2 transparency: every frame kind reached the VM.
	var l2ok []string
	var misses []string
	for _, d := range r.wirings() {
		if d.L2 == nil {
			continue
		}
		if d.L2.Transparent() {
			l2ok = append(l2ok, d.Name)
			continue
		}
		var m []string
		for _, f := range d.L2.Fields() {
			if f.Value == nil || !*f.Value {
				m = append(m, f.Name)
			}
		}
		misses = append(misses, fmt.Sprintf("%s drops %s", d.Name, strings.Join(m, ", ")))
	}
	if len(l2ok)+len(misses) > 0 {
		a := r.bestPPS("full L2 transparency (STP, pause, LACP, 802.1X, LLDP, unicast to other MACs reach the VM)",
			func(d *Datapath) bool { return d.L2 != nil && d.L2.Transparent() }, "passes every frame kind of the L2 test; ")
		if a == nil {
			a = &Advice{Need: "full L2 transparency", Use: []string{"none"}, Why: "no wiring passed every frame kind"}
		}
		a.Why += ". " + strings.Join(misses, "; ")
		add(a)
	}
	add(r.bestPPS("the VMM opens the tap by name (Firecracker, qemu ifname=, Cloud Hypervisor tap=)",
		func(d *Datapath) bool { return d.VMSide == "tap" }, "a tap; "))
	add(r.bestPPS("many VMs on one segment", func(d *Datapath) bool { return d.SharedSegment }, "a shared segment; "))
	add(r.bestPPS("highest packet rate", func(*Datapath) bool { return true }, ""))
	// Bulk: the wirings with offloads, not the relay's ceiling.
	var bulk []score
	for i := range r.Bulk {
		b := &r.Bulk[i]
		g, h := b.Flow(GuestToHost), b.Flow(HostToGuest)
		if b.Ceiling || !b.Offloads || g == nil || h == nil {
			continue
		}
		bulk = append(bulk, score{name: b.Name, v: (g.Gbps + h.Gbps) / 2, lo: (g.GbpsMin + h.GbpsMin) / 2, hi: (g.GbpsMax + h.GbpsMax) / 2})
	}
	if len(bulk) > 0 {
		best, ties := pick(bulk)
		why := fmt.Sprintf("%.2f Gbit/s (TCP, mean of both directions, offloads on)", best.v)
		if len(ties) > 0 {
			var t []string
			for _, c := range ties {
				t = append(t, fmt.Sprintf("%s %.2f", c.name, c.v))
			}
			why += "; within the spread: " + strings.Join(t, ", ")
		}
		for _, x := range []struct{ name, what string }{{"relay", "the relay alone, no wiring (the harness's ceiling)"}, {"tcwire-offloads-off", "tcwire without offloads"}} {
			if b := r.BulkByName(x.name); b != nil && b.GuestToHostGbps != nil && b.HostToGuestGbps != nil {
				why += fmt.Sprintf("; %s: %.2f", x.what, (*b.GuestToHostGbps+*b.HostToGuestGbps)/2)
			}
		}
		out = append(out, Advice{Need: "highest bulk Gbit/s", Use: names(best, ties), Why: why})
		// Least CPU per gigabit: ranked by its negative, so that pick's
		// "higher is better" holds.
		var cpu []score
		for _, c := range bulk {
			b := r.BulkByName(c.name)
			g, h := b.Flow(GuestToHost), b.Flow(HostToGuest)
			cpu = append(cpu, score{name: c.name, v: -(g.CPUPerGbit + h.CPUPerGbit) / 2,
				lo: -(g.CPUPerGbitMax + h.CPUPerGbitMax) / 2, hi: -(g.CPUPerGbitMin + h.CPUPerGbitMin) / 2})
		}
		best, ties = pick(cpu)
		why = fmt.Sprintf("%.0f CPU ms per Gbit (all CPUs, mean of both directions)", -best.v)
		if len(ties) > 0 {
			var t []string
			for _, c := range ties {
				t = append(t, fmt.Sprintf("%s %.0f", c.name, -c.v))
			}
			why += "; within the spread: " + strings.Join(t, ", ")
		}
		out = append(out, Advice{Need: "least CPU per bulk gigabit", Use: names(best, ties), Why: why})
	}
	// The host's own frames kept from the VM.
	var quiet, noisy []string
	for _, d := range r.wirings() {
		if d.L2 == nil || d.L2.HostInjected == nil {
			continue
		}
		if *d.L2.HostInjected == 0 {
			quiet = append(quiet, d.Name)
		} else {
			noisy = append(noisy, fmt.Sprintf("%s %d", d.Name, *d.L2.HostInjected))
		}
	}
	if len(quiet)+len(noisy) > 0 {
		a := Advice{Need: "the VM hears nothing from the host's own stack", Use: quiet,
			Why: fmt.Sprintf("0 frames in the first %.0f s of the wiring", r.Method.L2WindowS)}
		if len(quiet) == 0 {
			a.Use, a.Why = []string{"none"}, "every wiring let the host's stack through"
		}
		if len(noisy) > 0 {
			a.Why += "; frames from the host's stack: " + strings.Join(noisy, ", ")
		}
		out = append(out, a)
	}
	return out
}

func guidanceMarkdown(w io.Writer, r *Report) {
	g := Guidance(r)
	if len(g) == 0 {
		return
	}
	fmt.Fprintf(w, "## Which wiring when\n\nDecided by the figures above (the first name is this run's pick; the others in the same cell are within its min–max spread, which this run cannot tell apart).\n\n| if you need | use | because, in this run |\n|---|---|---|\n")
	for _, a := range g {
		fmt.Fprintf(w, "| %s | %s | %s |\n", a.Need, strings.Join(a.Use, ", "), a.Why)
	}
	fmt.Fprintln(w)
}
