package tcwire

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
	"golang.org/x/sys/unix"
)

// Step is one thing Attach or Detach does to the kernel.
type Step struct {
	// Cmd is the equivalent command line: the ip or tc command that sends
	// the same request, or the ioctls of a /dev/net/tun step.
	Cmd string
	// Request is the netlink request, byte for byte what is sent (seq and
	// pid aside); nil for a step on /dev/net/tun.
	Request *nl.Request
}

// Plan is what Attach or Detach would do now, decided from the live state
// by PlanAttach or PlanDetach without changing anything.
type Plan struct {
	// Op is "attach" or "detach".
	Op string
	// Options are the options the plan was made for.
	Options Options
	// Notes say what the plan found, and what it assumed where a device
	// does not exist yet.
	Notes []string
	// Steps are the steps, in order. The requests of a step that Attach
	// batches with others go in one sendmsg.
	Steps []Step

	dev, tap *link.Link   // tap is nil when Attach creates it
	hooks    []tc.Hook    // dev's, then tap's when it exists
	wire     *tc.Plan     // attach: on an existing tap
	tapAlias string       // attach: tcwire's mark, with the record of QuietDev
	tapPre   []nl.Request // attach: an existing tap quiet and up
	devQuiet []nl.Request // attach: DEV quiet (QuietDev), after the wiring
	restore  []nl.Request // detach: what QuietDev changed on DEV
	unwire   *tc.Plan     // detach
	delTap   bool         // detach deletes the tap
	tapIDs   *[2]*int     // attach: owner and group to give an unowned tap

	// What the other modes' plans carry out (mode.go and a file a mode):
	mode    Mode         // the mode the plan is for
	reqs    []nl.Request // the mode's requests
	macvlan link.Macvlan // macvtap: the one to create
	node    *devNode     // macvtap: its node
	rmNode  string       // macvtap detach: a node tcwire made
	euid    int          // macvtap: the node's default owner
	bridge  bridgeRead   // bridge: what was read
	brRec   bridgeRecord // bridge: the bridge's record
	done    Detachment   // detach: what it reports
}

// lookup finds a device by name; a missing one gives a notFoundError.
func lookup(c *nl.Conn, name string) (*link.Link, error) {
	l, err := link.Lookup(c, name)
	if link.IsNotFound(err) {
		return nil, &notFoundError{name: name, err: err}
	}
	return l, err
}

// lookupOptional is lookup where a missing device is nil, not an error.
func lookupOptional(c *nl.Conn, name string) (*link.Link, error) {
	l, err := link.Lookup(c, name)
	if link.IsNotFound(err) {
		return nil, nil
	}
	return l, err
}

func devOf(l *link.Link) tc.Dev { return tc.Dev{Name: l.Name, Index: l.Index} }

// minIPv6MTU is IPV6_MIN_MTU: a device with a smaller MTU has no IPv6.
const minIPv6MTU = 1280

// newTapIndex stands for the ifindex of a tap Attach has yet to create in
// the requests a plan shows (the kernel assigns the real one): the largest
// there is, which no device has yet.
const newTapIndex = math.MaxInt32

func planAttach(ctx context.Context, c *nl.Conn, o Options) (*Plan, error) {
	if o.mode() != ModeTC || o.Mirror {
		return planModeAttach(ctx, c, o)
	}
	dev, tap, err := lookupPair(ctx, c, o, true)
	if err != nil {
		return nil, err
	}
	devs := []tc.Dev{devOf(dev)}
	if tap != nil {
		devs = append(devs, devOf(tap))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hooks, err := tc.ReadHooks(c, devs)
	if err != nil {
		return nil, err
	}
	s := seen{dev: dev, tap: tap, hooks: hooks}
	if s.devAddrs, err = ipv6Addrs(c, dev, o.QuietDev); err != nil {
		return nil, err
	}
	if s.tapAddrs, err = ipv6Addrs(c, tap, o.QuietTap); err != nil {
		return nil, err
	}
	stepHook("read")
	return decideAttach(o, s, namer(c))
}

// seen is what Attach reads before it decides: DEV, the tap (nil when it
// does not exist), their hooks (DEV's first), and their IPv6 addresses
// when the options need them.
type seen struct {
	dev, tap           *link.Link
	hooks              []tc.Hook
	devAddrs, tapAddrs []*link.Addr
}

// namer names devices by ifindex for errors, "" when it cannot.
func namer(c *nl.Conn) func(int32) string {
	return func(ifindex int32) string {
		if l, err := link.LookupIndex(c, ifindex); err == nil {
			return l.Name
		}
		return ""
	}
}

// decideAttach is Attach's plan given what it read. It is a pure function
// but for name, which names a device in a conflict.
func decideAttach(o Options, s seen, name func(int32) string) (*Plan, error) {
	dev, tap := s.dev, s.tap
	p := &Plan{Op: "attach", Options: o, mode: ModeTC, dev: dev, tap: tap, hooks: s.hooks, tapAlias: link.OwnerAlias}
	tapDev := tc.Dev{Name: o.Tap, Index: newTapIndex}
	if dev.Master != 0 {
		// tc's redirect runs before the master's receive handler and
		// would take the port's frames out of its bridge (or bond).
		m := name(dev.Master)
		if m == "" {
			m = fmt.Sprintf("the device with ifindex %d", dev.Master)
		}
		return nil, fmt.Errorf("%s is a port of %s: tc mode would take its frames from it: %w", dev.Name, m, ErrConflict)
	}
	if tap != nil {
		if err := checkTap(tap, o); err != nil {
			return nil, err
		}
		if o.QuietDev && !tap.Owned() {
			return nil, invalidf("QuietDev: %s was not made by tcwire, and tcwire keeps what it changes on %s in its own tap's alias; let Attach create the tap", tap.Name, dev.Name)
		}
		tapDev = devOf(tap)
	}
	wire, err := p.planWire(tapDev)
	if err != nil {
		return nil, conflict(name, err, o)
	}
	var rec devRecord
	if o.QuietDev {
		p.devQuiet, rec = quietRequests(dev, s.devAddrs)
		if len(p.devQuiet) > 0 {
			p.tapAlias = rec.alias()
		}
	}
	if tap == nil {
		p.addTapSteps(tapDev)
	} else {
		p.wire = wire
		if o.QuietTap {
			p.tapPre, _ = quietRequests(tap, s.tapAddrs)
		}
		if o.MTU == 0 && tap.MTU != dev.MTU {
			// The tap gets DEV's MTU, as one Attach creates does (and
			// as Check wants).
			t := *tap
			t.MTU = dev.MTU
			p.tap = &t
			p.tapPre = append(p.tapPre, link.SetMTURequest(tap.Index, tap.Name, dev.MTU))
		}
		if !tap.Up() {
			p.tapPre = append(p.tapPre, link.SetUpRequest(tap.Index, tap.Name))
		}
		if len(p.devQuiet) > 0 {
			// The record of what DEV had, for Detach.
			p.devQuiet = append([]nl.Request{link.SetAliasRequest(tap.Index, tap.Name, p.tapAlias)}, p.devQuiet...)
		}
		p.addRequests(p.tapPre...)
	}
	if len(wire.Requests) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%s and %s are wired both ways already", o.Dev, o.Tap))
	}
	p.addRequests(wire.Requests...)
	p.addRequests(p.devQuiet...)
	return p, nil
}

func (p *Plan) add(s Step) { p.Steps = append(p.Steps, s) }

// keep records that Detach leaves the device name, and why.
func (p *Plan) keep(name, why, note string) {
	p.done.Kept = append(p.done.Kept, Kept{Name: name, Why: why})
	p.Notes = append(p.Notes, note)
}

func (p *Plan) addRequests(reqs ...nl.Request) {
	for _, r := range reqs {
		p.Steps = append(p.Steps, Step{Cmd: r.Cmd, Request: &r})
	}
}

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

// planWire is tc's plan to wire DEV's hook (read) to the tap's (read, or
// empty for a new tap).
func (p *Plan) planWire(tap tc.Dev) (*tc.Plan, error) {
	th := tc.Hook{Dev: tap}
	if len(p.hooks) > 1 {
		th = p.hooks[1]
	}
	return tc.PlanWire(p.hooks[0], th, tc.WireOptions{})
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

// conflict turns tc's refusal to wire a device redirected elsewhere into a
// *ConflictError naming the devices of o.
func conflict(name func(int32) string, err error, o Options) error {
	var be *tc.BlockedError
	if errors.As(err, &be) {
		return &ForeignError{Dev: be.Dev.Name, Pref: be.Pref, Filters: be.Filters, Err: err}
	}
	var re *tc.RedirectedError
	if !errors.As(err, &re) {
		return err
	}
	ce := &ConflictError{Dev: re.Dev.Name, Want: o.Tap, Pref: re.Redirect.Pref, Handle: re.Redirect.Handle, Mirror: re.IsMirror(), Err: err}
	if re.Dev.Name == o.Tap {
		ce.Want = o.Dev
	}
	if idx := re.Redirect.TargetIfindex; idx != 0 {
		ce.Target = fmt.Sprintf("the device with ifindex %d", idx)
		if n := name(idx); n != "" {
			ce.Target = n
		}
	}
	// The pair is named the container's device first.
	switch {
	case ce.Target == "":
		ce.UndoDev, ce.UndoTap = o.Dev, o.Tap
	case re.Dev.Name == o.Tap:
		ce.UndoDev, ce.UndoTap = ce.Target, o.Tap
	default:
		ce.UndoDev, ce.UndoTap = o.Dev, ce.Target
	}
	return ce
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

// attach carries the plan out on c: an unowned tap's owner and group
// first, then the mode's steps. Should those fail, the owner and group
// stay: the kernel cannot clear them, and they only narrow who may open
// the tap.
func (p *Plan) attach(c *nl.Conn) (*Attachment, error) {
	if p.tapIDs != nil {
		if err := setTapIDs(p.tap.Name, p.Options.NetNS, *p.tapIDs); err != nil {
			return nil, err
		}
	}
	return p.attachMode(c)
}

// attachMode carries out the mode's steps.
func (p *Plan) attachMode(c *nl.Conn) (*Attachment, error) {
	switch {
	case p.mode == ModeMacvtap && p.tap == nil:
		return p.attachNewMacvtap(c)
	case p.mode == ModeMacvtap:
		return p.attachMacvtap(c)
	case p.mode == ModeBridge:
		return p.attachBridge(c)
	case p.Options.Mirror:
		return p.attachMirror(c)
	}
	o := p.Options
	a := &Attachment{Dev: p.dev.Name, DevIndex: p.dev.Index, MAC: p.dev.MAC, Queues: o.queues(), Mode: ModeTC}
	if p.tap == nil {
		return p.attachNew(c, a)
	}
	// An existing tap is brought up; its owner set it up as it wants.
	if err := errors.Join(c.Do(p.tapPre...)...); err != nil {
		return nil, err
	}
	stepHook("wire")
	if err := p.wire.Execute(c); err != nil {
		return nil, err
	}
	if err := p.quietDev(c, devOf(p.tap)); err != nil {
		return nil, err
	}
	a.Tap, a.TapIndex, a.TapMAC, a.MTU = p.tap.Name, p.tap.Index, p.tap.MAC, p.tap.MTU
	if p.tap.Tun.MultiQueue && o.Queues == 0 {
		// A multi-queue tap has no queue count of its own to report;
		// the VMM opens as many as it was told.
		a.Queues = int(p.tap.NumTxQueues)
	}
	if o.Files {
		t, err := tuntap.Open(tuntap.OpenConfig{Name: p.tap.Name, NetNS: o.NetNS, Queues: a.Queues})
		if err != nil {
			return nil, err
		}
		a.Files = t.Files()
	}
	return a, nil
}

// attachNew creates the tap, sets it up, wires it, and deletes it again if
// any of that fails.
func (p *Plan) attachNew(c *nl.Conn, a *Attachment) (*Attachment, error) {
	o := p.Options
	mtu := p.tapMTU()
	files, l, err := createTap(c, o.tapConfig(), func(tap tc.Dev) []nl.Request { return tapSetup(tap, o, mtu, p.alias()) }, o.Files)
	if err != nil {
		return nil, err
	}
	tap := devOf(l)
	a.Tap, a.TapIndex, a.TapMAC, a.MTU, a.Created, a.Files = tap.Name, tap.Index, l.MAC, mtu, true, files
	wire, err := p.planWire(tap)
	if err == nil {
		stepHook("wire")
		err = wire.Execute(c)
	}
	if err == nil {
		err = p.quietDev(c, tap)
	}
	if err != nil {
		closeFiles(files)
		return nil, errors.Join(err, deleteTap(c, tap))
	}
	return a, nil
}

// quietDev silences DEV once it is wired to tap; if that fails, it puts
// back what it changed and removes the wiring (the caller deletes a tap it
// created).
func (p *Plan) quietDev(c *nl.Conn, tap tc.Dev) error {
	if len(p.devQuiet) == 0 {
		return nil
	}
	err := errors.Join(c.Do(p.devQuiet...)...)
	if err == nil {
		return nil
	}
	rec, _ := parseRecord(p.tapAlias)
	undo := []error{err}
	for _, e := range c.Do(restoreRequests(p.dev, link.AddrGenModeNone, rec)...) {
		if e != nil && !errors.Is(e, unix.EEXIST) {
			undo = append(undo, fmt.Errorf("rollback: %w", e))
		}
	}
	if e := tc.Unwire(c, devOf(p.dev), tap); e != nil {
		undo = append(undo, fmt.Errorf("rollback: %w", e))
	}
	return errors.Join(undo...)
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

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// deleteTap removes a tap Attach made, as a rollback.
func deleteTap(c *nl.Conn, tap tc.Dev) error {
	if err := c.Exec(link.DeleteRequest(tap.Index, tap.Name)); err != nil && !link.IsNotFound(err) {
		return fmt.Errorf("rollback: delete tap %s: %w", tap.Name, err)
	}
	return nil
}

// deleteByName removes a device Attach created by name, as a rollback when
// the sendmsg that created it failed half way (made, but not marked).
func deleteByName(c *nl.Conn, name string) error {
	l, err := link.Lookup(c, name)
	if link.IsNotFound(err) {
		return nil
	}
	if err == nil && !l.Owned() {
		err = c.Exec(link.DeleteRequest(l.Index, l.Name))
	}
	if err != nil && !link.IsNotFound(err) {
		return fmt.Errorf("rollback: delete %s: %w", name, err)
	}
	return nil
}

// stepHook, set by tests, runs at the named points of Attach: "read" (the
// state is read), "create" (the tap exists), "setup" (it is set up),
// "persist" (it is persistent), "wire" (just before the tc batch).
var stepHook = func(string) {}

// aliasOf is l's alias, "" for no device.
func aliasOf(l *link.Link) string {
	if l == nil {
		return ""
	}
	return l.Alias
}

// wires are the wire redirects (IsWire) on a hook, by target ifindex; 0 is
// a target that no longer exists.
func wires(h tc.Hook) map[int32]bool {
	m := map[int32]bool{}
	for _, r := range h.Redirects() {
		if r.IsWire() {
			m[r.TargetIfindex] = true
		}
	}
	return m
}

// planDetachTC reads what tc mode's Detach decides from (DEV and the tap
// were read), and decides.
func planDetachTC(c *nl.Conn, o Options, dev, tap *link.Link, held bool) (*Plan, error) {
	var devs []tc.Dev
	for _, l := range []*link.Link{dev, tap} {
		if l != nil {
			devs = append(devs, devOf(l))
		}
	}
	hooks, err := tc.ReadHooks(c, devs)
	if err != nil {
		return nil, err
	}
	return decideDetach(o, dev, tap, held, hooks, namer(c))
}

// decideDetach is Detach's plan given what it read: DEV and the tap (nil
// when missing, not both), whether a process holds the tap open, and the
// hooks of those that exist, in that order. It is a pure function but for
// name, which names a device in a conflict.
func decideDetach(o Options, dev, tap *link.Link, held bool, hooks []tc.Hook, name func(int32) string) (*Plan, error) {
	p := &Plan{Op: "detach", Options: o, mode: ModeTC, dev: dev, tap: tap}
	if tap != nil && (tap.Kind != link.KindTun || tap.Tun == nil) {
		return nil, fmt.Errorf("%s is a %s device, %w", tap.Name, kindName(tap.Kind), ErrNotTap)
	}
	var dh, th tc.Hook
	var dw, tw map[int32]bool
	if dev != nil {
		dh = hooks[0]
		dw = wires(dh)
	}
	if tap != nil {
		th = hooks[len(hooks)-1]
		tw = wires(th)
	}
	devIndex, tapIndex := int32(-1), int32(-1)
	if dev != nil {
		devIndex = dev.Index
	}
	if tap != nil {
		tapIndex = tap.Index
	}
	// Refuse devices wired to a third one: the typo that would delete a
	// running VM's tap.
	if err := elsewhere(name, th, tw, devIndex, o); err != nil {
		return nil, err
	}
	if err := elsewhere(name, dh, dw, tapIndex, o); err != nil {
		return nil, err
	}

	p.unwire = &tc.Plan{}
	if dev != nil && tap != nil {
		p.unwire.Requests = tc.PlanUnwire(dh, th).Requests
	}
	// Redirects into the void go too: a half whose other end was deleted
	// (the tap first, or DEV with its container).
	p.unwire.Requests = append(p.unwire.Requests, staleRequests(dh, dw)...)
	p.unwire.Requests = append(p.unwire.Requests, staleRequests(th, tw)...)
	if dev != nil {
		p.unwire.Requests = append(p.unwire.Requests, unmirrorRequests(dh, tapIndex)...)
	}
	p.addRequests(p.unwire.Requests...)
	if rec, ok := parseRecord(aliasOf(tap)); ok && dev != nil && dev.Inet6 != nil {
		p.restore = restoreRequests(dev, dev.Inet6.AddrGenMode, rec)
		p.addRequests(p.restore...)
	}
	switch {
	case tap == nil:
		p.Notes = append(p.Notes, o.Tap+" does not exist")
	case tap.Owned() && held:
		p.keepInUse(tap.Name)
	case tap.Owned():
		p.delTap = true
		r := link.DeleteRequest(tap.Index, tap.Name)
		p.Steps = append(p.Steps, Step{Cmd: r.Cmd, Request: &r})
		p.done.Deleted = append(p.done.Deleted, tap.Name)
	default:
		p.keep(tap.Name, KeptNotOwned, fmt.Sprintf("%s stays: it does not carry tcwire's mark (alias %q), so tcwire did not create it", o.Tap, link.OwnerAlias))
	}
	if dev == nil {
		p.Notes = append(p.Notes, o.Dev+" does not exist")
	}
	return p, nil
}

// elsewhere refuses a hook whose wire redirects go to a live device other
// than the other one of o (ifindex wantIndex, -1 when it does not exist),
// unless one of them goes to it too.
func elsewhere(name func(int32) string, h tc.Hook, w map[int32]bool, wantIndex int32, o Options) error {
	if w[wantIndex] {
		return nil
	}
	for _, r := range h.Redirects() {
		if r.IsWire() && r.TargetIfindex != 0 {
			return conflict(name, &tc.RedirectedError{Dev: h.Dev, Redirect: r}, o)
		}
	}
	return nil
}

// staleRequests removes the wire redirects of h into devices that are gone,
// if it has any.
func staleRequests(h tc.Hook, w map[int32]bool) []nl.Request {
	if !w[0] {
		return nil
	}
	return tc.PlanUnwire(h, tc.Hook{Dev: tc.Dev{Name: "(deleted)", Index: 0}}).Requests
}

// detach carries the plan out on c.
func (p *Plan) detach(c *nl.Conn) error {
	switch p.mode {
	case ModeMacvtap:
		return p.detachMacvtap(c)
	case ModeBridge:
		return p.detachBridge(c)
	}
	if err := p.unwire.Remove(c); err != nil {
		return err
	}
	for _, err := range c.Do(p.restore...) {
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
	}
	if p.delTap {
		if err := c.Exec(link.DeleteRequest(p.tap.Index, p.tap.Name)); err != nil && !link.IsNotFound(err) {
			return err
		}
	}
	return nil
}
