// Package link manages rtnetlink links for tcwire: it looks devices up, sets
// them up or down, changes MTU, MAC address, alias and master, moves them
// between network namespaces, deletes them, and creates the veth pairs,
// bridges, macvlans and macvtaps a VM's network is wired with. It also sets
// bridge port flags and static FDB entries.
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
// Schema explains link and neighbour messages to nl.Annotate.
//
// Constants keep the kernel's names (IFLA_*, NDA_*, MACVLAN_MODE_* …). Those
// golang.org/x/sys/unix has are used from there; the others are defined here
// with the UAPI header they come from.
package link
