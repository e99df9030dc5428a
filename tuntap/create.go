package tuntap

import (
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// afterStep, when set by tests, runs after each successful step of Create
// (named by its ioctl); an error makes Create fail there, to exercise the
// rollback.
var afterStep atomic.Pointer[func(step string) error]

func runAfterStep(step string) error {
	if f := afterStep.Load(); f != nil {
		return (*f)(step)
	}
	return nil
}

// Create makes a new tun/tap device as described by cfg and opens its
// queues. It fails with an error wrapping unix.EBUSY if a device with that
// name already exists (IFF_TUN_EXCL); use Open to attach to an existing one.
// Invalid configurations give an error wrapping ErrInvalid before anything
// is changed.
func Create(cfg Config) (*Tap, error) {
	flags, queues, err := cfg.plan()
	if err != nil {
		return nil, err
	}
	label := cfg.Name
	if label == "" {
		label = "tap%d"
		if flags&IFF_TUN != 0 {
			label = "tun%d"
		}
	}

	fds, _, err := openInNetNS(cfg.NetNS, "", queues)
	if err != nil {
		return nil, fmt.Errorf("tuntap: create %s: %w", label, err)
	}
	name, err := setIff(fds[0], cfg.Name, flags|IFF_TUN_EXCL)
	if err != nil {
		closeFDs(fds)
		return nil, ioctlError("create", label, "TUNSETIFF", err)
	}

	persisted := false
	fail := func(step string, err error) (*Tap, error) {
		err = ioctlError("create", name, step, err)
		if persisted {
			// fds[0] is attached, so this is the device we made persistent.
			if perr := unix.IoctlSetInt(fds[0], TUNSETPERSIST, 0); perr != nil {
				err = errors.Join(err, ioctlError("create", name, "rollback: TUNSETPERSIST 0 (the device may remain)", perr))
			}
		}
		closeFDs(fds)
		return nil, err
	}
	// Persistence comes last: a process killed half-way leaves nothing, since
	// the kernel destroys a non-persistent device with its last file.
	type step struct {
		name string
		skip bool
		do   func() error
	}
	steps := []step{
		{"TUNSETOWNER", cfg.Owner == nil, func() error {
			return unix.IoctlSetInt(fds[0], TUNSETOWNER, *cfg.Owner)
		}},
		{"TUNSETGROUP", cfg.Group == nil, func() error {
			return unix.IoctlSetInt(fds[0], TUNSETGROUP, *cfg.Group)
		}},
		{"TUNSETVNETHDRSZ", cfg.VnetHdrSize == 0, func() error {
			return unix.IoctlSetPointerInt(fds[0], TUNSETVNETHDRSZ, cfg.VnetHdrSize)
		}},
	}
	for i := 1; i < queues; i++ {
		steps = append(steps, step{fmt.Sprintf("TUNSETIFF (queue %d)", i), false, func() error {
			_, err := setIff(fds[i], name, flags)
			return err
		}})
	}
	steps = append(steps, step{"TUNSETPERSIST", !cfg.Persist, func() error {
		err := unix.IoctlSetInt(fds[0], TUNSETPERSIST, 1)
		persisted = err == nil
		return err
	}})

	if err := runAfterStep("TUNSETIFF"); err != nil {
		return fail("TUNSETIFF", err)
	}
	for _, s := range steps {
		if s.skip {
			continue
		}
		if err := s.do(); err != nil {
			return fail(s.name, err)
		}
		if err := runAfterStep(s.name); err != nil {
			return fail(s.name, err)
		}
	}
	return newTap(name, cfg.NetNS, flags, fds), nil
}
