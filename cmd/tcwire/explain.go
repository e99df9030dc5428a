package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/link/linkschema"
	"github.com/tcwire/tcwire/nl/annotate"
	"github.com/tcwire/tcwire/tc/tcschema"
)

const explainUsage = "usage: tcwire [--netns NS] [--json] explain attach|detach DEV TAP [--mode tc|macvtap|bridge] [--mirror]"

// parseExplain reads `explain attach|detach DEV TAP`: it prints the plan
// that attach or detach would carry out now, read from the live state
// without changing it — every step with its command line and, for a
// netlink request, an annotated hex dump: the byte-level reference.
func parseExplain(g *globals, args []string) (command, error) {
	if len(args) == 0 {
		return nil, usagef(explainUsage, "explain: which command?")
	}
	what := args[0]
	if what == "help" || what == "-h" || what == "--help" {
		return nil, &helpError{usage: explainUsage}
	}
	if what != "attach" && what != "detach" {
		return nil, usagef(explainUsage, "explain: cannot explain %q (attach or detach)", what)
	}
	fs := newFlagSet("explain")
	var mf modeFlags
	mf.register(fs, true)
	pos, err := parseArgs(fs, g, args[1:], explainUsage, 2, 2)
	if err != nil {
		return nil, err
	}
	o := tcwire.Options{NetNS: g.netns, Dev: pos[0], Tap: pos[1]}
	if err := mf.options(fs, explainUsage, &o); err != nil {
		return nil, err
	}
	if err := validate(explainUsage, o); err != nil {
		return nil, err
	}
	return func(stdout, _ io.Writer) error {
		plan := tcwire.PlanAttach
		if what == "detach" {
			plan = tcwire.PlanDetach
		}
		p, err := plan(context.Background(), o)
		if err != nil {
			return fmt.Errorf("explain %s %s %s: %w", what, o.Dev, o.Tap, err)
		}
		if g.json {
			return json.NewEncoder(stdout).Encode(planJSON(p))
		}
		return printPlan(stdout, p)
	}, nil
}

func printPlan(w io.Writer, p *tcwire.Plan) error {
	fmt.Fprintf(w, "# tcwire %s %s %s%s: %d steps, read from the kernel's state now; nothing is changed (netlink seq and pid are filled in when sent)\n",
		p.Op, p.Options.Dev, p.Options.Tap, modeArgs(p.Options), len(p.Steps))
	for _, n := range p.Notes {
		fmt.Fprintf(w, "# %s\n", n)
	}
	schema := annotate.Merge(tcschema.Schema, linkschema.Schema)
	for i, s := range p.Steps {
		fmt.Fprintf(w, "\n# %d. %s\n", i+1, s.Cmd)
		if s.Request == nil {
			fmt.Fprintln(w, "(no netlink message: ioctls on /dev/net/tun, or a file in /dev)")
			continue
		}
		raw, err := s.Request.MarshalBinary()
		if err != nil {
			return err
		}
		fmt.Fprint(w, annotate.Dump(raw, schema))
	}
	return nil
}

// explainedStep is a step of --json explain.
type explainedStep struct {
	Cmd string `json:"cmd"`
	// Message is the netlink message in hex (seq and pid zero); empty for
	// a step on /dev/net/tun.
	Message string `json:"message,omitempty"`
}

type explainedPlan struct {
	Op     string          `json:"op"`
	Mode   string          `json:"mode"`
	Mirror bool            `json:"mirror,omitempty"`
	Dev    string          `json:"dev"`
	Tap    string          `json:"tap"`
	Notes  []string        `json:"notes"`
	Steps  []explainedStep `json:"steps"`
}

func planJSON(p *tcwire.Plan) explainedPlan {
	out := explainedPlan{Op: p.Op, Mode: p.Options.Mode.String(), Mirror: p.Options.Mirror, Dev: p.Options.Dev, Tap: p.Options.Tap, Notes: append([]string{}, p.Notes...), Steps: []explainedStep{}}
	for _, s := range p.Steps {
		e := explainedStep{Cmd: s.Cmd}
		if s.Request != nil {
			if raw, err := s.Request.MarshalBinary(); err == nil {
				e.Message = hex.EncodeToString(raw)
			}
		}
		out.Steps = append(out.Steps, e)
	}
	return out
}

// modeArgs are the flags of the plan's mode on a command line.
func modeArgs(o tcwire.Options) string {
	s := ""
	if o.Mode.String() != string(tcwire.ModeTC) {
		s += " --mode " + o.Mode.String()
	}
	if o.Mirror {
		s += " --mirror"
	}
	return s
}
