package tcwire

import (
	"fmt"
	"net"
	"os"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/tuntap"
)

// Options say which devices to wire and how a tap tcwire creates is made.
// The zero value of every tap setting means tcwire's default; a setting
// that is given is also checked against a tap that exists already, and a
// tap that differs is refused (a *MismatchError), never silently kept.
type Options struct {
	// NetNS is the network namespace of both devices: a name under
	// /run/netns or a path (/proc/PID/ns/net, a CNI_NETNS). "" is the
	// caller's.
	NetNS string
	// Dev is the device whose traffic the VM takes over: the container's
	// veth.
	Dev string
	// Tap is the VM's tap. Attach creates it when it does not exist.
	Tap string

	// Queues is the number of queues of the tap (multiqueue when more
	// than 1, one file each for the VMM). 0 means 1.
	Queues int
	// Owner is the uid allowed to open the tap without CAP_NET_ADMIN; nil
	// means the caller's euid, unless Group is given (a persistent tap
	// with neither can be opened and deleted by any user).
	Owner *int
	// Group is the gid allowed to open the tap without CAP_NET_ADMIN; nil
	// means none.
	Group *int
	// MTU of the tap; 0 means DEV's.
	MTU uint32
	// NoVnetHdr makes a tap without the virtio-net header (IFF_VNET_HDR),
	// for a VMM that does not use one. A tap tcwire creates has it
	// otherwise, as qemu, Cloud Hypervisor and Firecracker expect.
	NoVnetHdr bool
	// KeepTapQdisc leaves the kernel's default root qdisc on a tap tcwire
	// creates instead of noqueue. tun never stops its queue, so a
	// queueing qdisc only adds cost (and, with a host-wide fq default,
	// drops).
	KeepTapQdisc bool

	// QuietDev silences DEV's own IPv6 (`--dev-addrgenmode none`): address
	// generation off and its link-local addresses removed, so that nothing
	// but the VM sends with the VM's MAC (DEV's). Its IPv4 addresses stay:
	// the CNI owns them, and other plugins check them. Detach puts back
	// what it changed, which Attach keeps in the alias of the tap it
	// creates; it is refused with a tap tcwire did not make.
	QuietDev bool
	// QuietTap does to an existing tap what Attach does to every tap it
	// creates (`--tap-addrgenmode none`, the default of tcwire-ifup): IPv6
	// address generation off before it goes up, and its link-local
	// addresses removed, so that the host's own stack sends nothing into
	// the VM. The tap stays so after Detach: it is not tcwire's.
	QuietTap bool

	// Files asks Attach for the tap's queue files (Attachment.Files), so
	// that a runtime that passes file descriptors to its VMM (Kata, Cloud
	// Hypervisor) does not open the tap again. In macvtap mode it is the
	// open /dev/tapN.
	Files bool

	// Mode is how DEV reaches the VM: ModeTC, ModeMacvtap or ModeBridge.
	// Tap names the VM's device in every mode: the tap, or the macvtap.
	// "" is ModeTC for Attach; Detach and Check read the mode from the
	// kernel, and refuse one given that contradicts it.
	Mode Mode
	// Mirror (tc mode only) leaves DEV its traffic and gives the tap a
	// copy of what DEV receives (mirred egress mirror on DEV's ingress),
	// for a VM that only watches; what the VM sends goes nowhere.
	Mirror bool
}

// Attachment is what a VMM needs to use the tap Attach wired.
type Attachment struct {
	// Dev and DevIndex name the wired device.
	Dev      string
	DevIndex int32
	// Tap and TapIndex name the tap.
	Tap      string
	TapIndex int32
	// MAC is the address to give the guest's NIC: DEV's. The container's
	// network knows DEV by it, and anti-spoofing CNIs drop anything else.
	MAC net.HardwareAddr
	// TapMAC is the tap's own address (the host's end; the guest uses MAC).
	TapMAC net.HardwareAddr
	// MTU is the tap's MTU.
	MTU uint32
	// Queues is the number of queues the VMM must open and be told.
	Queues int
	// Created reports that Attach created the tap.
	Created bool
	// Files are the tap's queue files when Options.Files asked for them,
	// one per queue; the caller closes them. nil otherwise.
	Files []*os.File

	// Mode is the mode Attach used.
	Mode Mode
	// DevNode is, in macvtap mode, the macvtap's character device
	// (/dev/tapN) the VMM opens; "" otherwise.
	DevNode string
	// Bridge is, in bridge mode, the bridge holding DEV and the tap; ""
	// otherwise.
	Bridge string
}

// Validate checks the options on their own, before anything is read: the
// namespace and both names, the tap settings, and that the mode takes the
// other options (a *ModeError otherwise). It is the one place options are
// checked; every call of the package validates what it is given, and the
// command line and the CNI plugin only map their syntax onto Options. An
// error satisfies errors.Is(err, ErrInvalid).
func (o Options) Validate() error {
	if err := checkNetNS(o.NetNS); err != nil {
		return err
	}
	if err := link.CheckName(o.Dev); err != nil {
		return &OptionError{Option: "dev", Value: o.Dev, Why: err.Error()}
	}
	if err := o.validateTap(); err != nil {
		return err
	}
	if o.Dev == o.Tap {
		return &OptionError{Option: "tap", Value: o.Tap, Why: "DEV and TAP are both " + o.Dev + ": a device cannot be wired to itself"}
	}
	return o.validateSettings()
}

// validateTap checks the tap's name.
func (o Options) validateTap() error {
	if err := link.CheckName(o.Tap); err != nil {
		return &OptionError{Option: "tap", Value: o.Tap, Why: err.Error()}
	}
	return nil
}

// validateSettings checks the tap settings and the mode.
func (o Options) validateSettings() error {
	if err := o.CheckMode(); err != nil {
		return err
	}
	switch {
	case o.Queues < 0 || o.Queues > tuntap.MaxQueues:
		return &OptionError{Option: "queues", Value: fmt.Sprint(o.Queues), Why: fmt.Sprintf("want 1 to %d (0 means 1)", tuntap.MaxQueues)}
	case o.Owner != nil && (*o.Owner < 0 || *o.Owner > tuntap.MaxID):
		return &OptionError{Option: "owner", Value: fmt.Sprint(*o.Owner), Why: fmt.Sprintf("not a uid (0 to %d)", tuntap.MaxID)}
	case o.Group != nil && (*o.Group < 0 || *o.Group > tuntap.MaxID):
		return &OptionError{Option: "group", Value: fmt.Sprint(*o.Group), Why: fmt.Sprintf("not a gid (0 to %d)", tuntap.MaxID)}
	case o.MTU != 0 && (o.MTU < 68 || o.MTU > 65521):
		return &OptionError{Option: "mtu", Value: fmt.Sprint(o.MTU), Why: "a tap takes 68 to 65521"}
	}
	return nil
}

// checkNetNS checks a namespace's name or path ("" is the caller's).
func checkNetNS(ns string) error {
	if ns == "" {
		return nil
	}
	if _, err := netns.Path(ns); err != nil {
		return &OptionError{Option: "netns", Value: ns, Why: err.Error()}
	}
	return nil
}

func (o Options) queues() int {
	if o.Queues == 0 {
		return 1
	}
	return o.Queues
}

// owner is the owner and group a tap tcwire creates gets, nil for none:
// the caller's euid when neither is given, as tc-redirect-tap does.
func (o Options) owner(euid int) (owner, group *int) {
	owner, group = o.Owner, o.Group
	if owner == nil && group == nil {
		owner = &euid
	}
	return owner, group
}

// tapConfig is the tuntap.Config of the tap Attach creates.
func (o Options) tapConfig() tuntap.Config {
	cfg := tuntap.Config{Name: o.Tap, Persist: true, Queues: o.queues(), NetNS: o.NetNS}
	if o.NoVnetHdr {
		cfg.Flags = tuntap.IFF_TAP | tuntap.IFF_NO_PI
	}
	cfg.Owner, cfg.Group = o.owner(os.Geteuid())
	return cfg
}

// OptionError is an option whose value tcwire refuses. errors.Is(err,
// ErrInvalid) holds.
type OptionError struct {
	// Option names the option as the command line spells it ("queues",
	// "tap", "netns"), Value is its value.
	Option, Value string
	// Why says what is wrong with it.
	Why string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Option, e.Value, e.Why)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *OptionError) Is(target error) bool { return target == ErrInvalid }
