//go:build !linux

package nl

import (
	"errors"
	"runtime"
)

// Dial fails: NETLINK_ROUTE is Linux's. Requests, their encoders and
// decoders build everywhere; only the socket needs Linux.
func Dial(*Config) (*Conn, error) {
	return nil, errDialf("%w", errors.New("netlink is not available on "+runtime.GOOS))
}

// DialEvents fails: NETLINK_ROUTE is Linux's.
func DialEvents(*Config, ...uint32) (*Events, error) {
	return nil, errDialf("%w", errors.New("netlink is not available on "+runtime.GOOS))
}
