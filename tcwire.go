// Package tcwire wires a container's veth (the eth0 a CNI plugin made) to a
// virtual machine's tap with Linux traffic control, the way Kata
// Containers, firecracker-containerd (tc-redirect-tap) and
// containerlab/vrnetlab do: an ingress qdisc, a u32 catch-all filter and a
// mirred egress redirect in each direction.
//
// It is the whole operation an embedder needs, in one call each way:
//
//	a, err := tcwire.Attach(ctx, tcwire.Options{NetNS: "/proc/1234/ns/net", Dev: "eth0", Tap: "tap0"})
//	// give the VMM a.Tap (or a.Files) and a.MAC for the guest's NIC
//	err = tcwire.Detach(ctx, tcwire.Options{NetNS: "/proc/1234/ns/net", Dev: "eth0", Tap: "tap0"})
//
// Attach finds DEV, creates the tap when it does not exist (persistent,
// virtio-net header, DEV's MTU, marked as tcwire's, a noqueue root qdisc),
// or checks that an existing one fits the options, brings it up and wires
// both ways, all or nothing. Detach removes exactly that, and refuses to
// touch devices that are not wired to each other. PlanAttach and
// PlanDetach return the steps they would take, read-only; Check lists what
// differs from what Attach leaves; Probe tells whether the kernel can wire
// at all; ReadRedirects reads the redirects in place.
//
// Options.Mode chooses another way to the VM: a passthru macvtap on DEV
// whose /dev/tapN the VMM opens (ModeMacvtap), or a bridge holding DEV and
// the tap (ModeBridge); Options.Mirror gives the tap a copy of DEV's
// traffic instead of the traffic itself.
//
// The packages under it are the protocol layers: nl (netlink framing), tc
// (qdiscs, u32, mirred), link (rtnetlink links) and tuntap (/dev/net/tun).
// Everything needs CAP_NET_ADMIN in the namespace, and CAP_SYS_ADMIN to
// enter another one.
package tcwire

import (
	"context"
	"net"
	"os"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
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

	// Mode is how DEV reaches the VM: ModeTC ("" too), ModeMacvtap or
	// ModeBridge. Tap names the VM's device in every mode: the tap, or
	// the macvtap. Detach and Check must be given the mode Attach was.
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

// Attach wires o.Dev and o.Tap both ways, creating the tap when it does
// not exist. All or nothing: on failure, a tap it created is deleted again
// and the tc objects it added are removed. A second identical call changes
// nothing and returns the same Attachment (Created false).
func Attach(ctx context.Context, o Options) (*Attachment, error) {
	c, err := dial(o)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	p, err := planAttach(ctx, c, o)
	if err != nil {
		return nil, classify(err)
	}
	a, err := p.attach(ctx, c)
	return a, classify(err)
}

// Detach removes what Attach added between o.Dev and o.Tap: the wire
// filters both ways, an ingress qdisc they leave empty, and the tap when it
// carries tcwire's mark and is wired to o.Dev (or to nothing). Devices that
// are not wired to each other are refused with a *ConflictError naming
// what each is wired to, and nothing changes. A redirect into a device
// that is gone (a stale half) is removed. Detaching what is already
// detached succeeds; only when neither device exists is it an error
// (ErrNotFound), for a name mistyped.
func Detach(ctx context.Context, o Options) error {
	c, err := dial(o)
	if err != nil {
		return err
	}
	defer c.Close()
	p, err := planDetach(ctx, c, o)
	if err != nil {
		return classify(err)
	}
	return classify(p.detach(ctx, c))
}

// dial checks the options that name things and opens a netlink socket in
// o.NetNS.
func dial(o Options) (*nl.Conn, error) {
	if err := o.checkNames(); err != nil {
		return nil, err
	}
	c, err := nl.Dial(&nl.Config{NetNS: o.NetNS})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (o Options) checkNames() error {
	if o.NetNS != "" {
		if _, err := netns.Path(o.NetNS); err != nil {
			return invalidf("NetNS: %v", err)
		}
	}
	if err := link.CheckName(o.Dev); err != nil {
		return invalidf("Dev: %v", err)
	}
	if err := link.CheckName(o.Tap); err != nil {
		return invalidf("Tap: %v", err)
	}
	if o.Dev == o.Tap {
		return invalidf("Dev and Tap are both %s: a device cannot be wired to itself", o.Dev)
	}
	return nil
}

// checkTapOnly checks the options of a tap on its own: its name and
// settings.
func (o Options) checkTapOnly() error {
	if o.NetNS != "" {
		if _, err := netns.Path(o.NetNS); err != nil {
			return invalidf("NetNS: %v", err)
		}
	}
	if err := link.CheckName(o.Tap); err != nil {
		return invalidf("Tap: %v", err)
	}
	return o.check()
}

// check validates the tap settings and the mode.
func (o Options) check() error {
	if err := o.CheckMode(); err != nil {
		return err
	}
	switch {
	case o.Queues < 0 || o.Queues > tuntap.MaxQueues:
		return invalidf("Queues %d: want 1 to %d (0 means 1)", o.Queues, tuntap.MaxQueues)
	case o.Owner != nil && (*o.Owner < 0 || *o.Owner > tuntap.MaxID):
		return invalidf("Owner %d: not a uid (0 to %d)", *o.Owner, tuntap.MaxID)
	case o.Group != nil && (*o.Group < 0 || *o.Group > tuntap.MaxID):
		return invalidf("Group %d: not a gid (0 to %d)", *o.Group, tuntap.MaxID)
	case o.MTU != 0 && (o.MTU < 68 || o.MTU > 65521):
		return invalidf("MTU %d: a tap takes 68 to 65521", o.MTU)
	}
	return nil
}

func (o Options) queues() int {
	if o.Queues == 0 {
		return 1
	}
	return o.Queues
}

// owner is the owner and group a tap tcwire creates gets, -1 for none: the
// caller's euid when neither is given, as tc-redirect-tap does.
func (o Options) owner(euid int) (owner, group int) {
	owner, group = -1, -1
	if o.Owner != nil {
		owner = *o.Owner
	}
	if o.Group != nil {
		group = *o.Group
	}
	if owner < 0 && group < 0 {
		owner = euid
	}
	return owner, group
}

// tapConfig is the tuntap.Config of the tap Attach creates.
func (o Options) tapConfig() tuntap.Config {
	cfg := tuntap.Config{Name: o.Tap, Persist: true, Queues: o.queues(), NetNS: o.NetNS}
	if o.NoVnetHdr {
		cfg.Flags = tuntap.IFF_TAP | tuntap.IFF_NO_PI
	}
	owner, group := o.owner(os.Geteuid())
	if owner >= 0 {
		cfg.Owner = &owner
	}
	if group >= 0 {
		cfg.Group = &group
	}
	return cfg
}
