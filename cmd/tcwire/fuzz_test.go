package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/link"
)

// goodCommandLines are command lines the e2e tests run successfully.
var goodCommandLines = [][]string{
	{"tcwire", "--netns", "ns", "attach", "eth0", "tap0"},
	{"tcwire", "--netns", "ns", "--json", "attach", "eth0", "tap0", "--queues", "4", "--owner", "1234", "--group", "5678"},
	{"tcwire", "--netns", "ns", "attach", "eth0", "tap0", "--tap-qdisc", "keep"},
	{"tcwire", "--netns", "/proc/1/ns/net", "detach", "eth0", "tap0"},
	{"tcwire", "--netns", "ns", "--json", "show", "eth0", "tap0"},
	{"tcwire", "show"},
	{"tcwire", "--netns", "ns", "tap", "add", "tapx", "--mtu", "2000", "--mac", "02:11:22:33:44:55", "--no-vnet-hdr"},
	{"tcwire", "--netns", "ns", "--json", "tap", "add", "tapy", "--queues", "2"},
	{"tcwire", "tap", "del", "tapx"},
	{"tcwire", "--netns", "ns", "ifup", "tap1"},
	{"/usr/local/bin/tcwire-ifup", "tap1"},
	{"tcwire-ifup"},
	{"tcwire", "explain", "attach", "eth0", "tap0"},
	{"tcwire", "--netns", "ns", "explain", "detach", "eth0", "tap0"},
	{"tcwire", "attach", "--", "eth0", "tap0"},
	{"tcwire", "help"},
	{"tcwire", "--help"},
}

// argvSep separates the arguments of a fuzzed command line: a NUL, which
// no real argument can hold.
const argvSep = "\x00"

// FuzzCommandLine feeds arbitrary command lines, argv[0] included, to the
// parser. Parsing touches nothing, so any input is safe. It must not
// panic; it returns a command to run, a request for help (exit 0, the usage
// on stdout) or a usage error (exit 2, one line naming the culprit, then
// the usage, on stderr), never anything that would exit 1; and it decides
// the same way twice. Every argument it sees is also checked against the
// kernel's rules for device names (checkIfname against devValidName).
func FuzzCommandLine(f *testing.F) {
	for _, c := range errorCases {
		argv := append([]string{"tcwire"}, c.args...)
		f.Add(strings.Join(argv, argvSep))
		f.Add(strings.Join(append([]string{"tcwire", "--netns", "ns"}, c.args...), argvSep))
	}
	for _, h := range commandHelp {
		f.Add(strings.Join(append([]string{"tcwire"}, strings.Fields(h.args)...), argvSep))
	}
	for _, argv := range goodCommandLines {
		f.Add(strings.Join(argv, argvSep))
	}
	f.Fuzz(func(t *testing.T, line string) {
		argv := strings.Split(line, argvSep)
		args := commandLine(argv)
		cmd, err := parse(args)
		var stdout, stderr bytes.Buffer
		code := report(err, &stdout, &stderr)
		var he *helpError
		switch {
		case err == nil:
			if cmd == nil {
				t.Fatalf("%q: no error and no command", argv)
			}
			if code != 0 || stdout.Len() != 0 || stderr.Len() != 0 {
				t.Fatalf("%q: success reported as exit %d, stdout %q, stderr %q", argv, code, stdout.String(), stderr.String())
			}
		case errors.As(err, &he):
			if code != 0 || !strings.HasPrefix(stdout.String(), "usage: tcwire") || stderr.Len() != 0 {
				t.Fatalf("%q: help: exit %d, stdout %q, stderr %q", argv, code, stdout.String(), stderr.String())
			}
		case code == 2:
			msg, usage, ok := strings.Cut(stderr.String(), "\n")
			if !ok || !strings.HasPrefix(msg, "tcwire: ") || len(msg) == len("tcwire: ") ||
				!strings.HasPrefix(usage, "usage: tcwire") || !strings.HasSuffix(usage, "\n") || stdout.Len() != 0 {
				t.Fatalf("%q: usage error not one line then the usage:\nstdout %q\nstderr %q", argv, stdout.String(), stderr.String())
			}
		default:
			t.Fatalf("%q: parsing failed with exit %d (%T %v): only usage errors and help may come before running", argv, code, err, err)
		}
		if cmd != nil && err != nil {
			t.Fatalf("%q: both a command and an error %v", argv, err)
		}
		_, again := parse(commandLine(argv))
		if (err == nil) != (again == nil) || (err != nil && err.Error() != again.Error()) {
			t.Fatalf("%q: parsed twice: %v, then %v", argv, err, again)
		}
		for _, s := range append(args, line) {
			if ok := link.CheckName(s) == nil; ok != devValidName(s) {
				t.Fatalf("link.CheckName(%q) = %v, but dev_valid_name says %v", s, link.CheckName(s), devValidName(s))
			}
			if peer, err := ifupPeer(s); err == nil && link.CheckName(s) == nil && link.CheckName(peer) != nil {
				t.Fatalf("ifupPeer(%q) = %q: not a valid device name", s, peer)
			}
		}
	})
}

// devValidName is the kernel's dev_valid_name (net/core/dev.c) for a name
// that reaches it whole: a NUL would end the C string early, so a name
// holding one is not the name the kernel would check.
func devValidName(s string) bool {
	if len(s) == 0 || len(s) >= 16 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0, '/', ':':
			return false
		case ' ', '\t', '\n', '\v', '\f', '\r', 0xa0: // the kernel's isspace()
			return false
		}
	}
	return true
}
