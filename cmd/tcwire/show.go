package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/tcwire/tcwire"
)

const showUsage = "usage: tcwire [--netns NS] [--json] show [DEV...]"

func parseShow(g *globals, args []string) (command, error) {
	names, err := parseArgs(newFlagSet("show"), g, args, showUsage, 0, -1)
	if err != nil {
		return nil, err
	}
	return func(stdout io.Writer) error {
		rows, err := tcwire.ReadRedirects(context.Background(), g.netns, names...)
		if err != nil {
			return fmt.Errorf("show: %w", err)
		}
		if g.json {
			// The redirects, as before the modes: what scripts read.
			return json.NewEncoder(stdout).Encode(rows)
		}
		bindings, err := tcwire.ReadBindings(context.Background(), g.netns, names...)
		if err != nil {
			return fmt.Errorf("show: %w", err)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "DEV\tTARGET\tACTION\tCONTROL\tPARENT\tPREF\tHANDLE\tPACKETS\tBYTES")
		for _, r := range rows {
			fmt.Fprintf(w, "%s\t%s\t%s %s\t%s\t%s\t%d\t%s\t%d\t%d\n", r.Dev, r.Target, r.Direction, r.Action, r.Control, r.Parent, r.Pref, r.Handle, r.Packets, r.Bytes)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		// The macvtap and bridge modes, in a table of their own.
		if len(bindings) == 0 {
			return nil
		}
		fmt.Fprintln(w, "\nMODE\tDEV\tTAP\tVIA\tTCWIRE'S")
		for _, b := range bindings {
			via := b.Bridge
			if b.DevNode != "" {
				via = b.DevNode
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\n", b.Mode, b.Dev, b.Tap, via, b.Owned)
		}
		return w.Flush()
	}, nil
}
