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
			return json.NewEncoder(stdout).Encode(rows)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "DEV\tSTATE\tTARGET\tSTATE\tACTION\tCONTROL\tPARENT\tPREF\tHANDLE\tPACKETS\tBYTES\tUNDELIVERED")
		for _, r := range rows {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s %s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\n", r.Dev, state(r.DevState, r.DevCarrier), r.Target, state(r.TargetState, r.TargetCarrier),
				r.Direction, r.Action, r.Control, r.Parent, r.Pref, r.Handle, r.Packets, r.Bytes, r.Undelivered)
		}
		return w.Flush()
	}, nil
}
