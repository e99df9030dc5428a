package tc_test

import (
	"errors"
	"fmt"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// The request for `tc filter add dev eth0 parent ffff: protocol all u32 match
// u8 0 0 action mirred egress redirect dev tap0`, built without a socket.
func ExampleAddFilterRequest() {
	eth0, tap0 := tc.Dev{Name: "eth0", Index: 3}, tc.Dev{Name: "tap0", Index: 4}
	r, err := tc.AddFilterRequest(tc.WireFilter(eth0, tap0, tc.IngressHandle, tc.WireOptions{}))
	if err != nil {
		panic(err)
	}
	b, err := r.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Cmd)
	fmt.Println(len(b), "bytes")
	// Output:
	// tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0
	// 140 bytes
}

// Wiring two devices that have no ingress qdisc yet takes four requests,
// sent in one batch by Plan.Execute.
func ExamplePlanWire() {
	eth0, tap0 := tc.Dev{Name: "eth0", Index: 3}, tc.Dev{Name: "tap0", Index: 4}
	p, err := tc.PlanWire(tc.Hook{Dev: eth0}, tc.Hook{Dev: tap0}, tc.WireOptions{})
	if err != nil {
		panic(err)
	}
	for _, r := range p.Requests {
		fmt.Println(r.Cmd)
	}
	// Output:
	// tc qdisc add dev eth0 ingress
	// tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0
	// tc qdisc add dev tap0 ingress
	// tc filter add dev tap0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev eth0
}

// Wire a container's eth0 to a VM's tap0 in the network namespace "pod1"
// (as root): both devices looked up in one round trip, then Wire reads
// their ingress hooks and sends the qdiscs and filters in one batch,
// undoing what it added if any request fails. Unwire takes them back.
func ExampleWire() {
	c, err := nl.Dial(&nl.Config{NetNS: "pod1"})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	links, errs := link.LookupNames(c, "eth0", "tap0")
	if err := errors.Join(errs...); err != nil {
		panic(err)
	}
	eth0 := tc.Dev{Name: links[0].Name, Index: links[0].Index}
	tap0 := tc.Dev{Name: links[1].Name, Index: links[1].Index}
	if err := tc.Wire(c, eth0, tap0, tc.WireOptions{}); err != nil {
		panic(err)
	}
	defer tc.Unwire(c, eth0, tap0)
}
