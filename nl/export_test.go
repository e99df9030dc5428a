package nl

import (
	"time"

	"github.com/mdlayher/netlink"
)

// Diff is diff, for the tests of package nl_test.
var Diff = diff

// NewTestConn is a Conn on any netlink.Socket (a fake kernel), with the
// given retry policy and acknowledgement budget per sendmsg (0: the
// default), that records its pauses instead of sleeping.
func NewTestConn(s netlink.Socket, retry Retry, ackBudget int) (c *Conn, pauses *[]time.Duration) {
	c = newConn(netlink.NewConn(s, 1), &socketTransport{s: s}, retry)
	if ackBudget > 0 {
		c.ackBudget = ackBudget
	}
	pauses = new([]time.Duration)
	c.sleep = func(d time.Duration) { *pauses = append(*pauses, d) }
	return c, pauses
}
