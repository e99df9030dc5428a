package tuntap

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// Tap is an open tun/tap device: one file per queue.
//
// The files stay open until Close. A non-persistent device disappears when
// its last file is closed, by Close here and by any process the files were
// passed to. Methods are safe for concurrent use.
type Tap struct {
	name  string
	netns string
	flags uint16 // TUNSETIFF flags the files were attached with
	files []*os.File

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

func newTap(name, netns string, flags uint16, fds []int) *Tap {
	t := &Tap{name: name, netns: netns, flags: flags, files: make([]*os.File, len(fds))}
	for i, fd := range fds {
		t.files[i] = os.NewFile(uintptr(fd), fmt.Sprintf("/dev/net/tun:%s:%d", name, i))
	}
	return t
}

// Name returns the device's name, as chosen by the kernel when Config.Name
// was empty or contained "%d".
func (t *Tap) Name() string { return t.name }

// NetNS returns the namespace the device was created or opened in, as given
// (empty for the caller's).
func (t *Tap) NetNS() string { return t.netns }

// Queues returns the number of queues (files) this Tap holds.
func (t *Tap) Queues() int { return len(t.files) }

// Files returns the queues' files, queue 0 first. The Tap keeps owning them:
// Close closes them, so a VMM that is handed them must have received its
// own copies (a started child process or SCM_RIGHTS) by then.
//
// The files are non-blocking and registered with the Go runtime poller, so
// Read and Write honour deadlines. They are close-on-exec so that unrelated
// child processes do not keep the device alive; os/exec's Cmd.ExtraFiles
// clears the flag in the child for the files it passes. To hand a file
// down by other means, clear it with
// unix.FcntlInt(fd, unix.F_SETFD, 0) inside f.SyscallConn().Control.
// Note that calling f.Fd() (which ExtraFiles does) puts the file back in
// blocking mode, for the child too; VMMs set the mode they want.
func (t *Tap) Files() []*os.File { return append([]*os.File(nil), t.files...) }

// Close closes every queue's file. A non-persistent device disappears once
// no process holds it. Later calls return the first call's result.
func (t *Tap) Close() error {
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		var errs []error
		for _, f := range t.files {
			if err := f.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			t.closeErr = fmt.Errorf("tuntap: close %s: %w", t.name, errors.Join(errs...))
		}
	})
	return t.closeErr
}

// control runs fn on queue i's descriptor, keeping it from being closed
// meanwhile, without changing its blocking mode (as f.Fd() would).
func (t *Tap) control(i int, ioctl string, fn func(fd int) error) error {
	if i < 0 || i >= len(t.files) {
		return fmt.Errorf("tuntap: %s: %s: queue %d out of range [0, %d)", t.name, ioctl, i, len(t.files))
	}
	// The file's own "use of closed file" error is not os.ErrClosed.
	if t.closed.Load() {
		return ioctlError("", t.name, ioctl, os.ErrClosed)
	}
	rc, err := t.files[i].SyscallConn()
	if err != nil {
		return ioctlError("", t.name, ioctl, err)
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = fn(int(fd)) }); err != nil {
		if t.closed.Load() {
			err = os.ErrClosed
		}
		return ioctlError("", t.name, ioctl, err)
	}
	if ierr != nil {
		return ioctlError("", t.name, ioctl, ierr)
	}
	return nil
}
