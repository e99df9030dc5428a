package main

import (
	"context"
	"time"

	"github.com/tcwire/tcwire"
)

// The control plane's rows of the engine's calls: Attach one pair at a
// time (a Handle opened and closed each), and AttachAll of every pair on
// one Handle.

func attachOneShot(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	m0, b0 := memStats()
	start := time.Now()
	for _, p := range pairs {
		if _, err := tcwire.Attach(context.Background(), tcwire.Options{NetNS: ns, Dev: p.veth.Name, Tap: p.tap.Name}); err != nil {
			return attachResult{}, err
		}
	}
	total := time.Since(start)
	m1, b1 := memStats()
	return attachResult{total: total, allocs: perAttach(m1-m0, len(pairs)), bytes: perAttach(b1-b0, len(pairs))}, nil
}

func attachAll(h *harness, ns string, pairs []cpPair) (attachResult, error) {
	opts := make([]tcwire.Options, len(pairs))
	for i, p := range pairs {
		opts[i] = tcwire.Options{Dev: p.veth.Name, Tap: p.tap.Name}
	}
	m0, b0 := memStats()
	start := time.Now()
	th, err := tcwire.Open(ns)
	if err != nil {
		return attachResult{}, err
	}
	defer th.Close()
	if _, err := th.AttachAll(context.Background(), opts); err != nil {
		return attachResult{}, err
	}
	total := time.Since(start)
	m1, b1 := memStats()
	return attachResult{total: total, allocs: perAttach(m1-m0, len(pairs)), bytes: perAttach(b1-b0, len(pairs))}, nil
}
