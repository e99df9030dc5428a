package tcwire

import (
	"bytes"
	"context"
	"net"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tuntap"
)

// TapOptions describe a tap for AddTap. The tap is persistent, marked as
// tcwire's and up; it has the virtio-net header unless NoVnetHdr.
type TapOptions struct {
	NetNS string
	Name  string
	// Queues, Owner, Group and NoVnetHdr are as in Options.
	Queues    int
	Owner     *int
	Group     *int
	NoVnetHdr bool
	// MTU and MAC of the tap; zero values keep the kernel's.
	MTU uint32
	MAC net.HardwareAddr
}

// AddTap creates a tap on its own, wired to nothing, as `ip tuntap add`
// would but all or nothing and marked as tcwire's (Detach deletes it).
func AddTap(ctx context.Context, to TapOptions) (*Attachment, error) {
	o := Options{NetNS: to.NetNS, Tap: to.Name, Queues: to.Queues, Owner: to.Owner, Group: to.Group, MTU: to.MTU, NoVnetHdr: to.NoVnetHdr}
	if err := o.checkTapOnly(); err != nil {
		return nil, err
	}
	if mac := to.MAC; mac != nil && (len(mac) != 6 || mac[0]&1 != 0 || bytes.Equal(mac, make(net.HardwareAddr, 6))) {
		return nil, invalidf("MAC %s: not the unicast Ethernet address of a device", mac)
	}
	c, err := nl.Dial(&nl.Config{NetNS: o.NetNS})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_, l, err := createTap(c, o.tapConfig(), func(tap tc.Dev) []nl.Request {
		reqs := []nl.Request{link.MarkRequest(tap.Index, tap.Name)}
		if to.MTU != 0 {
			reqs = append(reqs, link.SetMTURequest(tap.Index, tap.Name, to.MTU))
		}
		if to.MAC != nil {
			reqs = append(reqs, link.SetMACRequest(tap.Index, tap.Name, to.MAC))
		}
		return reqs
	}, false)
	if err != nil {
		return nil, classify(err)
	}
	// Once up, the tap's state (operstate, MAC) is the kernel's to tell.
	if l, err = lookup(c, l.Name); err != nil {
		return nil, err
	}
	return &Attachment{Tap: l.Name, TapIndex: l.Index, MAC: l.MAC, TapMAC: l.MAC, MTU: l.MTU, Queues: o.queues(), Created: true}, nil
}

// DeleteTap deletes the persistent tap called name in netns, whoever made
// it (TUNSETPERSIST 0).
func DeleteTap(ctx context.Context, netns, name string) error {
	if err := (Options{NetNS: netns, Tap: name}).checkTapOnly(); err != nil {
		return err
	}
	return classify(tuntap.Delete(name, netns))
}
