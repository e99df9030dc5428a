// Package tuntap creates Linux tun/tap devices through /dev/net/tun, or
// attaches to existing ones, and hands out one file per queue for a VMM
// (qemu, Cloud Hypervisor, Firecracker …) to use.
//
// What it takes care of:
//
//   - Namespaces: a tun/tap device lives in the network namespace of the
//     thread that opened /dev/net/tun, so Config.NetNS opens it on a locked
//     thread moved there with setns and moved back afterwards.
//   - All or nothing: when a step after TUNSETIFF fails (owner, group,
//     header size, extra queues, persistence) Create closes its files and
//     clears persistence, so no device is left behind.
//   - Flags that survive attaching: the kernel replaces a device's
//     IFF_NO_PI/IFF_VNET_HDR with whatever the first attaching file asks
//     for, so Open reads the device's flags over rtnetlink and asks for
//     the same ones.
//   - Errors that name the device and the failing ioctl, wrap the errno
//     (errors.Is(err, unix.EBUSY) works), and say when CAP_NET_ADMIN is
//     missing.
//
// Creating, attaching to and deleting devices needs CAP_NET_ADMIN (attaching
// also works for the device's owner or group); NetNS needs CAP_SYS_ADMIN.
package tuntap

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
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
		{"TUNSETOWNER", cfg.Owner == nil || *cfg.Owner == -1, func() error {
			return unix.IoctlSetInt(fds[0], TUNSETOWNER, *cfg.Owner)
		}},
		{"TUNSETGROUP", cfg.Group == nil || *cfg.Group == -1, func() error {
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

// Option adjusts Open.
type Option func(*openOptions)

type openOptions struct {
	netns    string
	queues   int
	flags    uint16
	setFlags bool
}

// WithNetNS makes Open look for the device in a network namespace, given as
// for Config.NetNS.
func WithNetNS(netns string) Option { return func(o *openOptions) { o.netns = netns } }

// WithQueues makes Open attach n queues (default 1); n > 1 needs a
// multi-queue device, which must not reach MaxQueues queues in total.
func WithQueues(n int) Option { return func(o *openOptions) { o.queues = n } }

// WithFlags makes Open attach with these TUNSETIFF flags instead of the
// device's own. Their IFF_TUN/IFF_TAP and IFF_MULTI_QUEUE must match the
// device. The kernel applies IFF_NO_PI and IFF_VNET_HDR to the device only
// when no other file is attached to it; otherwise they are ignored.
func WithFlags(flags uint16) Option {
	return func(o *openOptions) { o.flags, o.setFlags = flags, true }
}

// Open attaches to the existing tun/tap device called name. By default it
// attaches with the device's own flags (read over rtnetlink), so attaching
// does not change how the device frames packets: the kernel takes
// IFF_NO_PI and IFF_VNET_HDR from the first attaching file.
//
// A missing device gives an error wrapping unix.ENODEV; a device that is
// not tun/tap, one wrapping ErrNotTunTap; a single-queue device that
// another file is attached to, one wrapping unix.EBUSY.
func Open(name string, opts ...Option) (*Tap, error) {
	o := openOptions{queues: 1}
	for _, opt := range opts {
		opt(&o)
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	if o.queues < 1 || o.queues > MaxQueues {
		return nil, invalid("WithQueues(%d): want 1 to %d", o.queues, MaxQueues)
	}
	if err := validateNetNS(o.netns); err != nil {
		return nil, invalid("%v", err)
	}
	if o.setFlags && o.flags&^(knownFlags&^IFF_TUN_EXCL) != 0 {
		return nil, invalid("WithFlags(%#04x): unknown flags %#04x", o.flags, o.flags&^(knownFlags&^IFF_TUN_EXCL))
	}

	fds, l, err := openInNetNS(o.netns, name, o.queues)
	if err != nil {
		return nil, fmt.Errorf("tuntap: open %s: %w", name, err)
	}
	flags := attachFlags(l.Tun)
	if o.setFlags {
		mask := uint16(IFF_TUN | IFF_TAP | IFF_MULTI_QUEUE)
		if o.flags&mask != flags&mask {
			closeFDs(fds)
			return nil, invalid("open %s: WithFlags(%#04x) does not match the device's type and multi-queue flags (%#04x)", l.Name, o.flags, flags&mask)
		}
		flags = o.flags
	}
	if o.queues > 1 && !l.Tun.MultiQueue {
		closeFDs(fds)
		return nil, invalid("open %s: WithQueues(%d) needs a multi-queue device", l.Name, o.queues)
	}
	for i, fd := range fds {
		if _, err := setIff(fd, l.Name, flags); err != nil {
			closeFDs(fds)
			step := "TUNSETIFF"
			if i > 0 {
				step = fmt.Sprintf("TUNSETIFF (queue %d)", i)
			}
			return nil, ioctlError("open", l.Name, step, err)
		}
	}
	return newTap(l.Name, o.netns, flags, fds), nil
}

// Delete removes the persistent tun/tap device called name in the network
// namespace netns ("" for the caller's, otherwise as Config.NetNS): it
// attaches to the device and clears persistence (TUNSETPERSIST 0), so the
// kernel destroys it when the file is closed.
//
// A device that other processes still hold open (a running VMM's
// multi-queue tap, say) goes away only when they close it; a single-queue
// one that is attached elsewhere gives an error wrapping unix.EBUSY.
// A missing device gives an error wrapping unix.ENODEV, so a second Delete
// of the same name fails with it; a device that is not tun/tap gives one
// wrapping ErrNotTunTap and is left alone.
func Delete(name, netns string) error {
	if err := validName(name); err != nil {
		return err
	}
	if err := validateNetNS(netns); err != nil {
		return invalid("%v", err)
	}
	fds, l, err := openInNetNS(netns, name, 1)
	if err != nil {
		return fmt.Errorf("tuntap: delete %s: %w", name, err)
	}
	defer closeFDs(fds)
	if _, err := setIff(fds[0], l.Name, attachFlags(l.Tun)); err != nil {
		return ioctlError("delete", l.Name, "TUNSETIFF", err)
	}
	if err := unix.IoctlSetInt(fds[0], TUNSETPERSIST, 0); err != nil {
		return ioctlError("delete", l.Name, "TUNSETPERSIST 0", err)
	}
	return nil
}

// KernelFeatures reports the TUNSETIFF flags the running kernel supports
// (TUNGETFEATURES on an unattached /dev/net/tun file).
func KernelFeatures() (uint16, error) {
	fd, err := openTun()
	if err != nil {
		return 0, fmt.Errorf("tuntap: %w", err)
	}
	defer unix.Close(fd)
	v, err := unix.IoctlGetUint32(fd, TUNGETFEATURES)
	if err != nil {
		return 0, fmt.Errorf("tuntap: TUNGETFEATURES: %w", err)
	}
	return uint16(v), nil
}

// openInNetNS opens n /dev/net/tun files in netns. When lookup is set it
// first checks, in the same namespace, that lookup names a tun/tap device.
func openInNetNS(ns, lookup string, n int) (fds []int, l *link.Link, err error) {
	err = netns.Do(ns, func() error {
		if lookup != "" {
			if l, err = lookupTun(lookup); err != nil {
				return err
			}
		}
		for range n {
			fd, err := openTun()
			if err != nil {
				return err
			}
			fds = append(fds, fd)
		}
		return nil
	})
	if err != nil {
		closeFDs(fds)
		return nil, nil, err
	}
	return fds, l, nil
}

// lookupTun asks rtnetlink (RTM_GETLINK, link.Lookup) about the device
// called name in the calling thread's namespace (openInNetNS has moved the
// thread there, so the socket is made there: no second setns) and checks
// that it is a tun/tap device. A missing device gives unix.ENODEV; one of
// another kind, an error wrapping ErrNotTunTap.
//
// It asks rtnetlink rather than reading /sys/class/net/NAME/tun_flags
// because sysfs shows the devices of the namespace it was mounted in, not
// those of the thread that reads it: after setns, /sys/class/net still lists
// the original namespace's devices.
func lookupTun(name string) (*link.Link, error) {
	c, err := nl.Dial(nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	l, err := link.Lookup(c, name)
	if link.IsNotFound(err) {
		return nil, unix.ENODEV
	}
	if err != nil {
		return nil, err
	}
	if l.Kind != link.KindTun || l.Tun == nil {
		kind := l.Kind
		if kind == "" {
			kind = "none"
		}
		return nil, fmt.Errorf("%w (kind %s)", ErrNotTunTap, kind)
	}
	return l, nil
}

// attachFlags returns the TUNSETIFF flags that attach to the tun/tap
// device ti describes without changing it.
func attachFlags(ti *link.TunInfo) uint16 {
	f := uint16(ti.Type)
	if !ti.PI {
		f |= IFF_NO_PI
	}
	if ti.VnetHdr {
		f |= IFF_VNET_HDR
	}
	if ti.MultiQueue {
		f |= IFF_MULTI_QUEUE
	}
	return f
}

// openTun opens /dev/net/tun. O_NONBLOCK lets os.NewFile register the file
// with the runtime poller, so reads and writes park goroutines instead of
// threads and honour deadlines.
func openTun() (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENODEV), errors.Is(err, unix.ENXIO):
		return -1, fmt.Errorf("open /dev/net/tun: %w (load the tun module, or create the node: mknod /dev/net/tun c 10 200)", err)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return -1, fmt.Errorf("open /dev/net/tun: %w (denied by file mode or device cgroup)", err)
	}
	return -1, fmt.Errorf("open /dev/net/tun: %w", err)
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// setIff runs TUNSETIFF and returns the device name the kernel used.
func setIff(fd int, name string, flags uint16) (string, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return "", err
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, TUNSETIFF, ifr); err != nil {
		return "", err
	}
	return ifr.Name(), nil
}

// ioctlError names the device and the ioctl, wraps the errno, and adds a hint
// for the errnos whose bare text misleads.
func ioctlError(op, name, ioctl string, err error) error {
	prefix := "tuntap: " + name
	if op != "" {
		prefix = "tuntap: " + op + " " + name
	}
	hint := ""
	switch {
	case errors.Is(err, unix.EPERM) && ioctl == "TUNSETIFF" && op != "create":
		hint = " (CAP_NET_ADMIN is needed, unless the caller is the device's owner or in its group)"
	case errors.Is(err, unix.EPERM):
		hint = " (CAP_NET_ADMIN is needed)"
	case errors.Is(err, unix.EBUSY) && op == "create" && ioctl == "TUNSETIFF":
		hint = " (a device with this name already exists)"
	case errors.Is(err, unix.EBUSY) && ioctl == "TUNSETIFF":
		hint = " (a single-queue device already has a file attached)"
	}
	return fmt.Errorf("%s: %s: %w%s", prefix, ioctl, err, hint)
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

// Flags returns the device's flags as TUNGETIFF reports them: IFF_TUN or
// IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, IFF_MULTI_QUEUE, IFF_ONE_QUEUE,
// IFF_NAPI, IFF_NAPI_FRAGS and IFF_PERSIST.
//
// TUNGETIFF ORs IFF_NOFILTER into its answer when the queue has no socket
// filter, and IFF_NOFILTER has IFF_NO_PI's value, so the kernel's bit says
// nothing about IFF_NO_PI. Flags replaces it with the IFF_NO_PI the files
// were attached with, which the kernel cannot change while they stay
// attached. The per-queue IFF_DETACH_QUEUE is dropped; see QueueAttached.
func (t *Tap) Flags() (uint16, error) {
	flags, err := t.getIff(0, "TUNGETIFF")
	if err != nil {
		return 0, err
	}
	flags &^= IFF_NOFILTER | IFF_DETACH_QUEUE
	return flags | t.flags&IFF_NO_PI, nil
}

// Features reports the TUNSETIFF flags the kernel supports (TUNGETFEATURES).
func (t *Tap) Features() (uint16, error) {
	var v uint32
	err := t.control(0, "TUNGETFEATURES", func(fd int) (err error) {
		v, err = unix.IoctlGetUint32(fd, TUNGETFEATURES)
		return err
	})
	return uint16(v), err
}

// SetOffload tells the kernel which offloads the reader of the files
// handles (TUNSETOFFLOAD with TUN_F_* flags; 0 turns them all off). It
// applies to the whole device. The kernel rejects with EINVAL any flag it
// does not know and any offload without TUN_F_CSUM.
func (t *Tap) SetOffload(flags uint32) error {
	return t.control(0, "TUNSETOFFLOAD", func(fd int) error {
		return unix.IoctlSetInt(fd, TUNSETOFFLOAD, int(flags))
	})
}

// SetVnetHdrSize sets the length of the virtio-net header that precedes
// every frame (TUNSETVNETHDRSZ), for the whole device. n must be at least
// VirtioNetHdrLen.
func (t *Tap) SetVnetHdrSize(n int) error {
	if n < VirtioNetHdrLen || n > 1<<31-1 {
		return fmt.Errorf("tuntap: %s: TUNSETVNETHDRSZ: %w: size %d, want %d to 2^31-1", t.name, ErrInvalid, n, VirtioNetHdrLen)
	}
	return t.control(0, "TUNSETVNETHDRSZ", func(fd int) error {
		return unix.IoctlSetPointerInt(fd, TUNSETVNETHDRSZ, n)
	})
}

// VnetHdrSize returns the length of the virtio-net header (TUNGETVNETHDRSZ).
func (t *Tap) VnetHdrSize() (int, error) {
	var v uint32
	err := t.control(0, "TUNGETVNETHDRSZ", func(fd int) (err error) {
		v, err = unix.IoctlGetUint32(fd, TUNGETVNETHDRSZ)
		return err
	})
	return int(int32(v)), err
}

// SetCarrier turns the device's carrier on or off (TUNSETCARRIER), as a
// VMM does when the guest's link goes up or down.
func (t *Tap) SetCarrier(up bool) error {
	v := 0
	if up {
		v = 1
	}
	return t.control(0, "TUNSETCARRIER", func(fd int) error {
		return unix.IoctlSetPointerInt(fd, TUNSETCARRIER, v)
	})
}

// SetPersist makes the device persistent (TUNSETPERSIST 1: it outlives its
// files, until Delete) or not (0: the kernel destroys it with its last
// file). Create with Config.Persist false, set the device up, then
// SetPersist(true): a process killed before that leaves no device behind.
func (t *Tap) SetPersist(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return t.control(0, "TUNSETPERSIST", func(fd int) error {
		return unix.IoctlSetInt(fd, TUNSETPERSIST, v)
	})
}

// AttachQueue re-enables queue i of a multi-queue device (TUNSETQUEUE with
// IFF_ATTACH_QUEUE). The kernel answers EINVAL if the queue is attached.
func (t *Tap) AttachQueue(i int) error { return t.setQueue(i, IFF_ATTACH_QUEUE) }

// DetachQueue disables queue i of a multi-queue device (TUNSETQUEUE with
// IFF_DETACH_QUEUE): the kernel stops steering frames to it, and writes to
// it fail, until AttachQueue. The file stays open, so the device and the
// other queues are unaffected. The kernel answers EINVAL if the queue is
// already detached.
func (t *Tap) DetachQueue(i int) error { return t.setQueue(i, IFF_DETACH_QUEUE) }

func (t *Tap) setQueue(i int, flag uint16) error {
	ioctl := fmt.Sprintf("TUNSETQUEUE (queue %d)", i)
	if t.flags&IFF_MULTI_QUEUE == 0 {
		return fmt.Errorf("tuntap: %s: %s: not a multi-queue device: %w", t.name, ioctl, unix.EINVAL)
	}
	return t.control(i, ioctl, func(fd int) error {
		ifr, err := unix.NewIfreq("")
		if err != nil {
			return err
		}
		ifr.SetUint16(flag)
		return unix.IoctlIfreq(fd, TUNSETQUEUE, ifr)
	})
}

// QueueAttached reports whether queue i is attached, i.e. not disabled with
// DetachQueue (TUNGETIFF reports IFF_DETACH_QUEUE on a detached queue).
func (t *Tap) QueueAttached(i int) (bool, error) {
	flags, err := t.getIff(i, fmt.Sprintf("TUNGETIFF (queue %d)", i))
	return flags&IFF_DETACH_QUEUE == 0, err
}

// getIff reads queue i's flags with TUNGETIFF, as the kernel reports them.
func (t *Tap) getIff(i int, step string) (uint16, error) {
	var flags uint16
	err := t.control(i, step, func(fd int) error {
		ifr, err := unix.NewIfreq("")
		if err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, TUNGETIFF, ifr); err != nil {
			return err
		}
		flags = ifr.Uint16()
		return nil
	})
	return flags, err
}
