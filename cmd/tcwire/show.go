package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/tc"
)

const showUsage = "usage: tcwire [--netns NS] [--json] show [DEV...]"

// shownRedirect is one row of `tcwire show`.
type shownRedirect struct {
	Dev       string `json:"dev"`
	Target    string `json:"target"`
	Direction string `json:"direction"` // egress or ingress (of the target)
	Action    string `json:"action"`    // redirect or mirror
	Control   string `json:"control"`   // stolen, pipe …
	Parent    string `json:"parent"`
	Pref      uint16 `json:"pref"`
	Handle    string `json:"handle"`
	Wire      bool   `json:"wire"` // the shape tcwire installs
	Packets   uint64 `json:"packets"`
	Bytes     uint64 `json:"bytes"`
}

func parseShow(g *globals, args []string) (command, error) {
	names, err := parseArgs(newFlagSet("show"), g, args, showUsage, 0, -1)
	if err != nil {
		return nil, err
	}
	return func(stdout io.Writer) error { return show(g, names, stdout) }, nil
}

func show(g *globals, names []string, stdout io.Writer) error {
	c, err := dial(g)
	if err != nil {
		return err
	}
	defer c.Close()
	links, err := link.List(c)
	if err != nil {
		return fmt.Errorf("show: %w", err)
	}
	byIndex := map[int32]string{}
	byName := map[string]*link.Link{}
	for _, l := range links {
		byIndex[l.Index] = l.Name
		byName[l.Name] = l
	}
	if len(names) == 0 {
		for _, l := range links {
			names = append(names, l.Name)
		}
	}
	devs := make([]tc.Dev, len(names))
	for i, n := range names {
		l, ok := byName[n]
		if !ok {
			return fmt.Errorf("show: device %q: no such device", n)
		}
		devs[i] = tc.Dev{Name: l.Name, Index: l.Index}
	}
	// One qdisc dump for all devices: per device it would be of every
	// device again, quadratic with thousands of pairs.
	hooks, err := tc.ReadHooks(c, devs)
	if err != nil {
		return fmt.Errorf("show: %w", err)
	}
	rows := []shownRedirect{}
	for _, h := range hooks {
		for _, r := range h.Redirects() {
			rows = append(rows, describe(r, h.Dev.Name, byIndex))
		}
	}
	if g.json {
		return json.NewEncoder(stdout).Encode(rows)
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DEV\tTARGET\tACTION\tCONTROL\tPARENT\tPREF\tHANDLE\tPACKETS\tBYTES")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s %s\t%s\t%s\t%d\t%s\t%d\t%d\n", r.Dev, r.Target, r.Direction, r.Action, r.Control, r.Parent, r.Pref, r.Handle, r.Packets, r.Bytes)
	}
	return w.Flush()
}

func describe(r tc.Redirect, dev string, byIndex map[int32]string) shownRedirect {
	target, ok := byIndex[r.TargetIfindex]
	if !ok {
		target = fmt.Sprintf("ifindex %d (gone)", r.TargetIfindex)
	}
	direction, action := "egress", "redirect"
	switch r.Eaction {
	case tc.TCA_INGRESS_REDIR, tc.TCA_INGRESS_MIRROR:
		direction = "ingress"
	}
	switch r.Eaction {
	case tc.TCA_EGRESS_MIRROR, tc.TCA_INGRESS_MIRROR:
		action = "mirror"
	}
	return shownRedirect{
		Dev: dev, Target: target, Direction: direction, Action: action,
		Control: tc.ControlName(r.Action), Parent: r.Parent.String(), Pref: r.Pref,
		Handle: tc.U32HandleString(r.Handle), Wire: r.IsWire(), Packets: r.Packets, Bytes: r.Bytes,
	}
}
