package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/tcwire/tcwire/internal/netns"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// The control plane's devices: the veth+tap pairs the contenders attach,
// their detach after a trial, and the check that a pair is wired.

// makePairs creates n veth pairs (vethN–vpeerN) and n persistent taps
// (tapN) in ns, all up when up is set, and returns them with their indexes.
func makePairs(ns string, n int, up bool) ([]cpPair, error) {
	c, err := dial(ns)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var reqs []nl.Request
	flush := func() error {
		if len(reqs) == 0 {
			return nil
		}
		err := errors.Join(c.Do(reqs...)...)
		reqs = reqs[:0]
		return err
	}
	for i := range n {
		reqs = append(reqs, link.AddVethRequest(link.Veth{Name: fmt.Sprintf("veth%d", i), Peer: fmt.Sprintf("vpeer%d", i)}, -1))
		if len(reqs) == 200 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	err = netns.Do(ns, func() error {
		for i := range n {
			t, err := tuntap.Create(tuntap.Config{Name: fmt.Sprintf("tap%d", i), Persist: true, Owner: new(os.Geteuid())})
			if err != nil {
				return err
			}
			t.Close()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	links, err := link.List(c)
	if err != nil {
		return nil, err
	}
	idx := map[string]int32{}
	for _, l := range links {
		idx[l.Name] = l.Index
	}
	pairs := make([]cpPair, n)
	for i := range n {
		v, t := fmt.Sprintf("veth%d", i), fmt.Sprintf("tap%d", i)
		pairs[i] = cpPair{tc.Dev{Name: v, Index: idx[v]}, tc.Dev{Name: t, Index: idx[t]}}
		if up {
			reqs = append(reqs, link.SetUpRequest(idx[v], v), link.SetUpRequest(idx[fmt.Sprintf("vpeer%d", i)], ""), link.SetUpRequest(idx[t], t))
			if len(reqs) >= 200 {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	return pairs, flush()
}

// detachAll deletes the ingress qdiscs of every pair, which takes their
// filters with them.
func detachAll(ns string, pairs []cpPair) error {
	c, err := dial(ns)
	if err != nil {
		return err
	}
	defer c.Close()
	var reqs []nl.Request
	var errs []error
	for i, p := range pairs {
		reqs = append(reqs, tc.DelQdiscRequest(tc.Ingress(p.veth.Index, p.veth.Name)), tc.DelQdiscRequest(tc.Ingress(p.tap.Index, p.tap.Name)))
		if len(reqs) >= 200 || i == len(pairs)-1 {
			errs = append(errs, c.Do(reqs...)...)
			reqs = reqs[:0]
		}
	}
	return errors.Join(errs...)
}

// verifyWired checks that a pair redirects both ways, as tcwire installs.
func verifyWired(ns string, p cpPair) error {
	c, err := dial(ns)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, d := range [][2]tc.Dev{{p.veth, p.tap}, {p.tap, p.veth}} {
		h, err := tc.ReadHook(c, d[0])
		if err != nil {
			return err
		}
		rs := h.Redirects()
		if len(rs) != 1 || !rs[0].IsWire() || rs[0].TargetIfindex != d[1].Index {
			return fmt.Errorf("%s: redirects %+v, want one wire to %s", d[0], rs, d[1])
		}
	}
	return nil
}
