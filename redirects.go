package tcwire

import (
	"fmt"

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

// readRedirects is ReadRedirects on c.
func readRedirects(c *nl.Conn, devs []string) ([]Redirect, error) {
	known := map[int32]end{}
	var tds []tc.Dev
	add := func(l *link.Link) {
		known[l.Index] = end{l.Name, l.OperState.String(), l.Carrier}
		tds = append(tds, devOf(l))
	}
	if len(devs) == 0 {
		err := c.DumpEach(link.ListRequest(), func(m nl.Message) error {
			l, err := link.ParseLink(m)
			if err == nil {
				add(l)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	} else {
		ls, errs := link.LookupNames(c, devs...)
		for i, l := range ls {
			if errs[i] != nil {
				if link.IsNotFound(errs[i]) {
					return nil, &notFoundError{name: devs[i], err: errs[i]}
				}
				return nil, errs[i]
			}
			add(l)
		}
	}
	rows := []Redirect{}
	err := tc.EachHook(c, tds, func(h tc.Hook) error {
		for _, r := range h.Redirects() {
			t, ok := known[r.TargetIfindex]
			if !ok && r.TargetIfindex != 0 {
				// A target outside the devices named.
				if l, err := link.LookupIndex(c, r.TargetIfindex); err == nil {
					t, ok = end{l.Name, l.OperState.String(), l.Carrier}, true
					known[l.Index] = t
				}
			}
			rows = append(rows, describe(r, known[h.Dev.Index], t, ok))
		}
		return nil
	})
	return rows, err
}

// end is what a row says of a device.
type end struct {
	name, state string
	carrier     bool
}

// describe names r, found on dev's hook; target is the device it sends
// to, unless gone.
func describe(r tc.Redirect, dev, target end, found bool) Redirect {
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
		Dev: dev.name, TargetIndex: r.TargetIfindex, Direction: direction, Action: action,
		Control: r.Action.String(), Parent: r.Parent.String(), Pref: r.Pref,
		Handle: tc.U32HandleString(r.Handle), Wire: r.IsWire(), Packets: r.Packets, Bytes: r.Bytes,
		Undelivered: r.Overlimits + r.Drops,
		DevState:    dev.state, DevCarrier: dev.carrier,
	}
	if !found {
		row.Target = fmt.Sprintf("ifindex %d (gone)", r.TargetIfindex)
	} else {
		row.Target, row.TargetState, row.TargetCarrier = target.name, target.state, target.carrier
	}
	return row
}

// checkRead checks a namespace and device names given to a read.
func checkRead(ns string, devs []string) error {
	if err := checkNetNS(ns); err != nil {
		return err
	}
	for _, d := range devs {
		if err := link.CheckName(d); err != nil {
			return invalidf("%v", err)
		}
	}
	return nil
}
