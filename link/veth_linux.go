//go:build linux

package link

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/nl"
)

// AddVeth creates the veth pair v. With v.PeerNetNS set, the peer is
// created directly in that namespace (it never appears in this one).
func AddVeth(c *nl.Conn, v Veth) error {
	fd := -1
	if v.PeerNetNS != "" {
		f, err := netns.Open(v.PeerNetNS)
		if err != nil {
			return fmt.Errorf("link %s: veth peer %s: %w", v.Name, v.Peer, err)
		}
		defer f.Close()
		fd = int(f.Fd())
	}
	if err := c.Exec(AddVethRequest(v, fd)); err != nil {
		return fmt.Errorf("link %s: %w", v.Name, err)
	}
	return nil
}
