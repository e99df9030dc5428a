// Command tcwire wires a VM's tap to a container's veth with tc: an ingress
// qdisc, a u32 catch-all and a mirred egress redirect in each direction,
// byte-identical to the four tc commands, in one netlink round trip. It is
// argument parsing and printing over package tcwire.
//
//	tcwire [--netns NS] [--json] attach DEV TAP [--mode tc|macvtap|bridge] [--mirror] [--queues N] [--owner UID] [--group GID] [--mtu N] [--no-vnet-hdr] [--tap-qdisc noqueue|keep] [--dev-addrgenmode none] [--tap-addrgenmode none]
//	tcwire [--netns NS] [--json] detach DEV TAP [--mode tc|macvtap|bridge]
//	tcwire [--netns NS] [--json] show [--modes] [DEV…]
//	tcwire [--netns NS] tap add NAME [--queues N] [--owner UID] [--group GID] [--mtu N] [--mac MAC] [--no-vnet-hdr]
//	tcwire [--netns NS] tap del NAME
//	tcwire [--netns NS] ifup TAP        (also as tcwire-ifup TAP: qemu's script=)
//	tcwire [--netns NS] [--json] explain attach|detach DEV TAP [--mode tc|macvtap|bridge] [--mirror]
//	tcwire [--netns NS] [--json] watch [--link-state] [--qmp PATH --qmp-netdev ID] [--exec CMD] DEV TAP
//	tcwire [--netns NS] [--json] watch -batch FILE
//	tcwire [--netns NS] [--json] [--force] -batch FILE|-
//
// --mode macvtap makes TAP a passthru macvtap on DEV (attach prints its
// /dev/tapN after the MAC); --mode bridge puts DEV and the tap TAP in a
// bridge of tcwire's; --mirror (tc mode) gives the tap a copy of what DEV
// receives and leaves DEV its traffic.
//
// -batch runs the attach and detach lines of FILE (- is stdin) in one
// process, as ip -batch and tc -batch do (batch.go).
//
// With CNI_COMMAND in the environment it is a chained CNI plugin instead,
// a drop-in for tc-redirect-tap (internal/cni).
//
// Exit status: 0 on success, 1 when an operation fails, 2 for usage errors.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/internal/cni"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/tc"
)

const usageText = `usage: tcwire [--netns NS] [--json] COMMAND ARGS
commands:
  attach DEV TAP [--mode tc|macvtap|bridge] [--mirror] [--queues N] [--owner UID] [--group GID] [--mtu N] [--no-vnet-hdr] [--tap-qdisc noqueue|keep]
                 [--dev-addrgenmode none] [--tap-addrgenmode none]
  detach DEV TAP [--mode tc|macvtap|bridge]
  show [--modes] [DEV...]
  tap add NAME [--queues N] [--owner UID] [--group GID] [--mtu N] [--mac MAC] [--no-vnet-hdr]
  tap del NAME
  ifup TAP
  explain attach|detach DEV TAP [--mode tc|macvtap|bridge] [--mirror]
  watch [--link-state] [--qmp PATH --qmp-netdev ID] [--exec CMD] DEV TAP   (or watch -batch FILE: a pair a line)
  [--force] -batch FILE|-   (each line: [--netns NS] attach|detach DEV TAP [flags]; - is stdin)
with CNI_COMMAND set, tcwire is a chained CNI plugin (a drop-in for tc-redirect-tap; see README)`

// usageError is a bad command line: exit status 2 and a usage line.
type usageError struct {
	msg   string
	usage string
}

func (e *usageError) Error() string { return e.msg }

// helpError is an explicit request for help (-h, --help, help): the usage
// goes to stdout and the exit status is 0.
type helpError struct{ usage string }

func (e *helpError) Error() string { return "help requested" }

// flagError turns a flag parsing error into a usage error, or into a help
// request for -h/--help.
func flagError(usage string, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return &helpError{usage: usage}
	}
	// The flag package quotes values but not flag names: escape what
	// would break the one-line message (`--$'a\nb'`).
	return usagef(usage, "%s", escapeControls(err.Error()))
}

// escapeControls writes non-printable characters and invalid UTF-8 as Go
// escapes, leaving the rest of s as it is.
func escapeControls(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

func usagef(usage, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), usage: usage}
}

// globals are the flags every command takes.
type globals struct {
	netns string
	json  bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.Var(netnsFlag{&g.netns}, "netns", "network namespace: a name under /run/netns or a path")
	fs.BoolVar(&g.json, "json", g.json, "print JSON")
}

// netnsFlag is --netns. A value that names no namespace at all (empty, "."
// …) is a usage error: an empty one would otherwise mean the caller's own
// namespace.
type netnsFlag struct{ p *string }

func (f netnsFlag) String() string {
	if f.p == nil {
		return ""
	}
	return *f.p
}

func (f netnsFlag) Set(s string) error {
	if _, err := netns.Path(s); err != nil {
		return err
	}
	*f.p = s
	return nil
}

func main() {
	if os.Getenv("CNI_COMMAND") != "" {
		// Invoked by a container runtime as a CNI plugin (internal/cni).
		os.Exit(cni.Main(os.Getenv, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(argv []string, stdout, stderr io.Writer) int {
	return report(dispatch(commandLine(argv), stdout, stderr), stdout, stderr)
}

// commandLine is the command line without the program's name; called as
// tcwire-ifup (qemu's script=), tcwire runs ifup.
func commandLine(argv []string) []string {
	if len(argv) == 0 {
		return nil
	}
	args := argv[1:]
	if filepath.Base(argv[0]) == "tcwire-ifup" {
		args = append([]string{"ifup"}, args...)
	}
	return args
}

// report prints what err says, where it belongs, and returns the exit
// status: 0 for success and help, 2 for a usage error, 1 for anything else.
func report(err error, stdout, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var he *helpError
	if errors.As(err, &he) {
		fmt.Fprintln(stdout, he.usage)
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "tcwire: %s\n%s\n", ue.msg, ue.usage)
		return 2
	}
	fmt.Fprintf(stderr, "tcwire: %s%s\n", escapeControls(err.Error()), hint(err))
	return 1
}

// hint is the command that gets a refusal out of the way, as the library's
// errors name the devices but no command line.
func hint(err error) string {
	var ce *tcwire.ConflictError
	var me *tcwire.MismatchError
	var fe *tcwire.ForeignError
	var ue *tcwire.UnownedTapError
	switch {
	case errors.As(err, &ue):
		return "; give it an owner or a group (--owner UID, --group GID), which attach sets on it"
	case errors.As(err, &fe):
		var cmds []string
		for _, f := range fe.Filters {
			cmds = append(cmds, fmt.Sprintf("`tc filter del dev %s %s pref %d`", escapeControls(f.Dev.Name), hookSpec(f.Parent), f.Pref))
		}
		return fmt.Sprintf("; tcwire leaves foreign filters alone: %s removes them, if they are not needed", strings.Join(cmds, " and "))
	case errors.As(err, &ce) && ce.Handle != 0 && ce.Target == "":
		return fmt.Sprintf("; `tcwire detach %s %s` removes the stale redirect", escapeControls(ce.UndoDev), escapeControls(ce.UndoTap))
	case errors.As(err, &ce) && ce.UndoDev != "":
		return fmt.Sprintf("; `tcwire detach %s %s` undoes that", escapeControls(ce.UndoDev), escapeControls(ce.UndoTap))
	case errors.As(err, &me) && me.Setting != "mode":
		return fmt.Sprintf("; delete it (`tcwire tap del %s`) or ask for what it has", escapeControls(me.Tap))
	}
	return ""
}

// hookSpec names a filter's parent as tc takes it: clsact's ingress hook
// by name, an ingress qdisc's as parent ffff:.
func hookSpec(p tc.Handle) string {
	if p == tc.ClsactIngress {
		return "ingress"
	}
	return "parent " + p.String()
}

// command is a parsed and checked command line, ready to run. Only -batch
// writes to stderr itself, a line at a time; the others return their
// error.
type command func(stdout, stderr io.Writer) error

// dispatch parses the command line, then runs the command.
func dispatch(args []string, stdout, stderr io.Writer) error {
	cmd, err := parse(args)
	if err != nil {
		return err
	}
	return cmd(stdout, stderr)
}

// parse reads a command line (without the program's name) and returns the
// command it asks for, or a usage or help error. It only parses: no
// socket, file or device is touched until the command runs, so it can be
// fed anything (FuzzCommandLine does).
func parse(args []string) (command, error) {
	var g globals
	var b batchFlags
	fs := newFlagSet("tcwire")
	g.register(fs)
	b.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, flagError(usageText, err)
	}
	rest := fs.Args()
	if cmd, err := b.command(fs, g, rest); cmd != nil || err != nil {
		return cmd, err
	}
	if len(rest) == 0 {
		return nil, usagef(usageText, "no command")
	}
	cmd, rest := rest[0], rest[1:]
	switch cmd {
	case "attach":
		return parseAttach(&g, rest)
	case "detach":
		return parseDetach(&g, rest)
	case "show":
		return parseShow(&g, rest)
	case "tap":
		return parseTap(&g, rest)
	case "ifup":
		return parseIfup(&g, rest)
	case "explain":
		return parseExplain(&g, rest)
	case "watch":
		return parseWatch(&g, rest)
	case "help":
		return nil, &helpError{usage: usageText}
	}
	return nil, usagef(usageText, "unknown command %q", cmd)
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, by run
	return fs
}

// parseArgs parses flags wherever they stand among the positional
// arguments (`attach eth0 tap0 --queues 4`), as ip and tc users expect, and
// checks the number of positionals.
func parseArgs(fs *flag.FlagSet, g *globals, args []string, usage string, min, max int) ([]string, error) {
	g.register(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(usage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	switch {
	case len(pos) < min:
		return nil, usagef(usage, "missing arguments")
	case max >= 0 && len(pos) > max:
		return nil, usagef(usage, "unexpected argument %q", pos[max])
	}
	for _, p := range pos {
		if err := link.CheckName(p); err != nil {
			return nil, usagef(usage, "%v", err)
		}
	}
	return pos, nil
}
