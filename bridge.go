package tcwire

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// Bridge mode (ModeBridge): a bridge of tcwire's holding DEV and the tap,
// the tap made as in tc mode. On the tap's port learning and
// unknown-unicast flooding are off, and a static FDB entry sends DEV's MAC
// (the guest's) to it: as a port's own address that MAC is otherwise a
// local entry of the bridge, whose frames end at the bridge. The bridge's
// group_fwd_mask is as open as the kernel allows.

// GroupFwdMask is the group_fwd_mask of tcwire's bridge: every link-local
// group 01:80:c2:00:00:0N but 0-2, which the kernel refuses
// (BR_GROUPFWD_RESTRICTED): a bridge never forwards pause frames (01) nor
// slow protocols (02: LACP, marker, OAM), and STP's (00) only while it runs
// no STP, as tcwire's does not.
const GroupFwdMask = 0xfff8

// BridgeName is the name of the bridge bridge mode makes for the VM's tap
// called tap: "br-" and tap when that fits in 15 bytes (IFNAMSIZ-1); else
// "br-", tap's first 6 bytes (cut before a multi-byte character that
// would not fit whole) and 6 hex digits of a hash of the whole name
// (FNV-1a, 24 bits), so that taps sharing a prefix get bridges of their
// own, and every name is valid UTF-8 when tap is.
func BridgeName(tap string) string {
	const prefix = "br-"
	if len(prefix)+len(tap) <= unix.IFNAMSIZ-1 {
		return prefix + tap
	}
	head := tap[:6]
	for len(head) > 0 && !utf8.ValidString(head) {
		head = head[:len(head)-1]
	}
	h := fnv.New32a()
	h.Write([]byte(tap))
	return fmt.Sprintf("%s%s%06x", prefix, head, h.Sum32()&0xffffff)
}

// bridgeRecord is what tcwire's bridge's alias records: the devices it was
// made for, and DEV's state before it joined, which Detach restores.
type bridgeRecord struct {
	Dev, Tap string
	DevMTU   uint32
	DevUp    bool
}

const bridgeAliasPrefix = link.OwnerAlias + ":bridge "

func (r bridgeRecord) alias() string {
	up := 0
	if r.DevUp {
		up = 1
	}
	return fmt.Sprintf("%sdev=%s tap=%s mtu=%d up=%d", bridgeAliasPrefix, r.Dev, r.Tap, r.DevMTU, up)
}

// parseBridgeAlias reads a bridgeRecord from a bridge's alias; ok is false
// for an alias that is not one.
func parseBridgeAlias(alias string) (r bridgeRecord, ok bool) {
	rest, ok := strings.CutPrefix(alias, bridgeAliasPrefix)
	if !ok {
		return r, false
	}
	seen := 0
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "dev":
			r.Dev = v
		case "tap":
			r.Tap = v
		case "mtu":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return r, false
			}
			r.DevMTU = uint32(n)
		case "up":
			r.DevUp = v == "1"
		default:
			continue
		}
		seen++
	}
	return r, seen == 4 && r.Dev != "" && r.Tap != ""
}

// bridgeRead is what bridge mode reads: DEV, its hook, the tap and the
// bridge (nil when they do not exist), and the FDB entries of the tap's
// port.
type bridgeRead struct {
	dev     *link.Link
	devHook tc.Hook
	uppers  []*link.Link // macvlans and macvtaps on DEV
	tap, br *link.Link
	fdb     []*link.FDBEntry
}

// checkBridge refuses a device called BridgeName(o.Tap) that is not the
// bridge tcwire made for o.Dev and o.Tap.
func checkBridge(br *link.Link, o Options) (bridgeRecord, error) {
	if br.Kind != link.KindBridge {
		return bridgeRecord{}, fmt.Errorf("%s is a %s device, not a bridge: %w", br.Name, kindName(br.Kind), ErrConflict)
	}
	r, ok := parseBridgeAlias(br.Alias)
	if !ok {
		return r, fmt.Errorf("%s is a bridge tcwire did not make (alias %q): %w", br.Name, br.Alias, ErrConflict)
	}
	if r.Dev != o.Dev || r.Tap != o.Tap {
		return r, &ConflictError{Dev: br.Name, Target: r.Dev + " and " + r.Tap, Want: o.Dev + " and " + o.Tap, UndoDev: r.Dev, UndoTap: r.Tap,
			Err: fmt.Errorf("%s is tcwire's bridge for %s and %s", br.Name, r.Dev, r.Tap)}
	}
	return r, nil
}

// hasFDB reports whether the entries hold a static entry of the bridge
// master (NDA_MASTER: a dump sets no NTF_MASTER) sending mac to the port
// ifindex.
func hasFDB(fdb []*link.FDBEntry, ifindex, master int32, mac []byte) bool {
	for _, f := range fdb {
		if f.Ifindex == ifindex && f.Master == master && f.Static() && f.VLAN == 0 && bytes.Equal(f.MAC, mac) {
			return true
		}
	}
	return false
}

// tapPort is the tap's port settings: learning and flooding off.
func tapPort(tap tc.Dev) nl.Request {
	return link.BridgePortRequest(tap.Index, tap.Name, link.PortFlags{Learning: new(false), UnicastFlood: new(false)})
}

// bridgeSetup is what the new bridge gets once it exists, in one batch:
// the record, the group_fwd_mask, IPv6 address generation off (a bridge
// that goes up gets an fe80:: address, and the host's stack then sends
// router solicitations and MLD reports out of every port, into the VM),
// up.
func bridgeSetup(br tc.Dev, r bridgeRecord) []nl.Request {
	return []nl.Request{
		link.SetAliasRequest(br.Index, br.Name, r.alias()),
		link.SetGroupFwdMaskRequest(br.Index, br.Name, GroupFwdMask),
		link.SetAddrGenModeRequest(br.Index, br.Name, link.AddrGenModeNone),
		link.SetUpRequest(br.Index, br.Name),
	}
}

// joinRequests put the tap and DEV in the bridge, as far as they are not,
// and send DEV's MAC to the tap's port: the tap first, then DEV, then the
// FDB entry (DEV's joining makes its MAC a local entry, which the replace
// moves).
func joinRequests(br, tap tc.Dev, dev *link.Link, tapL *link.Link, fdb []*link.FDBEntry) []nl.Request {
	var reqs []nl.Request
	if tapL == nil || tapL.Master != br.Index {
		reqs = append(reqs, link.SetMasterRequest(tap.Index, tap.Name, br.Index, br.Name))
	}
	if tapL == nil || tapL.Port == nil || tapL.Port.Learning || tapL.Port.UnicastFlood || tapL.Master != br.Index {
		reqs = append(reqs, tapPort(tap))
	}
	if dev.Master != br.Index {
		reqs = append(reqs, link.SetMasterRequest(dev.Index, dev.Name, br.Index, br.Name))
	}
	if tapL == nil || dev.Master != br.Index || !hasFDB(fdb, tap.Index, br.Index, dev.MAC) {
		reqs = append(reqs, link.ReplaceFDBRequest(tap.Index, tap.Name, dev.MAC))
	}
	return reqs
}

// decideBridgeAttach is Attach's plan in bridge mode given what it read.
// It is a pure function but for name, which names devices in errors.
func decideBridgeAttach(o Options, r bridgeRead, name func(int32) string) (*Plan, error) {
	p := &Plan{Op: "attach", Options: o, mode: ModeBridge, dev: r.dev, tap: r.tap}
	brName := BridgeName(o.Tap)
	brDev := tc.Dev{Name: brName, Index: newTapIndex - 1}
	rec := bridgeRecord{Dev: r.dev.Name, Tap: o.Tap, DevMTU: r.dev.MTU, DevUp: r.dev.Up()}
	if r.br != nil {
		var err error
		if rec, err = checkBridge(r.br, o); err != nil {
			return nil, err
		}
		brDev = devOf(r.br)
	}
	if err := onDev(r.dev, r.devHook, brDev.Index, r.uppers, name, o); err != nil {
		return nil, err
	}
	tapDev := tc.Dev{Name: o.Tap, Index: newTapIndex}
	if r.tap != nil {
		if err := checkTap(r.tap, o); err != nil {
			return nil, err
		}
		if r.tap.Master != 0 && r.tap.Master != brDev.Index {
			return nil, fmt.Errorf("%s is a port of %s, not of %s: %w", r.tap.Name, name(r.tap.Master), brName, ErrConflict)
		}
		tapDev = devOf(r.tap)
	}
	var brReqs []nl.Request
	if r.br == nil {
		p.Notes = append(p.Notes, fmt.Sprintf("%s does not exist: Attach creates it; its requests show ifindex %d where the kernel's choice will be", brName, brDev.Index))
		p.addRequests(link.AddBridgeRequest(brName))
		p.addRequests(bridgeSetup(brDev, rec)...)
	} else {
		if r.br.Bridge == nil || r.br.Bridge.GroupFwdMask != GroupFwdMask {
			brReqs = append(brReqs, link.SetGroupFwdMaskRequest(brDev.Index, brName, GroupFwdMask))
		}
		if !r.br.Up() {
			brReqs = append(brReqs, link.SetUpRequest(brDev.Index, brName))
		}
	}
	if r.tap == nil {
		p.addTapSteps(tapDev)
	} else if !r.tap.Up() {
		brReqs = append(brReqs, link.SetUpRequest(tapDev.Index, tapDev.Name))
	}
	join := joinRequests(brDev, tapDev, r.dev, r.tap, r.fdb)
	p.addRequests(append(brReqs, join...)...)
	if len(p.Steps) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%s holds %s and %s as bridge mode leaves them already", brName, o.Dev, o.Tap))
	}
	p.bridge, p.brRec, p.reqs = r, rec, brReqs
	return p, nil
}

// attachBridge carries a bridge plan out, all or nothing: what it created
// is deleted again, and DEV released, when a step fails.
func (p *Plan) attachBridge(c *nl.Conn) (a *Attachment, err error) {
	o, r, rec, brReqs := p.Options, p.bridge, p.brRec, p.reqs
	var undo []func() error
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				err = errors.Join(err, undo[i]())
			}
			a = nil
		}
	}()
	br := r.br
	if br == nil {
		name := BridgeName(o.Tap)
		// Marked, with its record, in the sendmsg that creates it: no
		// kill falls between.
		if err := errors.Join(c.Do(link.AddBridgeRequest(name), link.SetAliasByNameRequest(name, rec.alias()))...); err != nil {
			return nil, errors.Join(err, deleteByName(c, name))
		}
		if br, err = lookup(c, name); err != nil {
			return nil, err
		}
		undo = append(undo, func() error { return deleteTap(c, devOf(br)) })
		if err := errors.Join(c.Do(bridgeSetup(devOf(br), rec)...)...); err != nil {
			return nil, err
		}
	}
	a = &Attachment{Dev: r.dev.Name, DevIndex: r.dev.Index, MAC: r.dev.MAC, Queues: o.queues(), Mode: ModeBridge, Bridge: br.Name}
	tap := r.tap
	if tap == nil {
		mtu := p.tapMTU()
		files, l, err := createTap(c, o.tapConfig(), func(tap tc.Dev) []nl.Request { return tapSetup(tap, o, mtu, p.alias()) }, o.Files)
		if err != nil {
			return nil, err
		}
		undo = append(undo, func() error { closeFiles(files); return deleteTap(c, devOf(l)) })
		a.Files = files
		tap, a.Created = l, true
		a.MTU = mtu
	} else {
		a.MTU = tap.MTU
	}
	a.Tap, a.TapIndex, a.TapMAC = tap.Name, tap.Index, tap.MAC
	if r.tap != nil && r.tap.Tun.MultiQueue && o.Queues == 0 {
		a.Queues = int(r.tap.NumTxQueues)
	}
	if o.Files && a.Files == nil {
		t, err := tuntap.Open(tuntap.OpenConfig{Name: tap.Name, NetNS: o.NetNS, Queues: a.Queues})
		if err != nil {
			return nil, err
		}
		a.Files = t.Files()
		undo = append(undo, func() error { return t.Close() })
	}
	if r.dev.Master != br.Index {
		undo = append(undo, func() error {
			if err := c.Exec(link.SetNoMasterRequest(r.dev.Index, r.dev.Name)); err != nil && !link.IsNotFound(err) {
				return fmt.Errorf("rollback: release %s: %w", r.dev.Name, err)
			}
			return nil
		})
	}
	stepHook("wire")
	reqs := append(brReqs, joinRequests(devOf(br), devOf(tap), r.dev, r.tap, r.fdb)...)
	if err := errors.Join(c.Do(reqs...)...); err != nil {
		return nil, err
	}
	return a, nil
}

// decideBridgeDetach is Detach's plan in bridge mode given what it read:
// DEV, the tap and the bridge, nil when missing (not all three), and
// whether a process holds the tap open.
func decideBridgeDetach(o Options, dev, tap, br *link.Link, held bool) (*Plan, error) {
	p := &Plan{Op: "detach", Options: o, mode: ModeBridge, dev: dev, tap: tap}
	if tap != nil && (tap.Kind != link.KindTun || tap.Tun == nil) {
		return nil, fmt.Errorf("%s is a %s device, %w", tap.Name, kindName(tap.Kind), ErrNotTap)
	}
	var reqs []nl.Request
	brIndex := int32(-1)
	if br != nil {
		rec, err := checkBridge(br, o)
		if err != nil {
			return nil, err
		}
		brIndex = br.Index
		if dev != nil && dev.Master == br.Index {
			reqs = append(reqs, link.SetNoMasterRequest(dev.Index, dev.Name))
		}
		if dev != nil && rec.DevMTU != 0 && dev.MTU != rec.DevMTU {
			reqs = append(reqs, link.SetMTURequest(dev.Index, dev.Name, rec.DevMTU))
		}
		if dev != nil && dev.Up() != rec.DevUp {
			if rec.DevUp {
				reqs = append(reqs, link.SetUpRequest(dev.Index, dev.Name))
			} else {
				reqs = append(reqs, link.SetDownRequest(dev.Index, dev.Name))
			}
		}
	} else {
		p.Notes = append(p.Notes, BridgeName(o.Tap)+" does not exist")
	}
	switch {
	case tap == nil:
		p.Notes = append(p.Notes, o.Tap+" does not exist")
	case tap.Master != 0 && tap.Master != brIndex:
		return nil, fmt.Errorf("%s is a port of another bridge than %s: %w", tap.Name, BridgeName(o.Tap), ErrConflict)
	case tap.Owned() && !held:
		reqs = append(reqs, link.DeleteRequest(tap.Index, tap.Name))
		p.done.Deleted = append(p.done.Deleted, tap.Name)
	default:
		if tap.Master != 0 {
			reqs = append(reqs, link.SetNoMasterRequest(tap.Index, tap.Name))
		}
		if tap.Owned() {
			p.keepInUse(tap.Name)
			break
		}
		p.keep(tap.Name, KeptNotOwned, fmt.Sprintf("%s stays: it does not carry tcwire's mark (alias %q), so tcwire did not create it", o.Tap, link.OwnerAlias))
	}
	if br != nil {
		reqs = append(reqs, link.DeleteRequest(br.Index, br.Name))
		p.done.Deleted = append(p.done.Deleted, br.Name)
	}
	if dev == nil {
		p.Notes = append(p.Notes, o.Dev+" does not exist")
	}
	p.addRequests(reqs...)
	p.reqs = reqs
	return p, nil
}

// checkBridgeMode is Check in bridge mode.
func checkBridgeMode(o Options, r bridgeRead) []Problem {
	var ps []Problem
	add := func(dev, format string, args ...any) { ps = append(ps, Problem{dev, fmt.Sprintf(format, args...)}) }
	brName := BridgeName(o.Tap)
	if r.br == nil {
		add(brName, "%s does not exist", brName)
		return ps
	}
	if _, err := checkBridge(r.br, o); err != nil {
		add(brName, "%v", err)
		return ps
	}
	if !r.br.Up() {
		add(brName, "%s is down", brName)
	}
	if r.br.Bridge == nil || r.br.Bridge.GroupFwdMask != GroupFwdMask {
		add(brName, "%s's group_fwd_mask is not %#x", brName, GroupFwdMask)
	}
	if r.dev.Master != r.br.Index {
		add(r.dev.Name, "%s is not a port of %s", r.dev.Name, brName)
	}
	if r.tap == nil {
		add(o.Tap, "%s does not exist", o.Tap)
		return ps
	}
	if r.tap.Kind != link.KindTun || r.tap.Tun == nil || !r.tap.Tun.Tap() {
		add(r.tap.Name, "%s is a %s device, not a tap", r.tap.Name, kindName(r.tap.Kind))
		return ps
	}
	if !r.tap.Up() {
		add(r.tap.Name, "%s is down", r.tap.Name)
	}
	switch {
	case r.tap.Master != r.br.Index:
		add(r.tap.Name, "%s is not a port of %s", r.tap.Name, brName)
	case r.tap.Port == nil || r.tap.Port.Learning || r.tap.Port.UnicastFlood:
		add(r.tap.Name, "%s's port learns or floods unknown unicast", r.tap.Name)
	}
	if !hasFDB(r.fdb, r.tap.Index, r.br.Index, r.dev.MAC) {
		add(r.tap.Name, "%s has no static FDB entry for %s (%s's MAC)", r.tap.Name, r.dev.MAC, r.dev.Name)
	}
	return ps
}

// detachBridge carries out the plan of a bridge Detach.
func (p *Plan) detachBridge(c *nl.Conn) error {
	for _, err := range c.Do(p.reqs...) {
		if err != nil && !link.IsNotFound(err) {
			return err
		}
	}
	return nil
}
