package tcwire

import (
	"bytes"
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

// options are the Options AddTap creates the tap from.
func (to TapOptions) options() Options {
	return Options{NetNS: to.NetNS, Tap: to.Name, Queues: to.Queues, Owner: to.Owner, Group: to.Group, MTU: to.MTU, NoVnetHdr: to.NoVnetHdr}
}

// Validate checks the options of AddTap, as Options.Validate does.
func (to TapOptions) Validate() error {
	o := to.options()
	if err := checkNetNS(o.NetNS); err != nil {
		return err
	}
	if err := o.validateTap(); err != nil {
		return err
	}
	if err := o.validateSettings(); err != nil {
		return err
	}
	if mac := to.MAC; mac != nil {
		bad := &OptionError{Option: "mac", Value: mac.String()}
		switch {
		case len(mac) != 6:
			bad.Why = "not an Ethernet MAC address"
		case mac[0]&1 != 0:
			bad.Why = "a multicast address cannot be a device's"
		case bytes.Equal(mac, make(net.HardwareAddr, 6)):
			// The kernel refuses it (EADDRNOTAVAIL) once the tap exists.
			bad.Why = "the all-zero address cannot be a device's"
		default:
			bad = nil
		}
		if bad != nil {
			return bad
		}
	}
	return nil
}

// addTap is AddTap on c, o made from to.
func addTap(c *nl.Conn, o Options, to TapOptions) (*Attachment, error) {
	if err := to.Validate(); err != nil {
		return nil, err
	}
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
		return nil, err
	}
	// Once up, the tap's state (operstate, MAC) is the kernel's to tell.
	if l, err = lookup(c, l.Name); err != nil {
		return nil, err
	}
	return &Attachment{Tap: l.Name, TapIndex: l.Index, MAC: l.MAC, TapMAC: l.MAC, MTU: l.MTU, Queues: o.queues(), Created: true}, nil
}

// deleteTapFile deletes the persistent tap o.Tap (TUNSETPERSIST 0).
func deleteTapFile(o Options) error {
	return tuntap.Delete(o.Tap, o.NetNS)
}
