package tuntap_test

import (
	"errors"
	"fmt"
	"log"
	"os/exec"

	"github.com/tcwire/tcwire/tuntap"
	"golang.org/x/sys/unix"
)

// Create a four-queue tap in a container's namespace and hand its queues to
// a VMM. Needs CAP_NET_ADMIN and CAP_SYS_ADMIN, so it has no Output.
func ExampleCreate() {
	tap, err := tuntap.Create(tuntap.Config{
		Name:        "tap0",
		Queues:      4,
		VnetHdrSize: tuntap.VirtioNetHdrMrgRxbufLen,
		Owner:       new(1000),
		NetNS:       "/proc/4242/ns/net",
	})
	if errors.Is(err, unix.EBUSY) {
		log.Fatal("tap0 exists already: ", err)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer tap.Close()

	// ExtraFiles become fds 3, 4, 5, 6 in the child.
	cmd := exec.Command("cloud-hypervisor", "--net", "fd=[3,4,5,6],num_queues=8")
	cmd.ExtraFiles = tap.Files()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
}

// A bad configuration is reported before anything is changed, naming the
// field at fault.
func ExampleCreate_invalid() {
	_, err := tuntap.Create(tuntap.Config{Name: "a-very-long-tap-name"})
	fmt.Println(err)
	fmt.Println(errors.Is(err, tuntap.ErrInvalid))
	_, err = tuntap.Create(tuntap.Config{Queues: 300})
	fmt.Println(err)
	// Output:
	// tuntap: invalid configuration: device name "a-very-long-tap-name" is 20 bytes, longer than IFNAMSIZ-1 (15)
	// true
	// tuntap: invalid configuration: Queues 300 is more than the kernel's maximum of 256
}

// Delete is safe to repeat: a second call reports ENODEV, which a CNI DEL
// can treat as success.
func ExampleDelete() {
	err := tuntap.Delete("tap0", "/run/netns/vm1")
	if err != nil && !errors.Is(err, unix.ENODEV) {
		log.Fatal(err)
	}
}
