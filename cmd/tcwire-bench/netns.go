package main

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
)

// Throwaway network namespaces, made without `ip netns`: netns.Throwaway's
// thread bind-mounts its new namespace under /run/netns, as `ip netns add`
// does, which keeps it after the thread is gone.

var (
	nsMu    sync.Mutex
	nsMade  = map[string]bool{}
	nsCount atomic.Uint64
)

// newNS creates a namespace called tcwire-bench-<pid>-<n>-<tag> with
// loopback up. IPv6 is off unless ipv6 is set: the namespace holding a
// wiring keeps it on, as a host's does, so that the L2 test sees what the
// host's own stack sends toward the VM (router solicitations, MLD reports,
// DAD); elsewhere nothing but the harness's frames should move.
func newNS(tag string, ipv6 bool) (string, error) {
	name := fmt.Sprintf("tcwire-bench-%d-%d-%s", os.Getpid(), nsCount.Add(1), tag)
	if len(name) > 200 {
		name = name[:200]
	}
	if err := os.MkdirAll(netns.Dir, 0o755); err != nil {
		return "", err
	}
	path := netns.Dir + "/" + name
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o444)
	if err != nil {
		return "", fmt.Errorf("netns %s: %w", name, err)
	}
	f.Close()
	err = netns.Throwaway(func(self string) error {
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind mount: %w", err)
		}
		return nil
	})
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("netns %s: %w", name, err)
	}
	nsMu.Lock()
	nsMade[name] = true
	nsMu.Unlock()
	c, err := nl.Dial(&nl.Config{NetNS: name})
	if err != nil {
		delNS(name)
		return "", err
	}
	defer c.Close()
	if err := link.SetUp(c, "lo"); err != nil {
		delNS(name)
		return "", err
	}
	if ipv6 {
		return name, nil
	}
	err = netns.Do(name, func() error {
		for _, k := range []string{"all", "default", "lo"} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+k+"/disable_ipv6", []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		delNS(name)
		return "", fmt.Errorf("netns %s: disable IPv6: %w", name, err)
	}
	return name, nil
}

// delNS unmounts and removes a namespace made by newNS; the kernel frees it
// (and its devices) once nothing holds it.
func delNS(name string) error {
	path := netns.Dir + "/" + name
	err := unix.Unmount(path, unix.MNT_DETACH)
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	nsMu.Lock()
	delete(nsMade, name)
	nsMu.Unlock()
	if err != nil {
		return fmt.Errorf("delete netns %s: %w", name, err)
	}
	return nil
}

// delAllNS removes every namespace this process made and has not deleted.
func delAllNS() error {
	nsMu.Lock()
	var names []string
	for n := range nsMade {
		names = append(names, n)
	}
	nsMu.Unlock()
	var errs []error
	for _, n := range names {
		errs = append(errs, delNS(n))
	}
	return errors.Join(errs...)
}
