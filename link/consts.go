package link

// Constants missing from golang.org/x/sys/unix, named and valued as in the
// kernel's UAPI headers.

// From <linux/rtnetlink.h>: the IFLA_EXT_MASK bits of a GETLINK request.
const (
	// RTEXT_FILTER_VF asks for the VF information (iproute2 always sets it).
	RTEXT_FILTER_VF = 1 << 0
	// RTEXT_FILTER_BRVLAN asks for bridge VLAN information.
	RTEXT_FILTER_BRVLAN = 1 << 1
	// RTEXT_FILTER_BRVLAN_COMPRESSED asks for bridge VLANs as ranges.
	RTEXT_FILTER_BRVLAN_COMPRESSED = 1 << 2
	// RTEXT_FILTER_SKIP_STATS leaves IFLA_STATS and IFLA_STATS64 out.
	RTEXT_FILTER_SKIP_STATS = 1 << 3
)

// From <linux/veth.h>: the attribute of a veth's IFLA_INFO_DATA.
const (
	// VETH_INFO_PEER holds the peer: a struct ifinfomsg followed by IFLA_*
	// attributes.
	VETH_INFO_PEER = 1
)

// From <linux/if_link.h>: enum macvlan_mode, the IFLA_MACVLAN_MODE values.
const (
	MACVLAN_MODE_PRIVATE  = 1  // don't talk to other macvlans
	MACVLAN_MODE_VEPA     = 2  // talk to other ports through the external bridge
	MACVLAN_MODE_BRIDGE   = 4  // talk to bridge ports directly
	MACVLAN_MODE_PASSTHRU = 8  // take over the underlying device
	MACVLAN_MODE_SOURCE   = 16 // use the source MAC address list to assign
)

// From <linux/if.h>: the RFC 2863 operational states of IFLA_OPERSTATE.
const (
	IF_OPER_UNKNOWN        = 0
	IF_OPER_NOTPRESENT     = 1
	IF_OPER_DOWN           = 2
	IF_OPER_LOWERLAYERDOWN = 3
	IF_OPER_TESTING        = 4
	IF_OPER_DORMANT        = 5
	IF_OPER_UP             = 6
)

// From <linux/neighbour.h>: neighbour attributes and flags newer than
// golang.org/x/sys/unix's list.
const (
	NDA_PROTOCOL         = 12
	NDA_NH_ID            = 13
	NDA_FDB_EXT_ATTRS    = 14
	NDA_FLAGS_EXT        = 15
	NDA_NDM_STATE_MASK   = 16
	NDA_NDM_FLAGS_MASK   = 17
	NTF_STICKY           = 1 << 6
	NTF_EXT_MANAGED      = 1 << 0 // in NDA_FLAGS_EXT
	NTF_EXT_LOCKED       = 1 << 1 // in NDA_FLAGS_EXT
	NTF_EXT_EXT_VALIDATE = 1 << 2 // in NDA_FLAGS_EXT
)

// From <linux/if_link.h>: link attributes newer than golang.org/x/sys/unix's
// list (kernel 6.12 and later), named so linkschema can show them.
const (
	IFLA_MAX_PACING_OFFLOAD_HORIZON = 66
	IFLA_NETNS_IMMUTABLE            = 67
	IFLA_HEADROOM                   = 68
	IFLA_TAILROOM                   = 69
)

// From <linux/if_link.h>: enum in6_addr_gen_mode, the values of
// IFLA_INET6_ADDR_GEN_MODE, and the IFLA_INET6_* attribute
// golang.org/x/sys/unix lacks.
const (
	IN6_ADDR_GEN_MODE_EUI64          = 0
	IN6_ADDR_GEN_MODE_NONE           = 1
	IN6_ADDR_GEN_MODE_STABLE_PRIVACY = 2
	IN6_ADDR_GEN_MODE_RANDOM         = 3

	IFLA_INET6_ICMP6STATS = 6
)

// From <linux/if_addr.h>: address attributes newer than golang.org/x/sys/unix's
// list.
const (
	IFA_RT_PRIORITY    = 9
	IFA_TARGET_NETNSID = 10
	IFA_PROTO          = 11
)

// From <linux/if_addr.h>: the IFA_PROTO values, who made an address.
const (
	IFAPROT_UNSPEC    = 0
	IFAPROT_KERNEL_LO = 1 // loopback
	IFAPROT_KERNEL_RA = 2 // set by kernel from router announcement
	IFAPROT_KERNEL_LL = 3 // link-local set by kernel
)
