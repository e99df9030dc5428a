//go:build linux

package netns

import (
	"errors"
	"net"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
)

// netnsInode is the inode of the calling thread's network namespace.
func netnsInode(t *testing.T) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestDo: fn runs in the namespace, given by name or path; its error and
// panic come back; the caller's threads stay home; runtime.Goexit in fn
// ends Do with an error.
func TestDo(t *testing.T) {
	ns := nstest.New(t)
	var want unix.Stat_t
	if err := unix.Stat(ns.Path(), &want); err != nil {
		t.Fatal(err)
	}
	var self unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &self); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ns.Name, ns.Path()} {
		var inside uint64
		var ifaces []net.Interface
		err := Do(name, func() error {
			inside = netnsInode(t)
			var err error
			ifaces, err = net.Interfaces()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if inside != want.Ino {
			t.Errorf("Do(%s): fn ran in namespace %d, want %d", name, inside, want.Ino)
		}
		if len(ifaces) != 1 || ifaces[0].Name != "lo" {
			t.Errorf("Do(%s): interfaces %v, want lo only", name, ifaces)
		}
	}
	// fn's error comes back; the process's namespace is untouched.
	sentinel := errors.New("sentinel")
	if err := Do(ns.Name, func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("Do returned %v", err)
	}
	var after unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &after); err != nil || after.Ino != self.Ino {
		t.Errorf("process namespace changed: %d → %d (%v)", self.Ino, after.Ino, err)
	}
	// Many calls: threads go back to the pool in the original namespace.
	for i := 0; i < 50; i++ {
		if err := Do(ns.Name, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		if got := netnsInode(t); got != self.Ino {
			t.Fatalf("after Do: this thread is in namespace %d, want %d", got, self.Ino)
		}
	}
	// A panic in fn reaches the caller.
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want boom", r)
			}
		}()
		_ = Do(ns.Name, func() error { panic("boom") })
	}()
	// runtime.Goexit in fn ends Do with an error instead of hanging it.
	if err := Do(ns.Name, func() error { runtime.Goexit(); return nil }); !errors.Is(err, errGoexit) {
		t.Errorf("Goexit in fn: %v", err)
	}
	if err := Do("tcwire-no-such-netns", func() error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing namespace: %v", err)
	}
}
