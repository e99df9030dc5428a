package tcwire

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// The tap tc and bridge mode create, or find and check: its creation on
// /dev/net/tun, its setup requests, and the checks of one that exists.

// minIPv6MTU is IPV6_MIN_MTU: a device with a smaller MTU has no IPv6.
const minIPv6MTU = 1280

// newTapIndex stands for the ifindex of a tap Attach has yet to create in
// the requests a plan shows (the kernel assigns the real one): the largest
// there is, which no device has yet.
const newTapIndex = math.MaxInt32

// addTapSteps adds the steps that create the tap, as tapDev (ifindex
// newTapIndex).
func (p *Plan) addTapSteps(tapDev tc.Dev) {
	o := p.Options
	p.Notes = append(p.Notes, fmt.Sprintf("%s does not exist: Attach creates it; its requests show ifindex %d where the kernel's choice will be", o.Tap, newTapIndex))
	p.add(Step{Cmd: createCmd(o.tapConfig())})
	p.addRequests(tapSetup(tapDev, o, p.tapMTU(), p.alias())...)
	p.add(Step{Cmd: "ioctl(TUNSETPERSIST, 1) on " + o.Tap + "'s first queue file, then close the files: the tap outlives tcwire"})
	p.addRequests(link.SetUpRequest(tapDev.Index, tapDev.Name))
}

// alias is the alias of the tap Attach creates: tcwire's mark, with the
// record of what QuietDev changes.
func (p *Plan) alias() string {
	if p.tapAlias == "" {
		return link.OwnerAlias
	}
	return p.tapAlias
}

func (p *Plan) tapMTU() uint32 {
	if p.Options.MTU != 0 {
		return p.Options.MTU
	}
	return p.dev.MTU
}

// tapSetup is what a tap tcwire creates gets once TUNSETIFF made it, in
// one batch before it goes up: tcwire's mark (alias), its MTU, IPv6
// address generation off (it has no IPv6 below 1280 bytes), and a noqueue
// root qdisc unless the options keep the kernel's.
func tapSetup(tap tc.Dev, o Options, mtu uint32, alias string) []nl.Request {
	reqs := []nl.Request{
		link.SetAliasRequest(tap.Index, tap.Name, alias),
		link.SetMTURequest(tap.Index, tap.Name, mtu),
	}
	if mtu >= minIPv6MTU {
		reqs = append(reqs, link.SetAddrGenModeRequest(tap.Index, tap.Name, link.AddrGenModeNone))
	}
	if !o.KeepTapQdisc {
		reqs = append(reqs, tc.AddQdiscRequest(tc.Qdisc{Dev: tap.Name, Ifindex: tap.Index, Parent: tc.TC_H_ROOT, Kind: "noqueue"}))
	}
	return reqs
}

// createCmd describes the tap's creation: the ip command that makes the
// same tap, and the ioctls tcwire uses for it.
func createCmd(cfg tuntap.Config) string {
	var ip, ioctls []string
	flags := "IFF_TAP|IFF_NO_PI"
	ip = append(ip, "ip tuntap add dev "+cfg.Name+" mode tap")
	if cfg.Flags == 0 {
		flags += "|IFF_VNET_HDR"
		ip = append(ip, "vnet_hdr")
	}
	if cfg.Queues > 1 {
		flags += "|IFF_MULTI_QUEUE"
		ip = append(ip, "multi_queue")
	}
	ioctls = append(ioctls, fmt.Sprintf("TUNSETIFF(%s, %s|IFF_TUN_EXCL)", cfg.Name, flags))
	if cfg.Owner != nil {
		ip = append(ip, fmt.Sprintf("user %d", *cfg.Owner))
		ioctls = append(ioctls, fmt.Sprintf("TUNSETOWNER(%d)", *cfg.Owner))
	}
	if cfg.Group != nil {
		ip = append(ip, fmt.Sprintf("group %d", *cfg.Group))
		ioctls = append(ioctls, fmt.Sprintf("TUNSETGROUP(%d)", *cfg.Group))
	}
	if cfg.Queues > 1 {
		ioctls = append(ioctls, fmt.Sprintf("TUNSETIFF on %d more files (one per queue)", cfg.Queues-1))
	}
	return strings.Join(ip, " ") + "   # open /dev/net/tun, " + strings.Join(ioctls, ", ")
}

// checkTap refuses an existing device called o.Tap that is not a tap, or
// whose settings contradict those the options give.
func checkTap(tap *link.Link, o Options) error {
	if tap.Kind != link.KindTun || tap.Tun == nil {
		return fmt.Errorf("%s is a %s device, %w", tap.Name, kindName(tap.Kind), ErrNotTap)
	}
	if !tap.Tun.Tap() {
		return fmt.Errorf("%s is a tun device (IP frames, no Ethernet header), %w", tap.Name, ErrNotTap)
	}
	t := tap.Tun
	mismatch := func(setting, have, want string) error {
		return &MismatchError{Tap: tap.Name, Setting: setting, Have: have, Want: want}
	}
	switch q := o.Queues; {
	case q > 1 && !t.MultiQueue:
		return mismatch("queues", "1 (single-queue)", fmt.Sprint(q))
	case q == 1 && t.MultiQueue:
		return mismatch("queues", "multi-queue", "1 (single-queue)")
	}
	// A persistent tap with neither owner nor group lets any local user
	// attach to it, and read and inject the VM's traffic: refused, unless
	// the options give them, which Attach then sets (ownTap).
	unowned := t.Persist && t.Owner == nil && t.Group == nil
	if unowned && o.Owner == nil && o.Group == nil {
		return &UnownedTapError{Tap: tap.Name}
	}
	if o.Owner != nil && !sameID(t.Owner, o.Owner) && !unowned {
		return mismatch("owner", idString(t.Owner), fmt.Sprint(*o.Owner))
	}
	if o.Group != nil && !sameID(t.Group, o.Group) && !unowned {
		return mismatch("group", idString(t.Group), fmt.Sprint(*o.Group))
	}
	if o.MTU != 0 && tap.MTU != o.MTU {
		return mismatch("mtu", fmt.Sprint(tap.MTU), fmt.Sprint(o.MTU))
	}
	if o.NoVnetHdr && t.VnetHdr {
		return mismatch("vnet_hdr", "on", "off")
	}
	return nil
}

// idString spells a tap's owner or group (nil: none).
func idString(id *int) string {
	if id == nil {
		return "none"
	}
	return fmt.Sprint(*id)
}

// sameID reports whether a tap's owner or group is want (nil: none).
func sameID(id, want *int) bool {
	if id == nil || want == nil {
		return id == want
	}
	return *id == *want
}

func kindName(kind string) string {
	if kind == "" {
		return "plain"
	}
	return kind
}

// ownTap makes the plan give an existing persistent tap with neither
// owner nor group the ones the options name (checkTap refused it without
// them), first, so that no frame reaches it while any user may open it.
func (p *Plan) ownTap() {
	t := p.tap
	if t == nil || t.Kind != link.KindTun || t.Tun == nil || !t.Tun.Persist || t.Tun.Owner != nil || t.Tun.Group != nil {
		return
	}
	p.tapIDs = &[2]*int{p.Options.Owner, p.Options.Group}
	p.Steps = append([]Step{{Cmd: fmt.Sprintf("ioctl(TUNSETOWNER %s, TUNSETGROUP %s) on a file attached to %s: it has neither owner nor group",
		idString(p.Options.Owner), idString(p.Options.Group), t.Name)}}, p.Steps...)
}

// setTapIDs sets those of the tap's owner and group given (not nil)
// through a file attached to it.
func setTapIDs(name, ns string, ids [2]*int) error {
	t, err := tuntap.Open(tuntap.OpenConfig{Name: name, NetNS: ns})
	if err != nil {
		return err
	}
	defer t.Close()
	var errs []error
	if ids[0] != nil {
		errs = append(errs, t.SetOwner(*ids[0]))
	}
	if ids[1] != nil {
		errs = append(errs, t.SetGroup(*ids[1]))
	}
	return errors.Join(errs...)
}

// createTap makes the tap cfg describes, sends the requests setup builds for
// it in one batch, makes it persistent if cfg says so, closes its files
// unless keepFiles, and brings it up. A failure leaves no tap.
//
// The tap is made persistent only once it is set up: until then it lives
// only as long as this process's files, so a tcwire killed half way
// (SIGKILL, a crash) leaves no half-made tap behind for the next attach to
// take for a tap someone else made. It goes up last, once its files are
// closed, so that it never goes from carrier to none while up: the kernel
// then sometimes leaves its operstate at UNKNOWN (seen on 6.18, with
// addrgenmode none set).
func createTap(c *nl.Conn, cfg tuntap.Config, setup func(tc.Dev) []nl.Request, keepFiles bool) ([]*os.File, *link.Link, error) {
	persist := cfg.Persist
	cfg.Persist = false
	t, err := tuntap.Create(cfg)
	if err != nil {
		return nil, nil, err
	}
	stepHook("create")
	l, err := lookup(c, t.Name()) // the kernel's choice when cfg.Name has %d
	if err == nil {
		err = errors.Join(c.Do(setup(devOf(l))...)...)
	}
	if err != nil {
		t.Close()
		return nil, nil, err
	}
	stepHook("setup")
	if persist {
		if err := t.SetPersist(true); err != nil {
			t.Close()
			return nil, nil, err
		}
		stepHook("persist")
	}
	var files []*os.File
	if keepFiles {
		files = t.Files()
	} else {
		err = t.Close()
	}
	if err == nil {
		err = c.Exec(link.SetUpRequest(l.Index, l.Name))
	}
	if err != nil {
		closeFiles(files)
		return nil, nil, errors.Join(err, deleteTap(c, devOf(l)))
	}
	return files, l, nil
}

// deleteTap removes a tap Attach made, as a rollback.
func deleteTap(c *nl.Conn, tap tc.Dev) error {
	if err := c.Exec(link.DeleteRequest(tap.Index, tap.Name)); err != nil && !link.IsNotFound(err) {
		return fmt.Errorf("rollback: delete tap %s: %w", tap.Name, err)
	}
	return nil
}
