package main

// tcwire -batch FILE: the attach and detach lines of a file in one process,
// as `ip -batch` and `tc -batch` take theirs.
//
// A line is a command as typed after `tcwire`:
//
//	[--netns NS] attach DEV TAP [flags]
//	[--netns NS] detach DEV TAP [flags]
//
// split into words the way iproute2's batch mode splits them: runs of
// blanks (space, tab, CR) separate words; a word that starts with a double
// quote runs to the next double quote, blanks included, and must end
// there (no escapes: a quote cannot be quoted); a word that starts with #
// starts a comment that runs to the end of the line. Blank lines and
// comment lines are skipped. The global --netns and --json apply to every
// line; a line's own --netns wins; --json belongs to the whole batch.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tcwire/tcwire"
)

const batchUsage = "usage: tcwire [--netns NS] [--json] [--force] -batch FILE|-   (each line: [--netns NS] attach|detach DEV TAP [flags]; - is stdin)"

// batchFlags are -batch and --force.
type batchFlags struct {
	file  string
	force bool
}

func (b *batchFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&b.file, "batch", "", "run the attach and detach lines of FILE (- is stdin)")
	fs.BoolVar(&b.force, "force", false, "with -batch: go on past a line that fails (exit status 1 at the end)")
}

// command is the batch when -batch was given (nil otherwise), or a usage
// error: -batch takes no command of its own, --force needs -batch.
func (b *batchFlags) command(fs *flag.FlagSet, g globals, rest []string) (command, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case !set["batch"] && b.force:
		return nil, usagef(usageText, "--force goes with -batch")
	case !set["batch"]:
		return nil, nil
	case b.file == "":
		return nil, usagef(batchUsage, "-batch: empty file name (- is stdin)")
	case len(rest) > 0:
		return nil, usagef(batchUsage, "-batch takes no command (%q): the file's lines are the commands", rest[0])
	}
	file, force := b.file, b.force
	return func(stdout, stderr io.Writer) error {
		name, r, err := openBatch(file)
		if err != nil {
			return err
		}
		defer r.Close()
		return runBatch(name, r, g, force, stdout, stderr)
	}, nil
}

// openBatch opens a batch file (- is stdin) and names it as errors do.
func openBatch(file string) (name string, r io.ReadCloser, err error) {
	if file == "-" {
		return "stdin", io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return "", nil, err
	}
	return file, f, nil
}

// batchLine is a line of a batch file, parsed.
type batchLine struct {
	// n is its number in the file, from 1.
	n int
	// op is "attach" or "detach".
	op   string
	opts tcwire.Options
}

// splitLine splits a line of a batch file into words (see the top of this
// file). A line of blanks or a comment has none.
func splitLine(line string) ([]string, error) {
	const blanks = " \t\r"
	var words []string
	for {
		line = strings.TrimLeft(line, blanks)
		switch {
		case line == "" || line[0] == '#':
			return words, nil
		case line[0] == '"':
			end := strings.IndexByte(line[1:], '"')
			if end < 0 {
				return nil, errors.New("a double quote is not closed")
			}
			words = append(words, line[1:1+end])
			line = line[2+end:]
			if line != "" && !strings.ContainsRune(blanks, rune(line[0])) {
				return nil, fmt.Errorf("a quoted word (%q) runs into the next one: put a blank between them", words[len(words)-1])
			}
			continue
		}
		end := strings.IndexAny(line, blanks)
		if end < 0 {
			end = len(line)
		}
		w := line[:end]
		if strings.ContainsRune(w, '"') {
			return nil, fmt.Errorf("%q: a double quote inside a word (quote the whole word)", w)
		}
		words = append(words, w)
		line = line[end:]
	}
}

// parseLine parses the words of a line: its own --netns, then attach or
// detach with their flags, parsed by the same code as on the command line.
// base holds the batch's global flags.
func parseLine(base globals, words []string) (batchLine, error) {
	g := base
	fs := newFlagSet("tcwire")
	g.register(fs)
	if err := fs.Parse(words); err != nil {
		return batchLine{}, lineFlagError(err)
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return batchLine{}, errors.New("no command: want attach or detach")
	}
	l := batchLine{op: rest[0]}
	var err error
	switch l.op {
	case "attach":
		l.opts, err = attachOptions(&g, rest[1:])
	case "detach":
		l.opts, err = detachOptions(&g, rest[1:])
	default:
		return batchLine{}, fmt.Errorf("%q: a batch line is attach or detach", escapeControls(l.op))
	}
	if err != nil {
		return batchLine{}, fmt.Errorf("%s: %w", l.op, lineFlagError(err))
	}
	if g.json != base.json {
		return batchLine{}, fmt.Errorf("%s: --json applies to the whole batch: give it before -batch", l.op)
	}
	return l, nil
}

// lineFlagError is a line's usage error without the usage text, which
// would follow every bad line.
func lineFlagError(err error) error {
	var he *helpError
	if errors.As(err, &he) || errors.Is(err, flag.ErrHelp) {
		return errors.New("-h: no help inside a batch")
	}
	var ue *usageError
	if errors.As(err, &ue) || errors.As(flagError("", err), &ue) {
		return errors.New(ue.msg)
	}
	return err
}
