package tcwire

import (
	"fmt"
	"os"
	"slices"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// Problem is one way the wiring differs from what Attach leaves.
type Problem struct {
	// Dev is the device the problem is about.
	Dev string
	// What says what is wrong, naming the device.
	What string
}

func (p Problem) String() string { return p.What }

// checkTC is Check in tc mode, DEV and the tap read.
func checkTC(c *nl.Conn, o Options, dev, tap *link.Link) ([]Problem, error) {
	if tap == nil {
		return []Problem{{o.Tap, o.Tap + " does not exist"}}, nil
	}
	if tap.Kind != link.KindTun || tap.Tun == nil || !tap.Tun.Tap() {
		return []Problem{{tap.Name, fmt.Sprintf("%s is a %s device, not a tap", tap.Name, kindName(tap.Kind))}}, nil
	}
	var ps []Problem
	add := func(dev, format string, args ...any) { ps = append(ps, Problem{dev, fmt.Sprintf(format, args...)}) }
	if !tap.Owned() {
		add(tap.Name, "%s has alias %q, not tcwire's", tap.Name, tap.Alias)
	}
	if !tap.Up() {
		add(tap.Name, "%s is down", tap.Name)
	}
	wantMTU := dev.MTU
	if o.MTU != 0 {
		wantMTU = o.MTU
	}
	if tap.MTU != wantMTU {
		add(tap.Name, "%s has MTU %d, want %d", tap.Name, tap.MTU, wantMTU)
	}
	owner, group := o.owner(os.Geteuid())
	if !sameID(tap.Tun.Owner, owner) {
		add(tap.Name, "%s has owner %s, want %s", tap.Name, idString(tap.Tun.Owner), idString(owner))
	}
	if !sameID(tap.Tun.Group, group) {
		add(tap.Name, "%s has group %s, want %s", tap.Name, idString(tap.Tun.Group), idString(group))
	}
	if o.QuietDev {
		addrs, err := ipv6Addrs(c, dev, true)
		if err != nil {
			return nil, err
		}
		ps = append(ps, quietProblems(dev, addrs)...)
	}
	hooks, err := tc.ReadHooks(c, []tc.Dev{devOf(dev), devOf(tap)})
	if err != nil {
		return nil, err
	}
	for i, to := range []*link.Link{tap, dev} {
		h := hooks[i]
		switch {
		case o.Mirror && i == 1:
			// A mirror leaves the tap's ingress alone.
		case h.Qdisc == "":
			add(h.Dev.Name, "%s has no ingress qdisc", h.Dev.Name)
		case o.Mirror:
			if !slices.ContainsFunc(h.Redirects(), func(r tc.Redirect) bool { return isMirrorTo(r, to.Index) }) {
				add(h.Dev.Name, "%s does not mirror to %s", h.Dev.Name, to.Name)
			}
		case !slices.ContainsFunc(h.Redirects(), func(r tc.Redirect) bool { return r.IsWire() && r.TargetIfindex == to.Index }):
			add(h.Dev.Name, "%s does not redirect to %s", h.Dev.Name, to.Name)
		}
	}
	return ps, nil
}
