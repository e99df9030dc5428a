// Package link manages rtnetlink links for tcwire: it looks devices up, sets
// them up or down, changes MTU, MAC address, alias and master, moves them
// between network namespaces, deletes them, and creates the veth pairs,
// bridges, macvlans and macvtaps a VM's network is wired with. It also sets
// bridge port flags and static FDB entries, lists, adds and deletes
// interface addresses, and sets the IPv6 address generation mode and
// all-multicast mode.
//
// # A quiet device, and undoing it
//
// Facts checked on kernel 6.18 (TestLiveQuietTap,
// TestLiveAddrGenModeAndLinkLocal, TestLiveMacvtapPassthruAllmulti):
//   - A tap that goes up with carrier, or gains carrier while up (a VMM
//     opens a persistent tap), gets an fe80:: address and the host sends
//     into it: DAD (neighbour solicitation), router solicitation and MLDv2
//     reports, 6 frames in 4 s. SetAddrGenMode(AddrGenModeNone) before it
//     goes up leaves it without an IPv6 address and silent: 0 frames in
//     4 s, in both cases.
//   - On a device already up, AddrGenModeNone removes nothing: the fe80::
//     address stays until DelAddr (which also removes the fe80::/64
//     route). Setting AddrGenModeEUI64 again does not bring the address
//     back while the device stays up. To restore: AddAddr of the recorded
//     address (scope link and IFA_F_PERMANENT as before, the route comes
//     back; IFA_PROTO is unset where the kernel's own has
//     IFAPROT_KERNEL_LL), or the old mode then a down/up, which makes the
//     kernel's own again.
//   - A passthru macvtap's reader gets the 01:80:c2:00:00:0X group frames
//     (LLDP, LACP …) only with allmulticast on the macvtap (SetAllmulti).
//
// Every message is encoded by hand. Each request is built by a pure function
// (AddVethRequest, SetUpRequest …) that returns an nl.Request whose bytes
// match, where the operation is the same, what iproute2 6.1's `ip` and
// `bridge` send; its Cmd is that command line. The golden tests in this
// package compare the builders with requests captured from those tools by
// testdata/link/capture.sh. The functions that take an *nl.Conn (SetUp,
// AddVeth …) resolve names to indexes, send the requests and wrap failures
// with the device's name, keeping the kernel's errno for errors.Is.
//
// linkschema.Schema explains link, neighbour and address messages to
// annotate.Lines; it is a package of its own so that a program that only
// sends links no annotated-dump code.
//
// Constants keep the kernel's names (IFLA_*, NDA_*, MACVLAN_MODE_* …). Those
// golang.org/x/sys/unix has come from internal/uapi, which builds on any
// GOOS; the others are defined here with the UAPI header they come from.
//
// Builders take a device as (ifindex, name), as package tc's do: the index
// is what the kernel reads, the name only labels the command line.
package link
