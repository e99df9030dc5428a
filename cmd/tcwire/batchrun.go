package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/tcwire/tcwire"
)

// batchChunk is how many consecutive lines of one namespace and command go
// to one AttachAll or DetachAll: enough for the engine to fill its
// sendmsgs, few enough that what is held stays small whatever the file's
// length.
const batchChunk = 256

// maxHandles is how many namespaces' handles a batch keeps open at once;
// the least recently used goes first.
const maxHandles = 64

// maxLine is the longest line a batch file may have.
const maxLine = 64 << 10

// batchRun is a batch in progress: the lines read and not yet run (one
// namespace, one command), the handles of the namespaces met, and what was
// printed.
type batchRun struct {
	name   string // the file, as errors name it
	g      globals
	force  bool
	stdout io.Writer
	stderr io.Writer

	pending []batchLine
	handles map[string]*tcwire.Handle
	lru     []string // namespaces of handles, least recently used first
	printed int      // JSON objects printed
	failed  int
	// stop is the line that stopped the batch (without --force), 0 while
	// it runs.
	stop int
}

// batchFailed is the error of a batch in which lines failed; each was
// reported on stderr as it failed.
type batchFailed struct {
	name          string
	failed, first int
	force         bool
}

func (e *batchFailed) Error() string {
	if e.force {
		lines := "lines"
		if e.failed == 1 {
			lines = "line"
		}
		return fmt.Sprintf("%s: %d %s failed, the others are done", e.name, e.failed, lines)
	}
	return fmt.Sprintf("%s: stopped at line %d; the lines before it are done", e.name, e.first)
}

// runBatch reads the lines of r, a line at a time, and runs them in file
// order; consecutive lines of one namespace and command go to the engine
// together, up to batchChunk at a time.
func runBatch(name string, r io.Reader, g globals, force bool, stdout, stderr io.Writer) error {
	b := &batchRun{name: name, g: g, force: force, stdout: stdout, stderr: stderr, handles: map[string]*tcwire.Handle{}}
	defer b.closeHandles()
	if g.json {
		fmt.Fprint(stdout, "[")
		defer func() {
			if b.printed > 0 {
				fmt.Fprint(stdout, "\n")
			}
			fmt.Fprintln(stdout, "]")
		}()
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	n := 0
	for b.stop == 0 && sc.Scan() {
		n++
		words, err := splitLine(sc.Text())
		if err == nil && len(words) == 0 {
			continue
		}
		var l batchLine
		if err == nil {
			l, err = parseLine(g, words)
		}
		if err != nil {
			b.flush() // the lines before it first
			b.fail(n, err)
			continue
		}
		l.n = n
		if len(b.pending) > 0 && (b.pending[0].op != l.op || b.pending[0].opts.NetNS != l.opts.NetNS || len(b.pending) == batchChunk) {
			b.flush()
		}
		b.pending = append(b.pending, l)
	}
	if err := sc.Err(); err != nil && b.stop == 0 {
		b.flush()
		b.fail(n+1, fmt.Errorf("read: %w", err))
	}
	b.flush()
	if b.failed > 0 {
		return &batchFailed{name: name, failed: b.failed, first: b.stop, force: force}
	}
	return nil
}

// fail reports line n's failure and stops the batch unless --force.
func (b *batchRun) fail(n int, err error) {
	b.failed++
	msg := escapeControls(err.Error()) + hint(err)
	fmt.Fprintf(b.stderr, "%s:%d: %s\n", b.name, n, msg)
	if b.g.json {
		b.printJSON(struct {
			Line  int    `json:"line"`
			Error string `json:"error"`
		}{n, msg})
	}
	if !b.force {
		b.stop = n
	}
}

// flush runs the pending lines: AttachAll or DetachAll on their
// namespace's handle, then again from the line after a failing one under
// --force.
func (b *batchRun) flush() {
	ls := b.pending
	b.pending = b.pending[:0]
	for len(ls) > 0 && b.stop == 0 {
		done, err := b.exec(ls)
		var be *tcwire.BatchError
		failed := done
		if errors.As(err, &be) {
			failed, err = be.Index, be.Err
		}
		if err == nil {
			return
		}
		l := ls[failed]
		switch l.op {
		case "attach":
			err = attachError(l.opts, err)
		case "detach":
			err = detachError(l.opts, err)
		}
		b.fail(l.n, err)
		ls = ls[failed+1:]
	}
}

// exec runs lines of one namespace and command, prints what the done ones
// give, and returns how many are done and the error of the first that
// failed (a *tcwire.BatchError from the engine).
func (b *batchRun) exec(ls []batchLine) (int, error) {
	h, err := b.handle(ls[0].opts.NetNS)
	if err != nil {
		return 0, err
	}
	opts := make([]tcwire.Options, len(ls))
	for i, l := range ls {
		opts[i] = l.opts
	}
	ctx := context.Background()
	if ls[0].op == "detach" {
		ds, err := h.DetachAll(ctx, opts)
		for i, d := range ds {
			b.printDetach(ls[i], d)
		}
		return len(ds), err
	}
	as, err := h.AttachAll(ctx, opts)
	for i, a := range as {
		b.printAttach(ls[i], a)
	}
	return len(as), err
}

// handle is the open handle of netns, opened when first met.
func (b *batchRun) handle(netns string) (*tcwire.Handle, error) {
	if h, ok := b.handles[netns]; ok {
		for i, ns := range b.lru {
			if ns == netns {
				b.lru = append(append(b.lru[:i:i], b.lru[i+1:]...), netns)
				break
			}
		}
		return h, nil
	}
	if len(b.lru) == maxHandles {
		b.handles[b.lru[0]].Close()
		delete(b.handles, b.lru[0])
		b.lru = b.lru[1:]
	}
	h, err := tcwire.Open(netns)
	if err != nil {
		return nil, err
	}
	b.handles[netns] = h
	b.lru = append(b.lru, netns)
	return h, nil
}

func (b *batchRun) closeHandles() {
	for _, h := range b.handles {
		h.Close()
	}
}

// printAttach prints what attach prints for a line: the MAC (and the
// macvtap's node), or with --json the object attach --json prints with the
// line's number and command first.
func (b *batchRun) printAttach(l batchLine, a *tcwire.Attachment) {
	if !b.g.json {
		printAttachment(b.stdout, a)
		return
	}
	b.printJSON(struct {
		Line int    `json:"line"`
		Op   string `json:"op"`
		attachResult
	}{l.n, l.op, resultOf(a)})
}

// printDetach prints what detach prints for a line (the devices it left),
// or with --json the object detach --json prints with the line's number,
// command and devices first.
func (b *batchRun) printDetach(l batchLine, d *tcwire.Detachment) {
	if !b.g.json {
		printDetachment(b.stdout, d)
		return
	}
	b.printJSON(struct {
		Line int    `json:"line"`
		Op   string `json:"op"`
		Dev  string `json:"dev"`
		Tap  string `json:"tap"`
		detachResult
	}{l.n, l.op, l.opts.Dev, l.opts.Tap, detachResultOf(d)})
}

// printJSON prints one object of the batch's array.
func (b *batchRun) printJSON(v any) {
	sep := "\n"
	if b.printed > 0 {
		sep = ",\n"
	}
	j, _ := json.Marshal(v)
	fmt.Fprintf(b.stdout, "%s%s", sep, j)
	b.printed++
}
