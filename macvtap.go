package tcwire

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// Macvtap mode (ModeMacvtap): a macvtap called o.Tap on DEV in passthru
// mode, so that it has DEV's MAC and takes every frame DEV receives, with
// allmulticast on (without it a macvtap drops the link-local groups
// 01:80:c2:00:00:0X), up, marked as tcwire's, and its character device
// /dev/tapN owned by the options' owner and group.

// mknodAlias marks a macvtap whose /dev/tapN tcwire made with mknod (no
// devtmpfs nor udev made one), so that Detach removes that node too.
const mknodAlias = link.OwnerAlias + ":mknod"

// devNode is the state of a macvtap's character device.
type devNode struct {
	Path string
	// Exists: Path is the macvtap's character device; Uid, Gid and Perm
	// are its.
	Exists         bool
	Uid, Gid, Perm uint32
}

// readDevNode reads the node of the macvtap l. A node that is not l's
// device (another namespace's macvtap with the same index) is an error.
func readDevNode(l *link.Link) (*devNode, error) {
	n := &devNode{Path: link.MacvtapDevPath(l.Index)}
	var st unix.Stat_t
	err := unix.Stat(n.Path, &st)
	if errors.Is(err, unix.ENOENT) {
		return n, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", l.Name, n.Path, err)
	}
	major, minor, err := link.MacvtapDevNum(l.Index, l.Name)
	if err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(major, minor) {
		return nil, fmt.Errorf("%s: %s is not its character device %d:%d (another namespace's macvtap with index %d?): %w",
			l.Name, n.Path, major, minor, l.Index, unix.EEXIST)
	}
	n.Exists, n.Uid, n.Gid, n.Perm = true, st.Uid, st.Gid, st.Mode&0o7777
	return n, nil
}

// nodeWant is the owner, group (nil: leave) and permissions /dev/tapN
// gets: read-write for the owner, and for the group when one is given.
func (o Options) nodeWant(euid int) (owner, group *int, perm uint32) {
	owner, group = o.owner(euid)
	perm = 0o600
	if group != nil {
		perm = 0o660
	}
	return owner, group, perm
}

// chownID is id as chown(2) takes it: -1 leaves it.
func chownID(id *int) int {
	if id == nil {
		return -1
	}
	return *id
}

// fits reports whether the node exists with the owner, group and
// permissions o gives.
func (n *devNode) fits(o Options, euid int) bool {
	owner, group, perm := o.nodeWant(euid)
	return n.Exists && (owner == nil || n.Uid == uint32(*owner)) && (group == nil || n.Gid == uint32(*group)) && n.Perm == perm
}

func nodeCmd(path string, o Options, euid int) string {
	owner, group, perm := o.nodeWant(euid)
	own := ""
	if owner != nil {
		own = fmt.Sprint(*owner)
	}
	if group != nil {
		own += fmt.Sprintf(":%d", *group)
	}
	return fmt.Sprintf("mknod %s c MAJOR MINOR unless devtmpfs or udev made it (the numbers from /sys/dev/char); chown %s %s; chmod %#o %s", path, own, path, perm, path)
}

// macvtapSetup is what a macvtap gets once it exists, in one batch: the
// alias (tcwire's, or mknodAlias), allmulticast on, up — in that order:
// a passthru macvtap passes an allmulticast change on to DEV's allmulti
// count only while it is up, and never takes it back when it goes down or
// away, so allmulticast set while up would stay on DEV after Detach.
func macvtapSetup(mv tc.Dev, alias string) []nl.Request {
	return []nl.Request{
		link.SetAliasRequest(mv.Index, mv.Name, alias),
		link.SetAllmultiRequest(mv.Index, mv.Name, true),
		link.SetUpRequest(mv.Index, mv.Name),
	}
}

// onDev refuses a DEV a macvtap or bridge cannot take: one whose frames tc
// redirects elsewhere (the redirect runs first and takes them all), one
// that is a port of a master other than master (0 for none), or one with
// a macvlan or macvtap on it other than o.Tap (uppers: the kernel lets one
// receive handler own a device).
func onDev(dev *link.Link, h tc.Hook, master int32, uppers []*link.Link, name func(int32) string, o Options) error {
	for _, u := range uppers {
		if u.Name != o.Tap {
			return fmt.Errorf("%s has the %s %s on it: %s mode needs it free (`ip link del %s`): %w", dev.Name, u.Kind, u.Name, o.mode(), u.Name, ErrConflict)
		}
	}
	for _, r := range h.Redirects() {
		if r.Eaction == tc.TCA_EGRESS_REDIR || r.Eaction == tc.TCA_INGRESS_REDIR {
			return conflict(name, &tc.RedirectedError{Dev: h.Dev, Redirect: r}, o)
		}
	}
	if dev.Master != 0 && dev.Master != master {
		m := name(dev.Master)
		if m == "" {
			m = fmt.Sprintf("the device with ifindex %d", dev.Master)
		}
		return fmt.Errorf("%s is a port of %s: %s mode needs it free (`ip link set dev %s nomaster`): %w", dev.Name, m, o.mode(), dev.Name, ErrConflict)
	}
	return nil
}

// checkMacvtap refuses an existing device called o.Tap that is not a
// passthru macvtap on DEV.
func checkMacvtap(mv, dev *link.Link, name func(int32) string, o Options) error {
	if mv.Kind != link.KindMacvtap || mv.Macvlan == nil {
		return fmt.Errorf("%s is a %s device, not a macvtap: %w", mv.Name, kindName(mv.Kind), ErrNotTap)
	}
	if dev != nil && mv.ParentIndex != dev.Index {
		lower := name(mv.ParentIndex)
		if lower == "" {
			lower = fmt.Sprintf("the device with ifindex %d", mv.ParentIndex)
		}
		return &ConflictError{Dev: mv.Name, Target: lower, Want: "on " + dev.Name, UndoDev: lower, UndoTap: mv.Name,
			Err: fmt.Errorf("%s is a macvtap on %s", mv.Name, lower)}
	}
	if mv.Macvlan.Mode != link.ModePassthru {
		return &MismatchError{Tap: mv.Name, Setting: "macvtap mode", Have: mv.Macvlan.Mode.String(), Want: "passthru"}
	}
	return nil
}

// decideMacvtapAttach is Attach's plan in macvtap mode given what it read:
// DEV, its hook, the macvlans and macvtaps on it, the macvtap (nil when it does not exist) and the
// macvtap's node (nil then). It is a pure function but for name, which
// names devices in errors, and euid.
func decideMacvtapAttach(o Options, dev *link.Link, h tc.Hook, uppers []*link.Link, mv *link.Link, node *devNode, name func(int32) string, euid int) (*Plan, error) {
	p := &Plan{Op: "attach", Options: o, mode: ModeMacvtap, dev: dev, tap: mv}
	if err := onDev(dev, h, 0, uppers, name, o); err != nil {
		return nil, err
	}
	m := link.Macvlan{Name: o.Tap, Parent: dev.Name, Mode: link.ModePassthru, Tap: true}
	if mv == nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s does not exist: Attach creates it; its requests show ifindex %d where the kernel's choice will be, and its node /dev/tapIFINDEX", o.Tap, newTapIndex))
		nd := tc.Dev{Name: o.Tap, Index: newTapIndex}
		p.addRequests(link.AddMacvlanRequest(dev.Index, m))
		p.Steps = append(p.Steps, Step{Cmd: nodeCmd(link.MacvtapDevPath(nd.Index), o, euid)})
		p.addRequests(macvtapSetup(nd, link.OwnerAlias)...)
		p.macvlan, p.euid = m, euid
		return p, nil
	}
	if err := checkMacvtap(mv, dev, name, o); err != nil {
		return nil, err
	}
	if !node.fits(o, euid) {
		p.Steps = append(p.Steps, Step{Cmd: nodeCmd(node.Path, o, euid)})
	}
	var reqs []nl.Request
	// Allmulticast before up, as in macvtapSetup.
	if mv.Flags&unix.IFF_ALLMULTI == 0 {
		reqs = append(reqs, link.SetAllmultiRequest(mv.Index, mv.Name, true))
	}
	if !mv.Up() {
		reqs = append(reqs, link.SetUpRequest(mv.Index, mv.Name))
	}
	p.addRequests(reqs...)
	if len(p.Steps) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%s is a passthru macvtap on %s, up, allmulticast on, with %s as asked already", o.Tap, o.Dev, node.Path))
	}
	p.reqs, p.node, p.euid = reqs, node, euid
	return p, nil
}

// attachMacvtap carries out the plan for an existing macvtap: its node
// made or fixed, then its requests.
func (p *Plan) attachMacvtap(c *nl.Conn) (*Attachment, error) {
	o, mv, reqs, node, euid := p.Options, p.tap, p.reqs, p.node, p.euid
	if !node.fits(o, euid) {
		made, err := makeNode(o, mv, euid)
		if err != nil {
			return nil, err
		}
		if made && mv.Owned() {
			// Detach removes the node with the macvtap.
			reqs = append([]nl.Request{link.SetAliasRequest(mv.Index, mv.Name, mknodAlias)}, reqs...)
		}
	}
	if err := errors.Join(c.Do(reqs...)...); err != nil {
		return nil, err
	}
	return macvtapAttachment(c, o, p.dev, mv.Name, false)
}

// makeNode makes the macvtap's node (unless devtmpfs or udev did) and
// gives it the owner, group and permissions o asks for. made reports that
// it ran mknod.
func makeNode(o Options, mv *link.Link, euid int) (made bool, err error) {
	path := link.MacvtapDevPath(mv.Index)
	_, err = os.Lstat(path)
	existed := err == nil
	if _, err := link.MakeMacvtapDev(mv.Index, mv.Name); err != nil {
		return false, err
	}
	made = !existed
	fail := func(err error) (bool, error) {
		if made {
			os.Remove(path)
		}
		return false, fmt.Errorf("%s: %w", mv.Name, err)
	}
	owner, group, perm := o.nodeWant(euid)
	if err := os.Lchown(path, chownID(owner), chownID(group)); err != nil {
		return fail(err)
	}
	if err := os.Chmod(path, os.FileMode(perm)); err != nil {
		return fail(err)
	}
	return made, nil
}

// attachNewMacvtap creates the macvtap m, makes its node and sets it up,
// and deletes it again (and the node it made) if any of that fails.
func (p *Plan) attachNewMacvtap(c *nl.Conn) (*Attachment, error) {
	o, m, euid := p.Options, p.macvlan, p.euid
	// Marked in the sendmsg that creates it: no kill falls between.
	if err := errors.Join(c.Do(link.AddMacvlanRequest(p.dev.Index, m), link.SetAliasByNameRequest(m.Name, link.OwnerAlias))...); err != nil {
		return nil, errors.Join(err, deleteByName(c, m.Name))
	}
	stepHook("create")
	l, err := lookup(c, m.Name)
	if err != nil {
		return nil, err
	}
	made := false
	fail := func(err error) (*Attachment, error) {
		if made {
			os.Remove(link.MacvtapDevPath(l.Index))
		}
		return nil, errors.Join(err, deleteTap(c, devOf(l)))
	}
	if made, err = makeNode(o, l, euid); err != nil {
		return fail(err)
	}
	alias := link.OwnerAlias
	if made {
		alias = mknodAlias
	}
	if err := errors.Join(c.Do(macvtapSetup(devOf(l), alias)...)...); err != nil {
		return fail(err)
	}
	stepHook("setup")
	a, err := macvtapAttachment(c, o, p.dev, m.Name, true)
	if err != nil {
		return fail(err)
	}
	return a, nil
}

// macvtapAttachment reads the macvtap back (its MAC is DEV's once up) and
// opens its node when o.Files asks.
func macvtapAttachment(c *nl.Conn, o Options, dev *link.Link, name string, created bool) (*Attachment, error) {
	l, err := lookup(c, name)
	if err != nil {
		return nil, err
	}
	a := &Attachment{Dev: dev.Name, DevIndex: dev.Index, Tap: l.Name, TapIndex: l.Index, MAC: l.MAC, TapMAC: l.MAC,
		MTU: l.MTU, Queues: 1, Created: created, Mode: ModeMacvtap, DevNode: link.MacvtapDevPath(l.Index)}
	if o.Files {
		f, err := os.OpenFile(a.DevNode, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.Name, err)
		}
		a.Files = []*os.File{f}
	}
	return a, nil
}

// decideMacvtapDetach is Detach's plan in macvtap mode given what it read:
// DEV and the macvtap, nil when missing (not both), and whether a process
// holds its character device open: the macvtap is the wiring, and it stays
// under a running VM.
func decideMacvtapDetach(o Options, dev, mv *link.Link, held bool, name func(int32) string) (*Plan, error) {
	p := &Plan{Op: "detach", Options: o, mode: ModeMacvtap, dev: dev, tap: mv}
	var del []nl.Request
	rmNode := ""
	switch {
	case mv == nil:
		p.Notes = append(p.Notes, o.Tap+" does not exist")
	default:
		if err := checkMacvtap(mv, dev, name, o); err != nil {
			var me *MismatchError
			if !errors.As(err, &me) {
				return nil, err
			}
		}
		if !mv.Owned() {
			p.keep(mv.Name, KeptNotOwned, fmt.Sprintf("%s stays: it does not carry tcwire's mark (alias %q), so tcwire did not create it", o.Tap, link.OwnerAlias))
			break
		}
		if held {
			p.keepInUse(mv.Name)
			break
		}
		del = append(del, link.DeleteRequest(mv.Index, mv.Name))
		p.done.Deleted = append(p.done.Deleted, mv.Name)
		p.addRequests(del...)
		if mv.Alias == mknodAlias {
			rmNode = link.MacvtapDevPath(mv.Index)
			p.Steps = append(p.Steps, Step{Cmd: "rm " + rmNode + "   # tcwire made it with mknod"})
		}
	}
	if dev == nil {
		p.Notes = append(p.Notes, o.Dev+" does not exist")
	}
	p.reqs, p.rmNode = del, rmNode
	return p, nil
}

// checkMacvtapMode is Check in macvtap mode.
func checkMacvtapMode(o Options, dev, mv *link.Link, node *devNode, name func(int32) string, euid int) []Problem {
	var ps []Problem
	add := func(dev, format string, args ...any) { ps = append(ps, Problem{dev, fmt.Sprintf(format, args...)}) }
	if mv == nil {
		add(o.Tap, "%s does not exist", o.Tap)
		return ps
	}
	if err := checkMacvtap(mv, dev, name, o); err != nil {
		add(mv.Name, "%v", err)
		return ps
	}
	if !mv.Owned() {
		add(mv.Name, "%s has alias %q, not tcwire's", mv.Name, mv.Alias)
	}
	if !mv.Up() {
		add(mv.Name, "%s is down", mv.Name)
	}
	if mv.Flags&unix.IFF_ALLMULTI == 0 {
		add(mv.Name, "%s has allmulticast off: it drops the link-local groups 01:80:c2:00:00:0X", mv.Name)
	}
	if !node.fits(o, euid) {
		owner, group, perm := o.nodeWant(euid)
		if !node.Exists {
			add(mv.Name, "%s's character device %s does not exist", mv.Name, node.Path)
		} else {
			add(mv.Name, "%s is %d:%d mode %#o, want %s:%s mode %#o", node.Path, node.Uid, node.Gid, node.Perm, idString(owner), idString(group), perm)
		}
	}
	return ps
}

// detachMacvtap carries out the plan of a macvtap Detach.
func (p *Plan) detachMacvtap(c *nl.Conn) error {
	for _, err := range c.Do(p.reqs...) {
		if err != nil && !link.IsNotFound(err) {
			return err
		}
	}
	if p.rmNode != "" {
		if err := os.Remove(p.rmNode); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
