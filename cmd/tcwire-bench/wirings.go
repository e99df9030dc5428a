package main

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/tcwire/tcwire"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// The wirings of the datapath rows (datapathSpecs' build functions), but
// for the macvtap ones (macvtap.go): tc redirect as tc-redirect-tap and
// tcwire make it, the bridges, tcwire's other modes, the veth floor and
// the ceilings.

// buildTC is tc-redirect-tap's setup: a tap as a VMM makes it, wired with
// the four tc objects.
func buildTC(t *topo) error {
	cvm, _, err := t.base()
	if err != nil {
		return err
	}
	tap, err := t.vmTap(cvm)
	if err != nil {
		return err
	}
	eth, err := link.Lookup(cvm, "eth0")
	if err != nil {
		return err
	}
	return tc.Wire(cvm, tc.Dev{Name: eth.Name, Index: eth.Index}, tc.Dev{Name: tap.Name, Index: tap.Index}, tc.WireOptions{})
}

// buildTcwire wires eth0 exactly as `tcwire attach` does, with package
// tcwire's Attach: it creates the tap (DEV's MTU, noqueue, addrgenmode
// none) and hands out its file, which the VM side holds as a VMM would.
func buildTcwire(t *topo) error {
	if _, _, err := t.base(); err != nil {
		return err
	}
	a, err := tcwire.Attach(context.Background(), tcwire.Options{NetNS: t.vmNS, Dev: "eth0", Tap: "tap0", Files: true})
	if err != nil {
		return err
	}
	return t.holdFiles("tap", a)
}

func buildBridge(static bool) func(t *topo) error {
	return func(t *topo) error {
		cvm, _, err := t.base()
		if err != nil {
			return err
		}
		if _, err := t.vmTap(cvm); err != nil {
			return err
		}
		if err := link.AddBridge(cvm, "br0"); err != nil {
			return err
		}
		t.bridge = "br0"
		for _, p := range []string{"eth0", "tap0"} {
			if err := link.SetMaster(cvm, p, "br0"); err != nil {
				return err
			}
		}
		if err := link.SetMTU(cvm, "br0", jumboMTU); err != nil {
			return err
		}
		if static {
			off := false
			if err := link.SetBridgePort(cvm, "tap0", link.PortFlags{Learning: &off, UnicastFlood: &off}); err != nil {
				return err
			}
			if err := link.AddFDB(cvm, "tap0", vmMAC); err != nil {
				return err
			}
		}
		if err := link.SetUp(cvm, "br0"); err != nil {
			return err
		}
		// With STP off the ports forward at once; check rather than assume.
		deadline := time.Now().Add(5 * time.Second)
		for {
			ready := true
			for _, p := range []string{"eth0", "tap0"} {
				l, err := link.Lookup(cvm, p)
				if err != nil {
					return err
				}
				if l.Port == nil || l.Port.State != 3 {
					ready = false
				}
			}
			if ready {
				return nil
			}
			if time.Now().After(deadline) {
				return errors.New("bridge ports not forwarding after 5s")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// buildTcwireMode wires eth0 exactly as `tcwire attach --mode m` does, with
// package tcwire's Attach. The VM's MAC is DEV's in tcwire's modes, so eth0
// takes vmMAC first; the VM side holds the file Attach hands out (the
// macvtap's /dev/tapN, or the bridge's tap), as a VMM would.
func buildTcwireMode(m tcwire.Mode) func(t *topo) error {
	return func(t *topo) error {
		var cvm *nl.Conn
		var err error
		if m == tcwire.ModeMacvtap {
			cvm, err = t.macvtapBase()
		} else {
			cvm, _, err = t.base()
		}
		if err != nil {
			return err
		}
		if err := link.SetMAC(cvm, "eth0", vmMAC); err != nil {
			return err
		}
		o := tcwire.Options{NetNS: t.vmNS, Dev: "eth0", Tap: "tap0", Mode: m, Files: true}
		if m == tcwire.ModeMacvtap {
			o.Tap = "mvt0"
		}
		a, err := tcwire.Attach(context.Background(), o)
		if err != nil {
			return err
		}
		if a.Bridge != "" {
			t.bridge = a.Bridge
		}
		kind := "tap"
		if m == tcwire.ModeMacvtap {
			kind = "macvtap"
			// A node Attach had to make with mknod goes with its detach;
			// the namespace's deletion does not remove it.
			t.cleanups = append(t.cleanups, func() { tcwire.Detach(context.Background(), o) })
		}
		return t.holdFiles(kind, a)
	}
}

func buildVeth(t *topo) error {
	cvm, _, err := t.base()
	if err != nil {
		return err
	}
	l, err := link.Lookup(cvm, "eth0")
	if err != nil {
		return err
	}
	if err := link.SetMAC(cvm, "eth0", vmMAC); err != nil {
		return err
	}
	if t.vm, err = packetEndpoint(t.vmNS, l.Index, etherBench); err != nil {
		return err
	}
	t.cleanups = append(t.cleanups, t.vm.close)
	return nil
}

func buildTapWrite(t *topo) error {
	cvm, _, err := t.namespaces(false)
	if err != nil {
		return err
	}
	if _, err := t.vmTap(cvm); err != nil {
		return err
	}
	t.farMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}
	return nil
}

func buildPacketSend(t *topo) error {
	_, _, err := t.base()
	return err
}
