package tcwire_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/tcwire/tcwire"
)

// A VM runtime wires the container's eth0 to a tap for the VM, and hands
// the VMM the tap and the MAC for the guest's NIC.
func ExampleAttach() {
	a, err := tcwire.Attach(context.Background(), tcwire.Options{
		NetNS: "/proc/1234/ns/net", // the sandbox's network namespace
		Dev:   "eth0",
		Tap:   "tap0",
		Files: true, // pass the queue files to the VMM instead of the name
	})
	var conflict *tcwire.ConflictError
	switch {
	case errors.As(err, &conflict):
		log.Fatalf("%v (detach %s and %s first)", err, conflict.UndoDev, conflict.UndoTap)
	case errors.Is(err, tcwire.ErrBusy):
		log.Fatalf("%v: retry", err)
	case err != nil:
		log.Fatal(err)
	}
	defer func() {
		for _, f := range a.Files {
			f.Close()
		}
	}()
	fmt.Printf("-netdev tap,id=n0,fd=3 -device virtio-net-pci,netdev=n0,mac=%s (tap %s, %d queue)\n", a.MAC, a.Tap, a.Queues)
}

// When the VM stops, the runtime removes the wiring and the tap Attach
// made. Detaching twice is no error.
func ExampleDetach() {
	o := tcwire.Options{NetNS: "/proc/1234/ns/net", Dev: "eth0", Tap: "tap0"}
	if err := tcwire.Detach(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

// PlanAttach shows what Attach would do now, without doing it: the
// requests are the bytes Attach sends.
func ExamplePlanAttach() {
	p, err := tcwire.PlanAttach(context.Background(), tcwire.Options{Dev: "eth0", Tap: "tap0"})
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range p.Notes {
		fmt.Println("#", n)
	}
	for _, s := range p.Steps {
		if s.Request != nil {
			b, _ := s.Request.MarshalBinary()
			fmt.Printf("%s (%d bytes)\n", s.Cmd, len(b))
			continue
		}
		fmt.Println(s.Cmd)
	}
}

// In macvtap mode the VM's device is a passthru macvtap on eth0; the VMM
// is handed its /dev/tapN, open (qemu: -netdev tap,fd=3; Cloud
// Hypervisor: --net fd=3). Detach is given the same mode.
func ExampleAttach_macvtap() {
	o := tcwire.Options{NetNS: "/proc/1234/ns/net", Dev: "eth0", Tap: "mvtap0", Mode: tcwire.ModeMacvtap, Files: true}
	if err := o.CheckMode(); err != nil {
		log.Fatal(err) // a *ModeError naming the mode and the option
	}
	a, err := tcwire.Attach(context.Background(), o)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Files[0].Close()
	fmt.Printf("%s (open as fd 3) -device virtio-net-pci,netdev=n0,mac=%s\n", a.DevNode, a.MAC)
}
