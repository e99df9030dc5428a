package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/tcwire/tcwire"
)

func TestSplitLine(t *testing.T) {
	for _, c := range []struct {
		line  string
		words []string
		err   string
	}{
		{line: "", words: nil},
		{line: "   \t\r", words: nil},
		{line: "# a comment", words: nil},
		{line: "  # indented comment", words: nil},
		{line: "attach eth0 tap0", words: []string{"attach", "eth0", "tap0"}},
		{line: "\tattach  eth0\ttap0 \r", words: []string{"attach", "eth0", "tap0"}},
		{line: "attach eth0 tap0 # the VM's first port", words: []string{"attach", "eth0", "tap0"}},
		{line: "attach eth#0 tap0", words: []string{"attach", "eth#0", "tap0"}},
		{line: `--netns "/run/netns/my lab" attach eth0 tap0`, words: []string{"--netns", "/run/netns/my lab", "attach", "eth0", "tap0"}},
		{line: `attach "" tap0`, words: []string{"attach", "", "tap0"}},
		{line: `attach "#not a comment" tap0`, words: []string{"attach", "#not a comment", "tap0"}},
		{line: `attach "eth0"`, words: []string{"attach", "eth0"}},
		{line: `attach "eth0`, err: "not closed"},
		{line: `attach "eth0"tap0`, err: "runs into the next one"},
		{line: `attach eth"0" tap0`, err: "inside a word"},
	} {
		words, err := splitLine(c.line)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("splitLine(%q) = %q, %v; want an error with %q", c.line, words, err, c.err)
		case c.err == "" && (err != nil || !slices.Equal(words, c.words)):
			t.Errorf("splitLine(%q) = %q, %v; want %q", c.line, words, err, c.words)
		}
	}
}

func TestParseLine(t *testing.T) {
	base := globals{netns: "lab"}
	for _, c := range []struct {
		line string
		op   string
		opts tcwire.Options
		err  string
	}{
		{line: "attach eth0 tap0", op: "attach", opts: tcwire.Options{NetNS: "lab", Dev: "eth0", Tap: "tap0"}},
		{line: "--netns r1 attach eth1 tap1 --mtu 9000 --queues 4", op: "attach",
			opts: tcwire.Options{NetNS: "r1", Dev: "eth1", Tap: "tap1", MTU: 9000, Queues: 4}},
		{line: "attach eth1 tap1 --netns r2", op: "attach", opts: tcwire.Options{NetNS: "r2", Dev: "eth1", Tap: "tap1"}},
		{line: "attach --mode macvtap eth0 mvt0", op: "attach", opts: tcwire.Options{NetNS: "lab", Dev: "eth0", Tap: "mvt0", Mode: tcwire.ModeMacvtap}},
		{line: "detach eth0 tap0", op: "detach", opts: tcwire.Options{NetNS: "lab", Dev: "eth0", Tap: "tap0"}},
		{line: "attach eth0 tap0 --tap-qdisc keep --tap-addrgenmode none", op: "attach",
			opts: tcwire.Options{NetNS: "lab", Dev: "eth0", Tap: "tap0", KeepTapQdisc: true, QuietTap: true}},
		{line: "attach eth0", err: "attach: missing arguments"},
		{line: "attach eth0 tap0 tap1", err: `attach: unexpected argument "tap1"`},
		{line: "attach eth0 tap0 --queues 300", err: "attach: --queues 300: want 1 to 256"},
		{line: "attach eth0 tap0 --bogus", err: "attach: flag provided but not defined: -bogus"},
		{line: "detach eth0 tap0 --mirror", err: "detach: flag provided but not defined: -mirror"},
		{line: "attach eth0 tap0 --json", err: "--json applies to the whole batch"},
		{line: "--json attach eth0 tap0", err: "--json applies to the whole batch"},
		{line: "attach eth0 tap0 -h", err: "no help inside a batch"},
		{line: "show eth0", err: `"show": a batch line is attach or detach`},
		{line: "-batch x attach eth0 tap0", err: "flag provided but not defined: -batch"},
		{line: "--netns", err: "flag needs an argument: -netns"},
		{line: "--netns ''", err: "no command"},
		{line: "--netns . attach eth0 tap0", err: "invalid network namespace"},
		{line: "attach eth0 eth0", err: ""}, // the engine refuses it, naming both
	} {
		words, err := splitLine(c.line)
		if err != nil {
			t.Fatalf("splitLine(%q): %v", c.line, err)
		}
		l, err := parseLine(base, words)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: %+v, %v; want an error with %q", c.line, l, err, c.err)
		case c.err == "" && c.op != "" && (err != nil || l.op != c.op || !sameOptions(l.opts, c.opts)):
			t.Errorf("%q: %s %+v, %v; want %s %+v", c.line, l.op, l.opts, err, c.op, c.opts)
		case err != nil && strings.Contains(err.Error(), "usage:"):
			t.Errorf("%q: %v: a line's error carries no usage text", c.line, err)
		}
	}
}

func sameOptions(a, b tcwire.Options) bool {
	return a.NetNS == b.NetNS && a.Dev == b.Dev && a.Tap == b.Tap && a.Queues == b.Queues && a.MTU == b.MTU &&
		a.Mode == b.Mode && a.Mirror == b.Mirror && a.KeepTapQdisc == b.KeepTapQdisc && a.QuietTap == b.QuietTap &&
		a.QuietDev == b.QuietDev && a.NoVnetHdr == b.NoVnetHdr && (a.Owner == nil) == (b.Owner == nil) && (a.Group == nil) == (b.Group == nil)
}

// TestBatchSyntaxErrors runs files whose bad lines fail before anything is
// sent: each is named with its file and line, --force goes past it, and
// --json prints it as {"line": N, "error": …}.
func TestBatchSyntaxErrors(t *testing.T) {
	file := "# lab\n\nattach eth0\nshow\n"
	var stdout, stderr bytes.Buffer
	if err := runBatch("empty", strings.NewReader("\n# nothing\n"), globals{json: true}, false, &stdout, &stderr); err != nil || stdout.String() != "[]\n" {
		t.Errorf("an empty file: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	err := runBatch("lab.batch", strings.NewReader(file), globals{json: true}, true, &stdout, &stderr)
	wantErr := "lab.batch:3: attach: missing arguments\nlab.batch:4: \"show\": a batch line is attach or detach\n"
	if err == nil || !strings.Contains(err.Error(), "2 lines failed") || stderr.String() != wantErr {
		t.Errorf("--force: %v, stderr %q; want %q", err, stderr.String(), wantErr)
	}
	wantOut := "[\n{\"line\":3,\"error\":\"attach: missing arguments\"},\n{\"line\":4,\"error\":\"\\\"show\\\": a batch line is attach or detach\"}\n]\n"
	if stdout.String() != wantOut {
		t.Errorf("--force --json: stdout %q, want %q", stdout.String(), wantOut)
	}
	stdout.Reset()
	stderr.Reset()
	err = runBatch("lab.batch", strings.NewReader(file), globals{}, false, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "stopped at line 3") || stderr.String() != "lab.batch:3: attach: missing arguments\n" || stdout.Len() != 0 {
		t.Errorf("without --force: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}

func TestBatchCommandLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--force", "attach", "eth0", "tap0"}, 2, "--force goes with -batch"},
		{[]string{"-batch", "f", "attach", "eth0", "tap0"}, 2, "-batch takes no command"},
		{[]string{"-batch", ""}, 2, "empty file name"},
		{[]string{"-batch", "/nonexistent/batch"}, 1, "no such file"},
		{[]string{"attach", "eth0", "tap0", "-batch", "f"}, 2, "flag provided but not defined: -batch"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"tcwire"}, c.args...), &stdout, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.err) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, code, stderr.String(), c.code, c.err)
		}
	}
}

// FuzzBatchLine feeds arbitrary lines to the batch's parser: it must not
// panic, decide the same way twice, and give each line words without a
// blank outside quotes, or an error naming what is wrong; a parsed line is
// attach or detach with options that name two devices.
func FuzzBatchLine(f *testing.F) {
	for _, s := range []string{"attach eth0 tap0", "--netns r1 detach eth0 tap0", `attach "e 0" tap0 # c`,
		"attach eth0 tap0 --queues 4 --mtu 9000 --owner 1 --group 2 --mode tc", `"`, `a"b`, "\"x\"y", "#", "attach eth0 tap0 --json"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := splitLine(line)
		again, err2 := splitLine(line)
		if (err == nil) != (err2 == nil) || !slices.Equal(words, again) {
			t.Fatalf("%q: split twice: %q %v, then %q %v", line, words, err, again, err2)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("%q: empty error", line)
			}
			return
		}
		if strings.Contains(line, "\n") {
			return // a scanner never gives a line holding one
		}
		for _, w := range words {
			if strings.Contains(w, `"`) {
				t.Fatalf("%q: word %q holds a quote", line, w)
			}
			if !strings.Contains(line, `"`) && strings.ContainsAny(w, " \t\r") {
				t.Fatalf("%q: unquoted word %q holds a blank", line, w)
			}
		}
		l, err := parseLine(globals{netns: "ns"}, words)
		if err != nil {
			if strings.Contains(err.Error(), "usage:") {
				t.Fatalf("%q: %v: a line's error carries no usage text", line, err)
			}
			return
		}
		if (l.op != "attach" && l.op != "detach") || l.opts.Dev == "" || l.opts.Tap == "" || l.opts.NetNS == "" {
			t.Fatalf("%q: parsed as %s %+v", line, l.op, l.opts)
		}
	})
}
