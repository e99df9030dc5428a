// Package tcwire wires a container's veth (the eth0 a CNI plugin made) to a
// virtual machine's tap with Linux traffic control, the way Kata
// Containers, firecracker-containerd (tc-redirect-tap) and
// containerlab/vrnetlab do: an ingress qdisc, a u32 catch-all filter and a
// mirred egress redirect in each direction.
//
// A Handle is tcwire in one network namespace; its calls are the whole
// operation an embedder needs, one each way:
//
//	h, err := tcwire.Open("/proc/1234/ns/net")
//	defer h.Close()
//	a, err := h.Attach(ctx, tcwire.Options{Dev: "eth0", Tap: "tap0"})
//	// give the VMM a.Tap (or a.Files) and a.MAC for the guest's NIC
//	d, err := h.Detach(ctx, tcwire.Options{Dev: "eth0", Tap: "tap0"})
//
// The package-level functions (Attach, Detach …) are one-shot
// conveniences: each opens a Handle on Options.NetNS and closes it.
//
// Every call reads the state, decides from it alone (a pure function:
// the same state and options give the same Plan) and then acts; the
// calls that change the namespace hold its lock meanwhile, so concurrent
// callers converge (see Handle).
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
)

// Attach wires o.Dev and o.Tap both ways, creating the tap when it does
// not exist. All or nothing: on failure, a tap it created is deleted again
// and the tc objects it added are removed. A second identical call changes
// nothing and returns the same Attachment (Created false).
func Attach(ctx context.Context, o Options) (a *Attachment, err error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	err = oneShot(o.NetNS, func(h *Handle) error {
		a, err = h.Attach(ctx, o)
		return err
	})
	return a, err
}

// Detach removes what Attach added between o.Dev and o.Tap, in the mode
// the kernel shows (o.Mode, when given, must agree): the wire filters both
// ways and an ingress qdisc they leave empty, the macvtap, or tcwire's
// bridge; and the tap (or macvtap) when it carries tcwire's mark and no
// process holds it open. Devices that are not wired to each other are
// refused with a *ConflictError naming what each is wired to, and nothing
// changes. A redirect into a device that is gone (a stale half) is
// removed. Detaching what is already detached succeeds; only when neither
// device exists is it an error (ErrNotFound), for a name mistyped.
// Handle.Detach also says what it removed and what it left.
func Detach(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	return oneShot(o.NetNS, func(h *Handle) error {
		_, err := h.Detach(ctx, o)
		return err
	})
}

// PlanAttach returns the steps Attach would take now: the tap's creation
// (ioctls on /dev/net/tun) or bringing it up, its setup requests and the tc
// requests, each as sent. It reads the live state and changes nothing. An
// error is the one Attach would return before changing anything.
func PlanAttach(ctx context.Context, o Options) (p *Plan, err error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	err = oneShot(o.NetNS, func(h *Handle) error {
		p, err = h.PlanAttach(ctx, o)
		return err
	})
	return p, err
}

// PlanDetach returns the steps Detach would take now. It reads the live
// state and changes nothing. An error is the one Detach would return
// before changing anything.
func PlanDetach(ctx context.Context, o Options) (p *Plan, err error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	err = oneShot(o.NetNS, func(h *Handle) error {
		p, err = h.PlanDetach(ctx, o)
		return err
	})
	return p, err
}

// Check lists what differs from what Attach with o leaves (what CNI CHECK
// verifies), in the mode the kernel shows (o.Mode, when given, must
// agree): the tap exists, is a tap, is tcwire's and up, has the MTU,
// owner and group the options give, and both devices have an ingress (or
// clsact) qdisc with the wire redirect to the other (DEV's mirror to the
// tap with Mirror); in the macvtap and bridge modes, what those modes
// leave. No problems is an empty list; an error is a failure to read the
// state.
func Check(ctx context.Context, o Options) (ps []Problem, err error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	err = oneShot(o.NetNS, func(h *Handle) error {
		ps, err = h.Check(ctx, o)
		return err
	})
	return ps, err
}

// ReadRedirects reads the redirects in place on the devices named in
// netns ("" for the caller's), or on every device when none is named. Its
// cost follows the devices named, not the namespace; reading every device
// keeps what it holds to one line per device (its name and state) and the
// rows.
func ReadRedirects(ctx context.Context, ns string, devs ...string) (rs []Redirect, err error) {
	if err := checkRead(ns, devs); err != nil {
		return nil, err
	}
	err = oneShot(ns, func(h *Handle) error {
		rs, err = h.Redirects(ctx, devs...)
		return err
	})
	return rs, err
}

// ReadBindings reads the macvtaps and the bridges of bridge mode in netns
// ("" for the caller's): those on, holding or being the devices named, or
// all when none is. With devices named its cost follows them, not the
// namespace: they, their masters and the namespace's macvtaps (a dump the
// kernel filters by kind) are all it reads.
func ReadBindings(ctx context.Context, ns string, devs ...string) (bs []Binding, err error) {
	if err := checkRead(ns, devs); err != nil {
		return nil, err
	}
	err = oneShot(ns, func(h *Handle) error {
		bs, err = h.Bindings(ctx, devs...)
		return err
	})
	return bs, err
}

// AddTap creates a tap on its own, wired to nothing, as `ip tuntap add`
// would but all or nothing and marked as tcwire's (Detach deletes it).
func AddTap(ctx context.Context, to TapOptions) (a *Attachment, err error) {
	if err := to.Validate(); err != nil {
		return nil, err
	}
	err = oneShot(to.NetNS, func(h *Handle) error {
		a, err = h.AddTap(ctx, to)
		return err
	})
	return a, err
}

// DeleteTap deletes the persistent tap called name in netns, whoever made
// it (TUNSETPERSIST 0); one that a process holds open is refused.
func DeleteTap(ctx context.Context, netns, name string) error {
	o := Options{NetNS: netns, Tap: name}
	if err := checkNetNS(netns); err != nil {
		return err
	}
	if err := o.validateTap(); err != nil {
		return err
	}
	return oneShot(netns, func(h *Handle) error { return h.DeleteTap(ctx, name) })
}
