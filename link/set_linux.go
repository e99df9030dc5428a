//go:build linux

package link

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/nl"
)

// SetNetNS moves the device called name into the network namespace netns,
// given by name (under /run/netns) or path. The device keeps its name and
// gets a new index there; it fails with EEXIST when the target already has
// a device of that name.
func SetNetNS(c *nl.Conn, name, ns string) error {
	f, err := netns.Open(ns)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	defer f.Close()
	return set(c, name, func(i int32) nl.Request { return SetNetNSRequest(i, name, int(f.Fd()), ns) })
}
