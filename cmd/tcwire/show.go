package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tcwire/tcwire"
)

const showUsage = "usage: tcwire [--netns NS] [--json] show [--modes] [DEV...]"

// state is a device's operstate, and NO-CARRIER as `ip link` says it: mirred
// drops every frame sent to a device without carrier (a persistent tap
// that no VMM holds open).
func state(operstate string, carrier bool) string {
	switch {
	case operstate == "":
		return "-"
	case !carrier:
		return operstate + ",NO-CARRIER"
	}
	return operstate
}

// parseShow reads `show`: the redirects in place, then the devices of the
// macvtap and bridge modes; --modes shows only those (with --json, which
// otherwise prints the redirects alone, as before the modes).
func parseShow(g *globals, args []string) (command, error) {
	fs := newFlagSet("show")
	modes := fs.Bool("modes", false, "show only the devices of the macvtap and bridge modes")
	names, err := parseArgs(fs, g, args, showUsage, 0, -1)
	if err != nil {
		return nil, err
	}
	return func(stdout, _ io.Writer) error {
		var rows []tcwire.Redirect
		var bindings []tcwire.Binding
		var err error
		if !*modes {
			if rows, err = tcwire.ReadRedirects(context.Background(), g.netns, names...); err != nil {
				return fmt.Errorf("show: %w", err)
			}
		}
		if *modes || !g.json {
			if bindings, err = tcwire.ReadBindings(context.Background(), g.netns, names...); err != nil {
				return fmt.Errorf("show: %w", err)
			}
		}
		switch {
		case g.json && *modes:
			return json.NewEncoder(stdout).Encode(bindings)
		case g.json:
			return json.NewEncoder(stdout).Encode(rows)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		if !*modes {
			fmt.Fprintln(w, "DEV\tSTATE\tTARGET\tSTATE\tACTION\tCONTROL\tPARENT\tPREF\tHANDLE\tPACKETS\tBYTES\tUNDELIVERED")
			for _, r := range rows {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s %s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\n", escapeControls(r.Dev), state(r.DevState, r.DevCarrier), escapeControls(r.Target), state(r.TargetState, r.TargetCarrier),
					r.Direction, r.Action, r.Control, r.Parent, r.Pref, r.Handle, r.Packets, r.Bytes, r.Undelivered)
			}
			if len(bindings) == 0 {
				return w.Flush()
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "MODE\tDEV\tTAP\tVIA\tTCWIRE'S")
		for _, b := range bindings {
			via := b.Bridge
			if b.DevNode != "" {
				via = b.DevNode
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\n", b.Mode, escapeControls(b.Dev), escapeControls(b.Tap), escapeControls(via), b.Owned)
		}
		return w.Flush()
	}, nil
}
