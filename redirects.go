package tcwire

import (
	"context"
	"fmt"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// Redirect is one mirred action on a device's ingress hook, with the
// devices named: a row of `tcwire show`.
type Redirect struct {
	Dev         string `json:"dev"`
	Target      string `json:"target"`         // the device frames go to, or "ifindex N (gone)"
	TargetIndex int32  `json:"target_ifindex"` // 0 when the target no longer exists
	Direction   string `json:"direction"`      // egress or ingress (of the target)
	Action      string `json:"action"`         // redirect or mirror
	Control     string `json:"control"`        // stolen, pipe …
	Parent      string `json:"parent"`         // ffff: on ingress, ffff:fff2 on clsact
	Pref        uint16 `json:"pref"`
	Handle      string `json:"handle"`
	Wire        bool   `json:"wire"` // the shape Attach installs
	Packets     uint64 `json:"packets"`
	Bytes       uint64 `json:"bytes"`
	// Undelivered counts the frames mirred could not send on: the target
	// is down, has no carrier (a persistent tap no VMM holds open) or is
	// gone. The kernel counts them as the action's overlimits, plus its
	// drops (0 for mirred on 6.18): `tc -s` prints both.
	Undelivered uint64 `json:"undelivered"`
	// The state of both ends: operstate as `ip link` names it (UP, DOWN,
	// LOWERLAYERDOWN, UNKNOWN …; "" for a target that is gone) and carrier.
	DevState      string `json:"dev_state"`
	DevCarrier    bool   `json:"dev_carrier"`
	TargetState   string `json:"target_state"`
	TargetCarrier bool   `json:"target_carrier"`
}

// ReadRedirects reads the redirects in place on the devices named in
// netns ("" for the caller's), or on every device when none is named.
func ReadRedirects(ctx context.Context, ns string, devs ...string) ([]Redirect, error) {
	if ns != "" {
		if _, err := netns.Path(ns); err != nil {
			return nil, invalidf("NetNS: %v", err)
		}
	}
	for _, d := range devs {
		if err := link.CheckName(d); err != nil {
			return nil, invalidf("%v", err)
		}
	}
	c, err := nl.Dial(&nl.Config{NetNS: ns})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	links, err := link.List(c)
	if err != nil {
		return nil, err
	}
	byIndex := map[int32]*link.Link{}
	byName := map[string]*link.Link{}
	for _, l := range links {
		byIndex[l.Index] = l
		byName[l.Name] = l
	}
	if len(devs) == 0 {
		for _, l := range links {
			devs = append(devs, l.Name)
		}
	}
	tds := make([]tc.Dev, len(devs))
	for i, n := range devs {
		l, ok := byName[n]
		if !ok {
			return nil, &notFoundError{name: n}
		}
		tds[i] = devOf(l)
	}
	hooks, err := tc.ReadHooks(c, tds)
	if err != nil {
		return nil, err
	}
	rows := []Redirect{}
	for _, h := range hooks {
		for _, r := range h.Redirects() {
			rows = append(rows, describe(r, byName[h.Dev.Name], byIndex[r.TargetIfindex]))
		}
	}
	return rows, nil
}

// describe names r, found on dev's hook; target is nil when it is gone.
func describe(r tc.Redirect, dev, target *link.Link) Redirect {
	direction, action := "egress", "redirect"
	switch r.Eaction {
	case tc.TCA_INGRESS_REDIR, tc.TCA_INGRESS_MIRROR:
		direction = "ingress"
	}
	switch r.Eaction {
	case tc.TCA_EGRESS_MIRROR, tc.TCA_INGRESS_MIRROR:
		action = "mirror"
	}
	row := Redirect{
		Dev: dev.Name, TargetIndex: r.TargetIfindex, Direction: direction, Action: action,
		Control: tc.ControlName(r.Action), Parent: r.Parent.String(), Pref: r.Pref,
		Handle: tc.U32HandleString(r.Handle), Wire: r.IsWire(), Packets: r.Packets, Bytes: r.Bytes,
		Undelivered: r.Overlimits + r.Drops,
		DevState:    dev.OperState.String(), DevCarrier: dev.Carrier,
	}
	if target == nil {
		row.Target = fmt.Sprintf("ifindex %d (gone)", r.TargetIfindex)
	} else {
		row.Target, row.TargetState, row.TargetCarrier = target.Name, target.OperState.String(), target.Carrier
	}
	return row
}
