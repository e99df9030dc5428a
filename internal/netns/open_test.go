//go:build linux

package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
)

// TestOpenNotNetNS: every path that names a file but not a network
// namespace is refused as such, before setns could answer a bare EINVAL.
func TestOpenNotNetNS(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(tmp, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/proc/self/status", "/proc/self/ns/mnt", "/proc/self/ns/uts", "/proc/self/ns/user", "/proc/self/ns/pid", "/dev/null", "/proc", "/sys/class/net", tmp} {
		f, err := Open(path)
		if err == nil {
			f.Close()
			t.Errorf("Open(%s) = nil error, want %v", path, ErrNotNetNS)
			continue
		}
		if !errors.Is(err, ErrNotNetNS) || !strings.Contains(err.Error(), "not a network namespace") || strings.Contains(err.Error(), "setns") {
			t.Errorf("Open(%s): %v, want %q", path, err, "not a network namespace")
		}
	}
	for _, path := range []string{"/proc/self/ns/net", "/proc/thread-self/ns/net", fmt.Sprintf("/proc/%d/ns/net", os.Getpid())} {
		f, err := Open(path)
		if err != nil {
			t.Errorf("Open(%s): %v", path, err)
			continue
		}
		f.Close()
	}
	// Do goes through Open: the same message, not setns's.
	if err := Do("/proc/self/status", func() error { return nil }); !errors.Is(err, ErrNotNetNS) {
		t.Errorf("Do(/proc/self/status): %v, want %v", err, ErrNotNetNS)
	}
}

// TestIsOwn: the caller's namespace is recognised however it is named —
// /proc/self, /proc/PID, another process's /proc/PID in it, a bind mount
// of it — and another namespace is not.
func TestIsOwn(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	bind := filepath.Join(t.TempDir(), "self-net")
	if err := os.WriteFile(bind, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("/proc/self/ns/net", bind, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind mount: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(bind, unix.MNT_DETACH) })
	for path, want := range map[string]bool{
		"/proc/self/ns/net":                         true,
		"/proc/thread-self/ns/net":                  true,
		fmt.Sprintf("/proc/%d/ns/net", os.Getpid()): true,
		"/proc/1/ns/net":                            sameAsInit(t),
		bind:                                        true,
		ns.Path():                                   false,
		ns.Name:                                     false,
	} {
		got, err := IsOwn(path)
		if err != nil || got != want {
			t.Errorf("IsOwn(%s) = %v, %v; want %v", path, got, err, want)
		}
	}
	if _, err := IsOwn("/proc/self/status"); !errors.Is(err, ErrNotNetNS) {
		t.Errorf("IsOwn(/proc/self/status): %v, want %v", err, ErrNotNetNS)
	}
}

// sameAsInit: whether this test runs in init's network namespace (it may
// run in a container of its own).
func sameAsInit(t *testing.T) bool {
	var a, b unix.Stat_t
	if unix.Stat("/proc/1/ns/net", &a) != nil || unix.Stat("/proc/self/ns/net", &b) != nil {
		t.Skip("cannot read /proc/1/ns/net")
	}
	return a.Ino == b.Ino && a.Dev == b.Dev
}
