package netns_test

import (
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/netns"
)

func TestPath(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "blue", want: "/run/netns/blue"},
		{in: "cni-1234-abcd", want: "/run/netns/cni-1234-abcd"},
		{in: "/proc/1/ns/net", want: "/proc/1/ns/net"},
		{in: "/var/run/netns/x", want: "/var/run/netns/x"},
		{in: "./x", want: "./x"},
		{in: "", bad: true},
		{in: ".", bad: true},
		{in: "..", bad: true},
		{in: "a\x00b", bad: true},
		{in: "/run/netns/a\x00b", bad: true},
	}
	for _, tt := range tests {
		got, err := netns.Path(tt.in)
		switch {
		case tt.bad && err == nil:
			t.Errorf("Path(%q) = %q, want an error", tt.in, got)
		case !tt.bad && (err != nil || got != tt.want):
			t.Errorf("Path(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzPath: a name resolves to one path under /run/netns, a path to
// itself; never to the caller's namespace (""), never through "..", never
// with a NUL (which would cut the path short in the kernel).
func FuzzPath(f *testing.F) {
	for _, s := range []string{"blue", "/proc/1/ns/net", "./x", "", ".", "..", "a/../b", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ns string) {
		p, err := netns.Path(ns)
		if err != nil {
			if p != "" {
				t.Fatalf("Path(%q) = %q and %v", ns, p, err)
			}
			return
		}
		switch {
		case p == "" || strings.IndexByte(p, 0) >= 0:
			t.Fatalf("Path(%q) = %q", ns, p)
		case strings.ContainsRune(ns, '/') && p != ns:
			t.Fatalf("Path(%q) = %q: a path must stay as given", ns, p)
		case !strings.ContainsRune(ns, '/') && (p != "/run/netns/"+ns || ns == "." || ns == ".."):
			t.Fatalf("Path(%q) = %q: a name must be a file of /run/netns", ns, p)
		}
	})
}
