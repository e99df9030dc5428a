package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/internal/qmp"
)

const watchUsage = `usage: tcwire [--netns NS] [--json] watch [--link-state] [--qmp PATH --qmp-netdev ID] [--exec CMD] DEV TAP
       tcwire [--netns NS] [--json] watch -batch FILE   (each line: DEV TAP [--link-state] [--qmp PATH --qmp-netdev ID] [--exec CMD]; # comments)`

// tellTimeout bounds one telling of the VM (a QMP exchange, a command).
const tellTimeout = 10 * time.Second

// watchPair is one pair to watch and how its link state is carried.
type watchPair struct {
	o  tcwire.Options
	ls tcwire.LinkState
}

// parsePair parses the arguments of one pair, from the command line or a
// batch line: DEV TAP and its flags.
func parsePair(g *globals, args []string, batch *string) (*watchPair, error) {
	fs := newFlagSet("watch")
	linkState := fs.Bool("link-state", false, "carry link state across: DEV up only while a VMM holds TAP, the VM told when DEV loses carrier")
	qmpPath := fs.String("qmp", "", "qemu's QMP unix socket, to tell the VM with set_link (needs --qmp-netdev)")
	netdev := fs.String("qmp-netdev", "", "the id of the VM's netdev (or NIC) for set_link")
	cmd := fs.String("exec", "", "a command (sh -c) that tells the VM, with TCWIRE_NETNS, TCWIRE_DEV, TCWIRE_TAP and TCWIRE_LINK=up|down")
	min := 2
	if batch != nil {
		fs.StringVar(batch, "batch", "", "watch the pairs of FILE, one a line")
		min = 0
	}
	pos, err := parseArgs(fs, g, args, watchUsage, min, 2)
	if err != nil {
		return nil, err
	}
	if batch != nil && *batch != "" {
		if len(pos) > 0 || *linkState || *qmpPath != "" || *netdev != "" || *cmd != "" {
			return nil, usagef(watchUsage, "-batch takes no pair or pair flags: the file's lines give them")
		}
		return nil, nil
	}
	if len(pos) < 2 {
		return nil, usagef(watchUsage, "missing arguments")
	}
	switch {
	case (*qmpPath == "") != (*netdev == ""):
		return nil, usagef(watchUsage, "--qmp and --qmp-netdev go together")
	case (*qmpPath != "" || *cmd != "") && !*linkState:
		return nil, usagef(watchUsage, "--qmp and --exec tell the VM its link state: they need --link-state")
	case *qmpPath != "" && *cmd != "":
		return nil, usagef(watchUsage, "--qmp and --exec: choose one way to tell the VM")
	}
	p := &watchPair{o: tcwire.Options{NetNS: g.netns, Dev: pos[0], Tap: pos[1]}, ls: tcwire.LinkState{Carry: *linkState}}
	switch {
	case *qmpPath != "":
		path, id := *qmpPath, *netdev
		p.ls.TellVM = func(ctx context.Context, up bool) error {
			ctx, cancel := context.WithTimeout(ctx, tellTimeout)
			defer cancel()
			c, err := qmp.Dial(ctx, path)
			if err != nil {
				return err
			}
			defer c.Close()
			return c.SetLink(ctx, id, up)
		}
	case *cmd != "":
		p.ls.TellVM = execTeller(*cmd, p.o)
	}
	return p, nil
}

// execTeller runs cmd with sh -c, the pair and the link state in its
// environment, its output on tcwire's stderr.
func execTeller(cmd string, o tcwire.Options) func(context.Context, bool) error {
	return func(ctx context.Context, up bool) error {
		ctx, cancel := context.WithTimeout(ctx, tellTimeout)
		defer cancel()
		c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
		state := "down"
		if up {
			state = "up"
		}
		c.Env = append(os.Environ(), "TCWIRE_NETNS="+o.NetNS, "TCWIRE_DEV="+o.Dev, "TCWIRE_TAP="+o.Tap, "TCWIRE_LINK="+state)
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Run(); err != nil {
			return fmt.Errorf("--exec %q: %w", cmd, err)
		}
		return nil
	}
}

func parseWatch(g *globals, args []string) (command, error) {
	var batch string
	p, err := parsePair(g, args, &batch)
	if err != nil {
		return nil, err
	}
	return func(stdout, _ io.Writer) error {
		// The file is read when the command runs: parsing touches nothing.
		pairs := []*watchPair{p}
		if p == nil {
			if pairs, err = readWatchBatch(g, batch); err != nil {
				return err
			}
		}
		opts := make([]tcwire.Options, len(pairs))
		states := make([]tcwire.LinkState, len(pairs))
		for i, p := range pairs {
			opts[i], states[i] = p.o, p.ls
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		enc := json.NewEncoder(stdout)
		print := func(e tcwire.WatchEvent) {
			if g.json {
				je := jsonEvent{WatchEvent: e}
				if e.Err != nil {
					je.Error = e.Err.Error()
				}
				enc.Encode(je)
				return
			}
			fmt.Fprintln(stdout, e)
		}
		if err := tcwire.Watch(ctx, opts, tcwire.WatchOptions{Event: print, LinkState: states}); err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		return nil
	}, nil
}

// jsonEvent is an event as --json prints it: its error as text.
type jsonEvent struct {
	tcwire.WatchEvent
	Error string `json:"error,omitempty"`
}

// readWatchBatch reads the pairs of a watch batch file ("-" is stdin): a
// pair and its flags a line, split as -batch splits its lines (batch.go),
// blank lines and # comments skipped. A bad
// line is a usage error naming it.
func readWatchBatch(g *globals, file string) ([]*watchPair, error) {
	name, r, err := openBatch(file)
	if err != nil {
		return nil, usagef(watchUsage, "-batch: %v", err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, usagef(watchUsage, "-batch: %v", err)
	}
	var pairs []*watchPair
	for n, line := range strings.Split(string(b), "\n") {
		words, err := splitLine(line)
		if err != nil {
			return nil, usagef(watchUsage, "%s:%d: %v", name, n+1, err)
		}
		if len(words) == 0 {
			continue
		}
		p, err := parsePair(g, words, nil)
		if err != nil {
			if ue, ok := err.(*usageError); ok {
				return nil, usagef(watchUsage, "%s:%d: %s", name, n+1, ue.msg)
			}
			return nil, err
		}
		pairs = append(pairs, p)
	}
	if len(pairs) == 0 {
		return nil, usagef(watchUsage, "-batch %s: no pairs", name)
	}
	return pairs, nil
}
