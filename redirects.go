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
}

// ReadRedirects reads the redirects in place on the devices named in
// netns ("" for the caller's), or on every device when none is named.
func ReadRedirects(ctx context.Context, ns string, devs ...string) ([]Redirect, error) {
	c, links, err := listLinks(ns, devs)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	byIndex := map[int32]string{}
	byName := map[string]*link.Link{}
	for _, l := range links {
		byIndex[l.Index] = l.Name
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
			rows = append(rows, describe(r, h.Dev.Name, byIndex))
		}
	}
	return rows, nil
}

func describe(r tc.Redirect, dev string, byIndex map[int32]string) Redirect {
	target, ok := byIndex[r.TargetIfindex]
	if !ok {
		target = fmt.Sprintf("ifindex %d (gone)", r.TargetIfindex)
	}
	direction, action := "egress", "redirect"
	switch r.Eaction {
	case tc.TCA_INGRESS_REDIR, tc.TCA_INGRESS_MIRROR:
		direction = "ingress"
	}
	switch r.Eaction {
	case tc.TCA_EGRESS_MIRROR, tc.TCA_INGRESS_MIRROR:
		action = "mirror"
	}
	return Redirect{
		Dev: dev, Target: target, TargetIndex: r.TargetIfindex, Direction: direction, Action: action,
		Control: tc.ControlName(r.Action), Parent: r.Parent.String(), Pref: r.Pref,
		Handle: tc.U32HandleString(r.Handle), Wire: r.IsWire(), Packets: r.Packets, Bytes: r.Bytes,
	}
}

// listLinks checks a namespace and device names given to a read, and lists
// the namespace's devices on a connection the caller closes.
func listLinks(ns string, devs []string) (*nl.Conn, []*link.Link, error) {
	if ns != "" {
		if _, err := netns.Path(ns); err != nil {
			return nil, nil, invalidf("NetNS: %v", err)
		}
	}
	for _, d := range devs {
		if err := link.CheckName(d); err != nil {
			return nil, nil, invalidf("%v", err)
		}
	}
	c, err := nl.Dial(&nl.Config{NetNS: ns})
	if err != nil {
		return nil, nil, err
	}
	links, err := link.List(c)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, links, nil
}
