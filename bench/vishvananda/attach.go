// Command tcwire-bench-vishvananda is the vishvananda/netlink contender of
// tcwire-bench's control-plane benchmark: it makes the same bidirectional
// attach as tcwire — an ingress qdisc on both devices and a u32 catch-all
// with mirred egress redirect toward the other, both ways — with
// github.com/vishvananda/netlink, in process, and prints the time and heap
// allocations per attach as JSON.
//
//	tcwire-bench-vishvananda -netns /run/netns/NS -pairs A:B,C:D,…
//
// A and B are interface indexes in that namespace. It lives in a module of
// its own so that tcwire's module never depends on vishvananda/netlink.
package main

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Attach wires the devices with indexes a and b both ways, as
// `tc qdisc add dev X ingress` and `tc filter add dev X parent ffff:
// protocol all u32 match u8 0 0 action mirred egress redirect dev Y` do.
func Attach(h *netlink.Handle, a, b int) error {
	for _, d := range [2][2]int{{a, b}, {b, a}} {
		from, to := d[0], d[1]
		q := &netlink.Ingress{QdiscAttrs: netlink.QdiscAttrs{
			LinkIndex: from,
			Handle:    netlink.MakeHandle(0xffff, 0),
			Parent:    netlink.HANDLE_INGRESS,
		}}
		if err := h.QdiscAdd(q); err != nil {
			return fmt.Errorf("ingress qdisc on ifindex %d: %w", from, err)
		}
		f := &netlink.U32{
			FilterAttrs: netlink.FilterAttrs{
				LinkIndex: from,
				Parent:    netlink.MakeHandle(0xffff, 0),
				Protocol:  unix.ETH_P_ALL,
			},
			// match u8 0 0: one key with mask 0, terminal.
			Sel: &netlink.TcU32Sel{
				Flags: netlink.TC_U32_TERMINAL,
				Keys:  []netlink.TcU32Key{{}},
			},
			Actions: []netlink.Action{netlink.NewMirredAction(to)},
		}
		if err := h.FilterAdd(f); err != nil {
			return fmt.Errorf("u32 filter on ifindex %d: %w", from, err)
		}
	}
	return nil
}
