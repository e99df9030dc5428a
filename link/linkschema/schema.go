// Package linkschema tells nl/annotate how to read link, neighbour and
// address messages (rtnetlink's RTM_*LINK, RTM_*NEIGH, RTM_*ADDR), for
// `tcwire explain` and the golden tests' diffs. It is apart from package
// link so that a program that only sends link requests links none of the
// annotated-dump code. Pure: any GOOS.
package linkschema

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl/annotate"
)

// Schema explains RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK, RTM_SETLINK,
// RTM_NEWNEIGH, RTM_DELNEIGH, RTM_GETNEIGH and RTM_NEWADDR, RTM_DELADDR,
// RTM_GETADDR messages to annotate.Lines: the ifinfomsg, ndmsg or ifaddrmsg
// fields, the IFLA_*, NDA_* and IFA_* names, and IFLA_LINKINFO's
// IFLA_INFO_DATA chosen by IFLA_INFO_KIND (veth, bridge, macvlan, macvtap,
// tun).
//
// Limits of the annotate.Schema model, shown as raw bytes rather than guessed:
// VETH_INFO_PEER's ifinfomsg is annotated but the attributes after it are
// not; IFLA_INFO_SLAVE_DATA and IFLA_PROTINFO are read as bridge port
// attributes (IFLA_BRPORT_*), which is what they hold for a bridge port, the
// only kind of port tcwire makes; IFLA_STATS* and the VF attributes are
// shown raw, and of IFLA_AF_SPEC only AF_INET6's flags,
// token and address generation mode are named.
var Schema = annotate.Schema{
	uapi.RTM_NEWLINK:  {Name: "RTM_NEWLINK", Header: ifinfomsgStruct, Attrs: ifla},
	uapi.RTM_DELLINK:  {Name: "RTM_DELLINK", Header: ifinfomsgStruct, Attrs: ifla},
	uapi.RTM_GETLINK:  {Name: "RTM_GETLINK", Header: ifinfomsgStruct, Attrs: ifla},
	uapi.RTM_SETLINK:  {Name: "RTM_SETLINK", Header: ifinfomsgStruct, Attrs: ifla},
	uapi.RTM_NEWNEIGH: {Name: "RTM_NEWNEIGH", Header: ndmsgStruct, Attrs: nda},
	uapi.RTM_DELNEIGH: {Name: "RTM_DELNEIGH", Header: ndmsgStruct, Attrs: nda},
	uapi.RTM_GETNEIGH: {Name: "RTM_GETNEIGH", Header: ndmsgStruct, Attrs: nda},
	uapi.RTM_NEWADDR:  {Name: "RTM_NEWADDR", Header: ifaddrmsgStruct, Attrs: ifa},
	uapi.RTM_DELADDR:  {Name: "RTM_DELADDR", Header: ifaddrmsgStruct, Attrs: ifa},
	uapi.RTM_GETADDR:  {Name: "RTM_GETADDR", Header: ifaddrmsgStruct, Attrs: ifa},
}

var ifinfomsgStruct = &annotate.Struct{Name: "ifinfomsg", Fields: []annotate.Field{
	{Name: "ifi_family", Size: 1, Format: fmtFamily},
	{Name: "__ifi_pad", Size: 1},
	{Name: "ifi_type", Size: 2, Format: fmtARPHRD},
	{Name: "ifi_index", Size: 4, Format: annotate.FmtInt},
	{Name: "ifi_flags", Size: 4, Format: fmtIFF},
	{Name: "ifi_change", Size: 4, Format: fmtIFF},
}}

var ndmsgStruct = &annotate.Struct{Name: "ndmsg", Fields: []annotate.Field{
	{Name: "ndm_family", Size: 1, Format: fmtFamily},
	{Name: "ndm_pad1", Size: 1},
	{Name: "ndm_pad2", Size: 2},
	{Name: "ndm_ifindex", Size: 4, Format: annotate.FmtInt},
	{Name: "ndm_state", Size: 2, Format: fmtNUD},
	{Name: "ndm_flags", Size: 1, Format: fmtNTF},
	{Name: "ndm_type", Size: 1},
}}

var ifaddrmsgStruct = &annotate.Struct{Name: "ifaddrmsg", Fields: []annotate.Field{
	{Name: "ifa_family", Size: 1, Format: fmtFamily},
	{Name: "ifa_prefixlen", Size: 1},
	{Name: "ifa_flags", Size: 1, Format: fmtIFA},
	{Name: "ifa_scope", Size: 1, Format: fmtScope},
	{Name: "ifa_index", Size: 4, Format: annotate.FmtInt},
}}

func str(name string) *annotate.AttrSpec {
	return &annotate.AttrSpec{Name: name, Format: annotate.FmtString}
}
func u(name string) *annotate.AttrSpec {
	return &annotate.AttrSpec{Name: name, Format: annotate.FmtUint}
}
func s32(name string) *annotate.AttrSpec {
	return &annotate.AttrSpec{Name: name, Format: annotate.FmtInt}
}
func hex(name string) *annotate.AttrSpec {
	return &annotate.AttrSpec{Name: name, Format: annotate.FmtHex}
}
func octets(name string) *annotate.AttrSpec {
	return &annotate.AttrSpec{Name: name, Format: annotate.FmtBytes}
}
func raw(name string) *annotate.AttrSpec { return &annotate.AttrSpec{Name: name} }

// brport is the IFLA_BRPORT_* nest (<linux/if_link.h>).
var brport = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.IFLA_BRPORT_STATE:                 u("IFLA_BRPORT_STATE"),
	uapi.IFLA_BRPORT_PRIORITY:              u("IFLA_BRPORT_PRIORITY"),
	uapi.IFLA_BRPORT_COST:                  u("IFLA_BRPORT_COST"),
	uapi.IFLA_BRPORT_MODE:                  u("IFLA_BRPORT_MODE"),
	uapi.IFLA_BRPORT_GUARD:                 u("IFLA_BRPORT_GUARD"),
	uapi.IFLA_BRPORT_PROTECT:               u("IFLA_BRPORT_PROTECT"),
	uapi.IFLA_BRPORT_FAST_LEAVE:            u("IFLA_BRPORT_FAST_LEAVE"),
	uapi.IFLA_BRPORT_LEARNING:              u("IFLA_BRPORT_LEARNING"),
	uapi.IFLA_BRPORT_UNICAST_FLOOD:         u("IFLA_BRPORT_UNICAST_FLOOD"),
	uapi.IFLA_BRPORT_PROXYARP:              u("IFLA_BRPORT_PROXYARP"),
	uapi.IFLA_BRPORT_LEARNING_SYNC:         u("IFLA_BRPORT_LEARNING_SYNC"),
	uapi.IFLA_BRPORT_PROXYARP_WIFI:         u("IFLA_BRPORT_PROXYARP_WIFI"),
	uapi.IFLA_BRPORT_ROOT_ID:               octets("IFLA_BRPORT_ROOT_ID"),
	uapi.IFLA_BRPORT_BRIDGE_ID:             octets("IFLA_BRPORT_BRIDGE_ID"),
	uapi.IFLA_BRPORT_DESIGNATED_PORT:       u("IFLA_BRPORT_DESIGNATED_PORT"),
	uapi.IFLA_BRPORT_DESIGNATED_COST:       u("IFLA_BRPORT_DESIGNATED_COST"),
	uapi.IFLA_BRPORT_ID:                    hex("IFLA_BRPORT_ID"),
	uapi.IFLA_BRPORT_NO:                    hex("IFLA_BRPORT_NO"),
	uapi.IFLA_BRPORT_TOPOLOGY_CHANGE_ACK:   u("IFLA_BRPORT_TOPOLOGY_CHANGE_ACK"),
	uapi.IFLA_BRPORT_CONFIG_PENDING:        u("IFLA_BRPORT_CONFIG_PENDING"),
	uapi.IFLA_BRPORT_MESSAGE_AGE_TIMER:     u("IFLA_BRPORT_MESSAGE_AGE_TIMER"),
	uapi.IFLA_BRPORT_FORWARD_DELAY_TIMER:   u("IFLA_BRPORT_FORWARD_DELAY_TIMER"),
	uapi.IFLA_BRPORT_HOLD_TIMER:            u("IFLA_BRPORT_HOLD_TIMER"),
	uapi.IFLA_BRPORT_FLUSH:                 raw("IFLA_BRPORT_FLUSH"),
	uapi.IFLA_BRPORT_MULTICAST_ROUTER:      u("IFLA_BRPORT_MULTICAST_ROUTER"),
	uapi.IFLA_BRPORT_PAD:                   raw("IFLA_BRPORT_PAD"),
	uapi.IFLA_BRPORT_MCAST_FLOOD:           u("IFLA_BRPORT_MCAST_FLOOD"),
	uapi.IFLA_BRPORT_MCAST_TO_UCAST:        u("IFLA_BRPORT_MCAST_TO_UCAST"),
	uapi.IFLA_BRPORT_VLAN_TUNNEL:           u("IFLA_BRPORT_VLAN_TUNNEL"),
	uapi.IFLA_BRPORT_BCAST_FLOOD:           u("IFLA_BRPORT_BCAST_FLOOD"),
	uapi.IFLA_BRPORT_GROUP_FWD_MASK:        hex("IFLA_BRPORT_GROUP_FWD_MASK"),
	uapi.IFLA_BRPORT_NEIGH_SUPPRESS:        u("IFLA_BRPORT_NEIGH_SUPPRESS"),
	uapi.IFLA_BRPORT_ISOLATED:              u("IFLA_BRPORT_ISOLATED"),
	uapi.IFLA_BRPORT_BACKUP_PORT:           u("IFLA_BRPORT_BACKUP_PORT"),
	uapi.IFLA_BRPORT_MRP_RING_OPEN:         u("IFLA_BRPORT_MRP_RING_OPEN"),
	uapi.IFLA_BRPORT_MRP_IN_OPEN:           u("IFLA_BRPORT_MRP_IN_OPEN"),
	uapi.IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT: u("IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT"),
	uapi.IFLA_BRPORT_MCAST_EHT_HOSTS_CNT:   u("IFLA_BRPORT_MCAST_EHT_HOSTS_CNT"),
	uapi.IFLA_BRPORT_LOCKED:                u("IFLA_BRPORT_LOCKED"),
	uapi.IFLA_BRPORT_MAB:                   u("IFLA_BRPORT_MAB"),
	uapi.IFLA_BRPORT_MCAST_N_GROUPS:        u("IFLA_BRPORT_MCAST_N_GROUPS"),
	uapi.IFLA_BRPORT_MCAST_MAX_GROUPS:      u("IFLA_BRPORT_MCAST_MAX_GROUPS"),
	uapi.IFLA_BRPORT_NEIGH_VLAN_SUPPRESS:   u("IFLA_BRPORT_NEIGH_VLAN_SUPPRESS"),
	uapi.IFLA_BRPORT_BACKUP_NHID:           u("IFLA_BRPORT_BACKUP_NHID"),
}}

// bridgeData is a bridge's IFLA_INFO_DATA (IFLA_BR_*).
var bridgeData = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.IFLA_BR_FORWARD_DELAY:              u("IFLA_BR_FORWARD_DELAY"),
	uapi.IFLA_BR_HELLO_TIME:                 u("IFLA_BR_HELLO_TIME"),
	uapi.IFLA_BR_MAX_AGE:                    u("IFLA_BR_MAX_AGE"),
	uapi.IFLA_BR_AGEING_TIME:                u("IFLA_BR_AGEING_TIME"),
	uapi.IFLA_BR_STP_STATE:                  u("IFLA_BR_STP_STATE"),
	uapi.IFLA_BR_PRIORITY:                   u("IFLA_BR_PRIORITY"),
	uapi.IFLA_BR_VLAN_FILTERING:             u("IFLA_BR_VLAN_FILTERING"),
	uapi.IFLA_BR_VLAN_PROTOCOL:              {Name: "IFLA_BR_VLAN_PROTOCOL", Format: annotate.FmtBE},
	uapi.IFLA_BR_GROUP_FWD_MASK:             hex("IFLA_BR_GROUP_FWD_MASK"),
	uapi.IFLA_BR_ROOT_ID:                    octets("IFLA_BR_ROOT_ID"),
	uapi.IFLA_BR_BRIDGE_ID:                  octets("IFLA_BR_BRIDGE_ID"),
	uapi.IFLA_BR_ROOT_PORT:                  u("IFLA_BR_ROOT_PORT"),
	uapi.IFLA_BR_ROOT_PATH_COST:             u("IFLA_BR_ROOT_PATH_COST"),
	uapi.IFLA_BR_TOPOLOGY_CHANGE:            u("IFLA_BR_TOPOLOGY_CHANGE"),
	uapi.IFLA_BR_TOPOLOGY_CHANGE_DETECTED:   u("IFLA_BR_TOPOLOGY_CHANGE_DETECTED"),
	uapi.IFLA_BR_HELLO_TIMER:                u("IFLA_BR_HELLO_TIMER"),
	uapi.IFLA_BR_TCN_TIMER:                  u("IFLA_BR_TCN_TIMER"),
	uapi.IFLA_BR_TOPOLOGY_CHANGE_TIMER:      u("IFLA_BR_TOPOLOGY_CHANGE_TIMER"),
	uapi.IFLA_BR_GC_TIMER:                   u("IFLA_BR_GC_TIMER"),
	uapi.IFLA_BR_GROUP_ADDR:                 octets("IFLA_BR_GROUP_ADDR"),
	uapi.IFLA_BR_FDB_FLUSH:                  raw("IFLA_BR_FDB_FLUSH"),
	uapi.IFLA_BR_MCAST_ROUTER:               u("IFLA_BR_MCAST_ROUTER"),
	uapi.IFLA_BR_MCAST_SNOOPING:             u("IFLA_BR_MCAST_SNOOPING"),
	uapi.IFLA_BR_MCAST_QUERY_USE_IFADDR:     u("IFLA_BR_MCAST_QUERY_USE_IFADDR"),
	uapi.IFLA_BR_MCAST_QUERIER:              u("IFLA_BR_MCAST_QUERIER"),
	uapi.IFLA_BR_MCAST_HASH_ELASTICITY:      u("IFLA_BR_MCAST_HASH_ELASTICITY"),
	uapi.IFLA_BR_MCAST_HASH_MAX:             u("IFLA_BR_MCAST_HASH_MAX"),
	uapi.IFLA_BR_MCAST_LAST_MEMBER_CNT:      u("IFLA_BR_MCAST_LAST_MEMBER_CNT"),
	uapi.IFLA_BR_MCAST_STARTUP_QUERY_CNT:    u("IFLA_BR_MCAST_STARTUP_QUERY_CNT"),
	uapi.IFLA_BR_MCAST_LAST_MEMBER_INTVL:    u("IFLA_BR_MCAST_LAST_MEMBER_INTVL"),
	uapi.IFLA_BR_MCAST_MEMBERSHIP_INTVL:     u("IFLA_BR_MCAST_MEMBERSHIP_INTVL"),
	uapi.IFLA_BR_MCAST_QUERIER_INTVL:        u("IFLA_BR_MCAST_QUERIER_INTVL"),
	uapi.IFLA_BR_MCAST_QUERY_INTVL:          u("IFLA_BR_MCAST_QUERY_INTVL"),
	uapi.IFLA_BR_MCAST_QUERY_RESPONSE_INTVL: u("IFLA_BR_MCAST_QUERY_RESPONSE_INTVL"),
	uapi.IFLA_BR_MCAST_STARTUP_QUERY_INTVL:  u("IFLA_BR_MCAST_STARTUP_QUERY_INTVL"),
	uapi.IFLA_BR_NF_CALL_IPTABLES:           u("IFLA_BR_NF_CALL_IPTABLES"),
	uapi.IFLA_BR_NF_CALL_IP6TABLES:          u("IFLA_BR_NF_CALL_IP6TABLES"),
	uapi.IFLA_BR_NF_CALL_ARPTABLES:          u("IFLA_BR_NF_CALL_ARPTABLES"),
	uapi.IFLA_BR_VLAN_DEFAULT_PVID:          u("IFLA_BR_VLAN_DEFAULT_PVID"),
	uapi.IFLA_BR_PAD:                        raw("IFLA_BR_PAD"),
	uapi.IFLA_BR_VLAN_STATS_ENABLED:         u("IFLA_BR_VLAN_STATS_ENABLED"),
	uapi.IFLA_BR_MCAST_STATS_ENABLED:        u("IFLA_BR_MCAST_STATS_ENABLED"),
	uapi.IFLA_BR_MCAST_IGMP_VERSION:         u("IFLA_BR_MCAST_IGMP_VERSION"),
	uapi.IFLA_BR_MCAST_MLD_VERSION:          u("IFLA_BR_MCAST_MLD_VERSION"),
	uapi.IFLA_BR_VLAN_STATS_PER_PORT:        u("IFLA_BR_VLAN_STATS_PER_PORT"),
	uapi.IFLA_BR_MULTI_BOOLOPT:              raw("IFLA_BR_MULTI_BOOLOPT"),
	uapi.IFLA_BR_MCAST_QUERIER_STATE:        raw("IFLA_BR_MCAST_QUERIER_STATE"),
	uapi.IFLA_BR_FDB_N_LEARNED:              u("IFLA_BR_FDB_N_LEARNED"),
	uapi.IFLA_BR_FDB_MAX_LEARNED:            u("IFLA_BR_FDB_MAX_LEARNED"),
}}

// macvlanData is a macvlan's or macvtap's IFLA_INFO_DATA (IFLA_MACVLAN_*).
var macvlanData = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.IFLA_MACVLAN_MODE:              {Name: "IFLA_MACVLAN_MODE", Format: fmtMacvlanMode},
	uapi.IFLA_MACVLAN_FLAGS:             hex("IFLA_MACVLAN_FLAGS"),
	uapi.IFLA_MACVLAN_MACADDR_MODE:      u("IFLA_MACVLAN_MACADDR_MODE"),
	uapi.IFLA_MACVLAN_MACADDR:           octets("IFLA_MACVLAN_MACADDR"),
	uapi.IFLA_MACVLAN_MACADDR_DATA:      raw("IFLA_MACVLAN_MACADDR_DATA"),
	uapi.IFLA_MACVLAN_MACADDR_COUNT:     u("IFLA_MACVLAN_MACADDR_COUNT"),
	uapi.IFLA_MACVLAN_BC_QUEUE_LEN:      u("IFLA_MACVLAN_BC_QUEUE_LEN"),
	uapi.IFLA_MACVLAN_BC_QUEUE_LEN_USED: u("IFLA_MACVLAN_BC_QUEUE_LEN_USED"),
	uapi.IFLA_MACVLAN_BC_CUTOFF:         s32("IFLA_MACVLAN_BC_CUTOFF"),
}}

// vethData is a veth's IFLA_INFO_DATA. The peer is a struct ifinfomsg
// followed by IFLA_* attributes; annotate.AttrSpec can describe the struct but not
// the attributes after it, which show as extra bytes.
var vethData = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	link.VETH_INFO_PEER: {Name: "VETH_INFO_PEER", Struct: ifinfomsgStruct},
}}

var linkInfo = &annotate.Nest{Kind: uapi.IFLA_INFO_KIND, Attrs: map[uint16]*annotate.AttrSpec{
	uapi.IFLA_INFO_KIND: str("IFLA_INFO_KIND"),
	uapi.IFLA_INFO_DATA: {Name: "IFLA_INFO_DATA", Options: map[string]*annotate.Nest{
		link.KindVeth:    vethData,
		link.KindBridge:  bridgeData,
		link.KindMacvlan: macvlanData,
		link.KindMacvtap: macvlanData,
		link.KindTun:     tunData,
	}},
	uapi.IFLA_INFO_XSTATS:     raw("IFLA_INFO_XSTATS"),
	uapi.IFLA_INFO_SLAVE_KIND: str("IFLA_INFO_SLAVE_KIND"),
	// Read as a bridge port's: annotate.Nest selects options by one kind
	// attribute only (IFLA_INFO_KIND here), not by IFLA_INFO_SLAVE_KIND.
	uapi.IFLA_INFO_SLAVE_DATA: {Name: "IFLA_INFO_SLAVE_DATA", Nest: brport},
}}

var propList = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.IFLA_ALT_IFNAME: str("IFLA_ALT_IFNAME"),
}}

// ifla is the top level of a link message (IFLA_*).
var ifla = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.IFLA_ADDRESS:                    octets("IFLA_ADDRESS"),
	uapi.IFLA_BROADCAST:                  octets("IFLA_BROADCAST"),
	uapi.IFLA_IFNAME:                     str("IFLA_IFNAME"),
	uapi.IFLA_MTU:                        u("IFLA_MTU"),
	uapi.IFLA_LINK:                       s32("IFLA_LINK"),
	uapi.IFLA_QDISC:                      str("IFLA_QDISC"),
	uapi.IFLA_STATS:                      raw("IFLA_STATS"),
	uapi.IFLA_COST:                       raw("IFLA_COST"),
	uapi.IFLA_PRIORITY:                   raw("IFLA_PRIORITY"),
	uapi.IFLA_MASTER:                     s32("IFLA_MASTER"),
	uapi.IFLA_WIRELESS:                   raw("IFLA_WIRELESS"),
	uapi.IFLA_PROTINFO:                   {Name: "IFLA_PROTINFO", Nest: brport},
	uapi.IFLA_TXQLEN:                     u("IFLA_TXQLEN"),
	uapi.IFLA_MAP:                        raw("IFLA_MAP"),
	uapi.IFLA_WEIGHT:                     u("IFLA_WEIGHT"),
	uapi.IFLA_OPERSTATE:                  {Name: "IFLA_OPERSTATE", Format: fmtOperState},
	uapi.IFLA_LINKMODE:                   u("IFLA_LINKMODE"),
	uapi.IFLA_LINKINFO:                   {Name: "IFLA_LINKINFO", Nest: linkInfo},
	uapi.IFLA_NET_NS_PID:                 u("IFLA_NET_NS_PID"),
	uapi.IFLA_IFALIAS:                    str("IFLA_IFALIAS"),
	uapi.IFLA_NUM_VF:                     u("IFLA_NUM_VF"),
	uapi.IFLA_VFINFO_LIST:                raw("IFLA_VFINFO_LIST"),
	uapi.IFLA_STATS64:                    raw("IFLA_STATS64"),
	uapi.IFLA_VF_PORTS:                   raw("IFLA_VF_PORTS"),
	uapi.IFLA_PORT_SELF:                  raw("IFLA_PORT_SELF"),
	uapi.IFLA_AF_SPEC:                    {Name: "IFLA_AF_SPEC", Nest: afSpec},
	uapi.IFLA_GROUP:                      u("IFLA_GROUP"),
	uapi.IFLA_NET_NS_FD:                  u("IFLA_NET_NS_FD"),
	uapi.IFLA_EXT_MASK:                   {Name: "IFLA_EXT_MASK", Format: fmtExtMask},
	uapi.IFLA_PROMISCUITY:                u("IFLA_PROMISCUITY"),
	uapi.IFLA_NUM_TX_QUEUES:              u("IFLA_NUM_TX_QUEUES"),
	uapi.IFLA_NUM_RX_QUEUES:              u("IFLA_NUM_RX_QUEUES"),
	uapi.IFLA_CARRIER:                    u("IFLA_CARRIER"),
	uapi.IFLA_PHYS_PORT_ID:               octets("IFLA_PHYS_PORT_ID"),
	uapi.IFLA_CARRIER_CHANGES:            u("IFLA_CARRIER_CHANGES"),
	uapi.IFLA_PHYS_SWITCH_ID:             octets("IFLA_PHYS_SWITCH_ID"),
	uapi.IFLA_LINK_NETNSID:               s32("IFLA_LINK_NETNSID"),
	uapi.IFLA_PHYS_PORT_NAME:             str("IFLA_PHYS_PORT_NAME"),
	uapi.IFLA_PROTO_DOWN:                 u("IFLA_PROTO_DOWN"),
	uapi.IFLA_GSO_MAX_SEGS:               u("IFLA_GSO_MAX_SEGS"),
	uapi.IFLA_GSO_MAX_SIZE:               u("IFLA_GSO_MAX_SIZE"),
	uapi.IFLA_PAD:                        raw("IFLA_PAD"),
	uapi.IFLA_XDP:                        raw("IFLA_XDP"),
	uapi.IFLA_EVENT:                      u("IFLA_EVENT"),
	uapi.IFLA_NEW_NETNSID:                s32("IFLA_NEW_NETNSID"),
	uapi.IFLA_TARGET_NETNSID:             s32("IFLA_TARGET_NETNSID"),
	uapi.IFLA_CARRIER_UP_COUNT:           u("IFLA_CARRIER_UP_COUNT"),
	uapi.IFLA_CARRIER_DOWN_COUNT:         u("IFLA_CARRIER_DOWN_COUNT"),
	uapi.IFLA_NEW_IFINDEX:                s32("IFLA_NEW_IFINDEX"),
	uapi.IFLA_MIN_MTU:                    u("IFLA_MIN_MTU"),
	uapi.IFLA_MAX_MTU:                    u("IFLA_MAX_MTU"),
	uapi.IFLA_PROP_LIST:                  {Name: "IFLA_PROP_LIST", Nest: propList},
	uapi.IFLA_ALT_IFNAME:                 str("IFLA_ALT_IFNAME"),
	uapi.IFLA_PERM_ADDRESS:               octets("IFLA_PERM_ADDRESS"),
	uapi.IFLA_PROTO_DOWN_REASON:          raw("IFLA_PROTO_DOWN_REASON"),
	uapi.IFLA_PARENT_DEV_NAME:            str("IFLA_PARENT_DEV_NAME"),
	uapi.IFLA_PARENT_DEV_BUS_NAME:        str("IFLA_PARENT_DEV_BUS_NAME"),
	uapi.IFLA_GRO_MAX_SIZE:               u("IFLA_GRO_MAX_SIZE"),
	uapi.IFLA_TSO_MAX_SIZE:               u("IFLA_TSO_MAX_SIZE"),
	uapi.IFLA_TSO_MAX_SEGS:               u("IFLA_TSO_MAX_SEGS"),
	uapi.IFLA_ALLMULTI:                   u("IFLA_ALLMULTI"),
	uapi.IFLA_DEVLINK_PORT:               raw("IFLA_DEVLINK_PORT"),
	uapi.IFLA_GSO_IPV4_MAX_SIZE:          u("IFLA_GSO_IPV4_MAX_SIZE"),
	uapi.IFLA_GRO_IPV4_MAX_SIZE:          u("IFLA_GRO_IPV4_MAX_SIZE"),
	uapi.IFLA_DPLL_PIN:                   raw("IFLA_DPLL_PIN"),
	link.IFLA_MAX_PACING_OFFLOAD_HORIZON: u("IFLA_MAX_PACING_OFFLOAD_HORIZON"),
	link.IFLA_NETNS_IMMUTABLE:            u("IFLA_NETNS_IMMUTABLE"),
	link.IFLA_HEADROOM:                   u("IFLA_HEADROOM"),
	link.IFLA_TAILROOM:                   u("IFLA_TAILROOM"),
}}

// afSpec is IFLA_AF_SPEC: one nest per address family, its type the AF_*
// number.
var afSpec = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.AF_INET:   raw("AF_INET"),
	uapi.AF_INET6:  {Name: "AF_INET6", Nest: inet6},
	uapi.AF_BRIDGE: raw("AF_BRIDGE"),
	uapi.AF_MPLS:   raw("AF_MPLS"),
	uapi.AF_MCTP:   raw("AF_MCTP"),
}}

// inet6 is IFLA_AF_SPEC's AF_INET6 nest (IFLA_INET6_*, <linux/if_link.h>).
var inet6 = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.IFLA_INET6_FLAGS:         hex("IFLA_INET6_FLAGS"),
	uapi.IFLA_INET6_CONF:          raw("IFLA_INET6_CONF"),
	uapi.IFLA_INET6_STATS:         raw("IFLA_INET6_STATS"),
	uapi.IFLA_INET6_MCAST:         raw("IFLA_INET6_MCAST"),
	uapi.IFLA_INET6_CACHEINFO:     raw("IFLA_INET6_CACHEINFO"),
	link.IFLA_INET6_ICMP6STATS:    raw("IFLA_INET6_ICMP6STATS"),
	uapi.IFLA_INET6_TOKEN:         octets("IFLA_INET6_TOKEN"),
	uapi.IFLA_INET6_ADDR_GEN_MODE: {Name: "IFLA_INET6_ADDR_GEN_MODE", Format: fmtAddrGenMode},
	uapi.IFLA_INET6_RA_MTU:        u("IFLA_INET6_RA_MTU"),
}}

// nda is the top level of a neighbour message (NDA_*).
var nda = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.NDA_DST:            octets("NDA_DST"),
	uapi.NDA_LLADDR:         octets("NDA_LLADDR"),
	uapi.NDA_CACHEINFO:      raw("NDA_CACHEINFO"),
	uapi.NDA_PROBES:         u("NDA_PROBES"),
	uapi.NDA_VLAN:           u("NDA_VLAN"),
	uapi.NDA_PORT:           {Name: "NDA_PORT", Format: annotate.FmtBE},
	uapi.NDA_VNI:            u("NDA_VNI"),
	uapi.NDA_IFINDEX:        s32("NDA_IFINDEX"),
	uapi.NDA_MASTER:         s32("NDA_MASTER"),
	uapi.NDA_LINK_NETNSID:   s32("NDA_LINK_NETNSID"),
	uapi.NDA_SRC_VNI:        u("NDA_SRC_VNI"),
	link.NDA_PROTOCOL:       u("NDA_PROTOCOL"),
	link.NDA_NH_ID:          u("NDA_NH_ID"),
	link.NDA_FDB_EXT_ATTRS:  raw("NDA_FDB_EXT_ATTRS"),
	link.NDA_FLAGS_EXT:      hex("NDA_FLAGS_EXT"),
	link.NDA_NDM_STATE_MASK: {Name: "NDA_NDM_STATE_MASK", Format: fmtNUD},
	link.NDA_NDM_FLAGS_MASK: {Name: "NDA_NDM_FLAGS_MASK", Format: fmtNTF},
}}

// ifa is the top level of an address message (IFA_*, <linux/if_addr.h>).
var ifa = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.IFA_ADDRESS:        {Name: "IFA_ADDRESS", Format: fmtIP},
	uapi.IFA_LOCAL:          {Name: "IFA_LOCAL", Format: fmtIP},
	uapi.IFA_LABEL:          str("IFA_LABEL"),
	uapi.IFA_BROADCAST:      {Name: "IFA_BROADCAST", Format: fmtIP},
	uapi.IFA_ANYCAST:        {Name: "IFA_ANYCAST", Format: fmtIP},
	uapi.IFA_CACHEINFO:      {Name: "IFA_CACHEINFO", Struct: ifaCacheinfo},
	uapi.IFA_MULTICAST:      {Name: "IFA_MULTICAST", Format: fmtIP},
	uapi.IFA_FLAGS:          {Name: "IFA_FLAGS", Format: fmtIFA},
	link.IFA_RT_PRIORITY:    u("IFA_RT_PRIORITY"),
	link.IFA_TARGET_NETNSID: s32("IFA_TARGET_NETNSID"),
	link.IFA_PROTO:          u("IFA_PROTO"),
}}

// ifaCacheinfo is struct ifa_cacheinfo (<linux/if_addr.h>).
var ifaCacheinfo = &annotate.Struct{Name: "ifa_cacheinfo", Fields: []annotate.Field{
	{Name: "ifa_prefered", Size: 4},
	{Name: "ifa_valid", Size: 4},
	{Name: "cstamp", Size: 4},
	{Name: "tstamp", Size: 4},
}}

// Formatters.

type bitName struct {
	bit  uint64
	name string
}

// fmtBits renders a host-order integer as NAME|NAME (0x…), with unnamed
// bits in hex.
func fmtBits(b []byte, names []bitName) string {
	v, ok := annotate.HostUint(b)
	if !ok {
		return annotate.FmtBytes(b)
	}
	if v == 0 {
		return "0"
	}
	var parts []string
	rest := v
	for _, n := range names {
		if v&n.bit != 0 {
			parts = append(parts, n.name)
			rest &^= n.bit
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", rest))
	}
	return fmt.Sprintf("%s (%#x)", strings.Join(parts, "|"), v)
}

var iffNames = []bitName{
	{uapi.IFF_UP, "IFF_UP"}, {uapi.IFF_BROADCAST, "IFF_BROADCAST"}, {uapi.IFF_DEBUG, "IFF_DEBUG"},
	{uapi.IFF_LOOPBACK, "IFF_LOOPBACK"}, {uapi.IFF_POINTOPOINT, "IFF_POINTOPOINT"},
	{uapi.IFF_NOTRAILERS, "IFF_NOTRAILERS"}, {uapi.IFF_RUNNING, "IFF_RUNNING"}, {uapi.IFF_NOARP, "IFF_NOARP"},
	{uapi.IFF_PROMISC, "IFF_PROMISC"}, {uapi.IFF_ALLMULTI, "IFF_ALLMULTI"}, {uapi.IFF_MASTER, "IFF_MASTER"},
	{uapi.IFF_SLAVE, "IFF_SLAVE"}, {uapi.IFF_MULTICAST, "IFF_MULTICAST"}, {uapi.IFF_PORTSEL, "IFF_PORTSEL"},
	{uapi.IFF_AUTOMEDIA, "IFF_AUTOMEDIA"}, {uapi.IFF_DYNAMIC, "IFF_DYNAMIC"}, {uapi.IFF_LOWER_UP, "IFF_LOWER_UP"},
	{uapi.IFF_DORMANT, "IFF_DORMANT"}, {uapi.IFF_ECHO, "IFF_ECHO"},
}

var nudNames = []bitName{
	{uapi.NUD_INCOMPLETE, "NUD_INCOMPLETE"}, {uapi.NUD_REACHABLE, "NUD_REACHABLE"}, {uapi.NUD_STALE, "NUD_STALE"},
	{uapi.NUD_DELAY, "NUD_DELAY"}, {uapi.NUD_PROBE, "NUD_PROBE"}, {uapi.NUD_FAILED, "NUD_FAILED"},
	{uapi.NUD_NOARP, "NUD_NOARP"}, {uapi.NUD_PERMANENT, "NUD_PERMANENT"},
}

var ntfNames = []bitName{
	{uapi.NTF_USE, "NTF_USE"}, {uapi.NTF_SELF, "NTF_SELF"}, {uapi.NTF_MASTER, "NTF_MASTER"},
	{uapi.NTF_PROXY, "NTF_PROXY"}, {uapi.NTF_EXT_LEARNED, "NTF_EXT_LEARNED"},
	{uapi.NTF_OFFLOADED, "NTF_OFFLOADED"}, {link.NTF_STICKY, "NTF_STICKY"}, {uapi.NTF_ROUTER, "NTF_ROUTER"},
}

var extMaskNames = []bitName{
	{link.RTEXT_FILTER_VF, "RTEXT_FILTER_VF"}, {link.RTEXT_FILTER_BRVLAN, "RTEXT_FILTER_BRVLAN"},
	{link.RTEXT_FILTER_BRVLAN_COMPRESSED, "RTEXT_FILTER_BRVLAN_COMPRESSED"},
	{link.RTEXT_FILTER_SKIP_STATS, "RTEXT_FILTER_SKIP_STATS"},
}

var ifaNames = []bitName{
	{uapi.IFA_F_SECONDARY, "IFA_F_SECONDARY"}, {uapi.IFA_F_NODAD, "IFA_F_NODAD"},
	{uapi.IFA_F_OPTIMISTIC, "IFA_F_OPTIMISTIC"}, {uapi.IFA_F_DADFAILED, "IFA_F_DADFAILED"},
	{uapi.IFA_F_HOMEADDRESS, "IFA_F_HOMEADDRESS"}, {uapi.IFA_F_DEPRECATED, "IFA_F_DEPRECATED"},
	{uapi.IFA_F_TENTATIVE, "IFA_F_TENTATIVE"}, {uapi.IFA_F_PERMANENT, "IFA_F_PERMANENT"},
	{uapi.IFA_F_MANAGETEMPADDR, "IFA_F_MANAGETEMPADDR"}, {uapi.IFA_F_NOPREFIXROUTE, "IFA_F_NOPREFIXROUTE"},
	{uapi.IFA_F_MCAUTOJOIN, "IFA_F_MCAUTOJOIN"}, {uapi.IFA_F_STABLE_PRIVACY, "IFA_F_STABLE_PRIVACY"},
}

func fmtIFF(b []byte) string     { return fmtBits(b, iffNames) }
func fmtIFA(b []byte) string     { return fmtBits(b, ifaNames) }
func fmtNUD(b []byte) string     { return fmtBits(b, nudNames) }
func fmtNTF(b []byte) string     { return fmtBits(b, ntfNames) }
func fmtExtMask(b []byte) string { return fmtBits(b, extMaskNames) }

func fmtFamily(b []byte) string {
	v, _ := annotate.HostUint(b)
	switch v {
	case uapi.AF_UNSPEC:
		return "AF_UNSPEC (0)"
	case uapi.AF_INET:
		return "AF_INET (2)"
	case uapi.AF_BRIDGE:
		return "AF_BRIDGE (7)"
	case uapi.AF_INET6:
		return "AF_INET6 (10)"
	case uapi.AF_PACKET:
		return "AF_PACKET (17)"
	}
	return annotate.FmtUint(b)
}

func fmtARPHRD(b []byte) string {
	v, _ := annotate.HostUint(b)
	switch v {
	case uapi.ARPHRD_ETHER:
		return "ARPHRD_ETHER (1)"
	case uapi.ARPHRD_LOOPBACK:
		return "ARPHRD_LOOPBACK (772)"
	case uapi.ARPHRD_NONE:
		return "ARPHRD_NONE (65534)"
	}
	return annotate.FmtUint(b)
}

func fmtOperState(b []byte) string {
	v, ok := annotate.HostUint(b)
	if !ok || v > link.IF_OPER_UP {
		return annotate.FmtUint(b)
	}
	return fmt.Sprintf("IF_OPER_%s (%d)", link.OperState(v), v)
}

func fmtMacvlanMode(b []byte) string {
	v, ok := annotate.HostUint(b)
	name := link.MacvlanMode(v).String()
	if _, err := link.ParseMacvlanMode(name); !ok || err != nil {
		return annotate.FmtUint(b)
	}
	return fmt.Sprintf("MACVLAN_MODE_%s (%d)", strings.ToUpper(name), v)
}

func fmtAddrGenMode(b []byte) string {
	v, ok := annotate.HostUint(b)
	names := []string{"EUI64", "NONE", "STABLE_PRIVACY", "RANDOM"}
	if !ok || v >= uint64(len(names)) {
		return annotate.FmtUint(b)
	}
	return fmt.Sprintf("IN6_ADDR_GEN_MODE_%s (%d)", names[v], v)
}

// fmtIP renders a 4- or 16-byte address.
func fmtIP(b []byte) string {
	if a, ok := netip.AddrFromSlice(b); ok {
		return a.String()
	}
	return annotate.FmtBytes(b)
}

func fmtScope(b []byte) string {
	v, _ := annotate.HostUint(b)
	switch v {
	case uapi.RT_SCOPE_UNIVERSE:
		return "RT_SCOPE_UNIVERSE (0)"
	case uapi.RT_SCOPE_SITE:
		return "RT_SCOPE_SITE (200)"
	case uapi.RT_SCOPE_LINK:
		return "RT_SCOPE_LINK (253)"
	case uapi.RT_SCOPE_HOST:
		return "RT_SCOPE_HOST (254)"
	case uapi.RT_SCOPE_NOWHERE:
		return "RT_SCOPE_NOWHERE (255)"
	}
	return annotate.FmtUint(b)
}

// tunData is a tun device's IFLA_INFO_DATA (IFLA_TUN_*).
var tunData = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.IFLA_TUN_OWNER:               u("IFLA_TUN_OWNER"),
	uapi.IFLA_TUN_GROUP:               u("IFLA_TUN_GROUP"),
	uapi.IFLA_TUN_TYPE:                u("IFLA_TUN_TYPE"),
	uapi.IFLA_TUN_PI:                  u("IFLA_TUN_PI"),
	uapi.IFLA_TUN_VNET_HDR:            u("IFLA_TUN_VNET_HDR"),
	uapi.IFLA_TUN_PERSIST:             u("IFLA_TUN_PERSIST"),
	uapi.IFLA_TUN_MULTI_QUEUE:         u("IFLA_TUN_MULTI_QUEUE"),
	uapi.IFLA_TUN_NUM_QUEUES:          u("IFLA_TUN_NUM_QUEUES"),
	uapi.IFLA_TUN_NUM_DISABLED_QUEUES: u("IFLA_TUN_NUM_DISABLED_QUEUES"),
}}
