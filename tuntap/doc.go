// Package tuntap creates Linux tun/tap devices through /dev/net/tun, or
// attaches to existing ones, and hands out one file per queue for a VMM
// (qemu, Cloud Hypervisor, Firecracker …) to use.
//
// What it takes care of:
//
//   - Namespaces: a tun/tap device lives in the network namespace of the
//     thread that opened /dev/net/tun, so Config.NetNS opens it on a locked
//     thread moved there with setns and moved back afterwards.
//   - All or nothing: when a step after TUNSETIFF fails (owner, group,
//     header size, extra queues, persistence) Create closes its files and
//     clears persistence, so no device is left behind.
//   - Flags that survive attaching: the kernel replaces a device's
//     IFF_NO_PI/IFF_VNET_HDR with whatever the first attaching file asks
//     for, so Open reads the device's flags over rtnetlink and asks for
//     the same ones.
//   - Errors that name the device and the failing ioctl, wrap the errno
//     (errors.Is(err, unix.EBUSY) works), and say when CAP_NET_ADMIN is
//     missing.
//
// Creating, attaching to and deleting devices needs CAP_NET_ADMIN (attaching
// also works for the device's owner or group); NetNS needs CAP_SYS_ADMIN.
package tuntap
