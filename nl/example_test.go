package nl_test

import (
	"fmt"

	"github.com/tcwire/tcwire/nl"
)

// RTM_GETLINK and RTM_NEWLINK from <linux/rtnetlink.h>, IFLA_IFNAME from
// <linux/if_link.h>.
const (
	rtmNewlink = 16
	rtmGetlink = 18
	iflaIfname = 3
)

// Ask the kernel for the loopback device by name, as `ip link show dev lo`
// does: a struct ifinfomsg of zeroes (16 bytes), then IFLA_IFNAME. The
// request is plain data, built and printed without a socket; Dial and
// Query send it (no privileges needed for a GET).
func ExampleDial() {
	e := nl.NewEncoder(make([]byte, 16))
	e.String(iflaIfname, "lo")
	req := nl.Request{Type: rtmGetlink, Flags: nl.FlagsAck, Data: e.Bytes(), Cmd: "ip link show dev lo"}
	b, err := req.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)

	c, err := nl.Dial(nil) // the caller's network namespace
	if err != nil {
		panic(err)
	}
	defer c.Close()
	replies, errs := c.Query(req)
	if errs[0] != nil {
		panic(errs[0])
	}
	m := replies[0][0]
	if m.Header.Type == rtmNewlink {
		fmt.Println("RTM_NEWLINK, ifi_index", int32(nl.Uint32(m.Data[4:])))
	}
	// Output:
	// 28 00 00 00 12 00 05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 07 00 03 00 6c 6f 00 00
	// RTM_NEWLINK, ifi_index 1
}
