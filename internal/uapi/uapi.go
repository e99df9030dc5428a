// Values from golang.org/x/sys/unix (GOOS=linux); uapi_linux_test.go checks each.

package uapi

// <linux/socket.h>: address families.
const (
	AF_BRIDGE = 7
	AF_INET   = 2
	AF_INET6  = 10
	AF_MCTP   = 45
	AF_MPLS   = 28
	AF_PACKET = 17
	AF_UNSPEC = 0
)

// <linux/if_arp.h>: ARP hardware types (ifi_type).
const (
	ARPHRD_ETHER    = 1
	ARPHRD_LOOPBACK = 772
	ARPHRD_NONE     = 65534
)

// <linux/if.h>: interface name size and device flags (ifi_flags).
const (
	IFF_ALLMULTI    = 0x200
	IFF_AUTOMEDIA   = 0x4000
	IFF_BROADCAST   = 0x2
	IFF_DEBUG       = 0x4
	IFF_DORMANT     = 0x20000
	IFF_DYNAMIC     = 0x8000
	IFF_ECHO        = 0x40000
	IFF_LOOPBACK    = 0x8
	IFF_LOWER_UP    = 0x10000
	IFF_MASTER      = 0x400
	IFF_MULTICAST   = 0x1000
	IFF_NOARP       = 0x80
	IFF_NOTRAILERS  = 0x20
	IFF_POINTOPOINT = 0x10
	IFF_PORTSEL     = 0x2000
	IFF_PROMISC     = 0x100
	IFF_RUNNING     = 0x40
	IFF_SLAVE       = 0x800
	IFF_UP          = 0x1
	IFNAMSIZ        = 16
)

// <linux/if_tun.h>: tun device types.
const (
	IFF_TAP = 2
	IFF_TUN = 1
)

// <linux/if_link.h>: link attributes.
const (
	IFLA_ADDRESS                       = 1
	IFLA_AF_SPEC                       = 26
	IFLA_ALLMULTI                      = 61
	IFLA_ALT_IFNAME                    = 53
	IFLA_BROADCAST                     = 2
	IFLA_BRPORT_BACKUP_NHID            = 44
	IFLA_BRPORT_BACKUP_PORT            = 34
	IFLA_BRPORT_BCAST_FLOOD            = 30
	IFLA_BRPORT_BRIDGE_ID              = 14
	IFLA_BRPORT_CONFIG_PENDING         = 20
	IFLA_BRPORT_COST                   = 3
	IFLA_BRPORT_DESIGNATED_COST        = 16
	IFLA_BRPORT_DESIGNATED_PORT        = 15
	IFLA_BRPORT_FAST_LEAVE             = 7
	IFLA_BRPORT_FLUSH                  = 24
	IFLA_BRPORT_FORWARD_DELAY_TIMER    = 22
	IFLA_BRPORT_GROUP_FWD_MASK         = 31
	IFLA_BRPORT_GUARD                  = 5
	IFLA_BRPORT_HOLD_TIMER             = 23
	IFLA_BRPORT_ID                     = 17
	IFLA_BRPORT_ISOLATED               = 33
	IFLA_BRPORT_LEARNING               = 8
	IFLA_BRPORT_LEARNING_SYNC          = 11
	IFLA_BRPORT_LOCKED                 = 39
	IFLA_BRPORT_MAB                    = 40
	IFLA_BRPORT_MCAST_EHT_HOSTS_CNT    = 38
	IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT  = 37
	IFLA_BRPORT_MCAST_FLOOD            = 27
	IFLA_BRPORT_MCAST_MAX_GROUPS       = 42
	IFLA_BRPORT_MCAST_N_GROUPS         = 41
	IFLA_BRPORT_MCAST_TO_UCAST         = 28
	IFLA_BRPORT_MESSAGE_AGE_TIMER      = 21
	IFLA_BRPORT_MODE                   = 4
	IFLA_BRPORT_MRP_IN_OPEN            = 36
	IFLA_BRPORT_MRP_RING_OPEN          = 35
	IFLA_BRPORT_MULTICAST_ROUTER       = 25
	IFLA_BRPORT_NEIGH_SUPPRESS         = 32
	IFLA_BRPORT_NEIGH_VLAN_SUPPRESS    = 43
	IFLA_BRPORT_NO                     = 18
	IFLA_BRPORT_PAD                    = 26
	IFLA_BRPORT_PRIORITY               = 2
	IFLA_BRPORT_PROTECT                = 6
	IFLA_BRPORT_PROXYARP               = 10
	IFLA_BRPORT_PROXYARP_WIFI          = 12
	IFLA_BRPORT_ROOT_ID                = 13
	IFLA_BRPORT_STATE                  = 1
	IFLA_BRPORT_TOPOLOGY_CHANGE_ACK    = 19
	IFLA_BRPORT_UNICAST_FLOOD          = 9
	IFLA_BRPORT_VLAN_TUNNEL            = 29
	IFLA_BR_AGEING_TIME                = 4
	IFLA_BR_BRIDGE_ID                  = 11
	IFLA_BR_FDB_FLUSH                  = 21
	IFLA_BR_FDB_MAX_LEARNED            = 49
	IFLA_BR_FDB_N_LEARNED              = 48
	IFLA_BR_FORWARD_DELAY              = 1
	IFLA_BR_GC_TIMER                   = 19
	IFLA_BR_GROUP_ADDR                 = 20
	IFLA_BR_GROUP_FWD_MASK             = 9
	IFLA_BR_HELLO_TIME                 = 2
	IFLA_BR_HELLO_TIMER                = 16
	IFLA_BR_MAX_AGE                    = 3
	IFLA_BR_MCAST_HASH_ELASTICITY      = 26
	IFLA_BR_MCAST_HASH_MAX             = 27
	IFLA_BR_MCAST_IGMP_VERSION         = 43
	IFLA_BR_MCAST_LAST_MEMBER_CNT      = 28
	IFLA_BR_MCAST_LAST_MEMBER_INTVL    = 30
	IFLA_BR_MCAST_MEMBERSHIP_INTVL     = 31
	IFLA_BR_MCAST_MLD_VERSION          = 44
	IFLA_BR_MCAST_QUERIER              = 25
	IFLA_BR_MCAST_QUERIER_INTVL        = 32
	IFLA_BR_MCAST_QUERIER_STATE        = 47
	IFLA_BR_MCAST_QUERY_INTVL          = 33
	IFLA_BR_MCAST_QUERY_RESPONSE_INTVL = 34
	IFLA_BR_MCAST_QUERY_USE_IFADDR     = 24
	IFLA_BR_MCAST_ROUTER               = 22
	IFLA_BR_MCAST_SNOOPING             = 23
	IFLA_BR_MCAST_STARTUP_QUERY_CNT    = 29
	IFLA_BR_MCAST_STARTUP_QUERY_INTVL  = 35
	IFLA_BR_MCAST_STATS_ENABLED        = 42
	IFLA_BR_MULTI_BOOLOPT              = 46
	IFLA_BR_NF_CALL_ARPTABLES          = 38
	IFLA_BR_NF_CALL_IP6TABLES          = 37
	IFLA_BR_NF_CALL_IPTABLES           = 36
	IFLA_BR_PAD                        = 40
	IFLA_BR_PRIORITY                   = 6
	IFLA_BR_ROOT_ID                    = 10
	IFLA_BR_ROOT_PATH_COST             = 13
	IFLA_BR_ROOT_PORT                  = 12
	IFLA_BR_STP_STATE                  = 5
	IFLA_BR_TCN_TIMER                  = 17
	IFLA_BR_TOPOLOGY_CHANGE            = 14
	IFLA_BR_TOPOLOGY_CHANGE_DETECTED   = 15
	IFLA_BR_TOPOLOGY_CHANGE_TIMER      = 18
	IFLA_BR_VLAN_DEFAULT_PVID          = 39
	IFLA_BR_VLAN_FILTERING             = 7
	IFLA_BR_VLAN_PROTOCOL              = 8
	IFLA_BR_VLAN_STATS_ENABLED         = 41
	IFLA_BR_VLAN_STATS_PER_PORT        = 45
	IFLA_CARRIER                       = 33
	IFLA_CARRIER_CHANGES               = 35
	IFLA_CARRIER_DOWN_COUNT            = 48
	IFLA_CARRIER_UP_COUNT              = 47
	IFLA_COST                          = 8
	IFLA_DEVLINK_PORT                  = 62
	IFLA_DPLL_PIN                      = 65
	IFLA_EVENT                         = 44
	IFLA_EXT_MASK                      = 29
	IFLA_GROUP                         = 27
	IFLA_GRO_IPV4_MAX_SIZE             = 64
	IFLA_GRO_MAX_SIZE                  = 58
	IFLA_GSO_IPV4_MAX_SIZE             = 63
	IFLA_GSO_MAX_SEGS                  = 40
	IFLA_GSO_MAX_SIZE                  = 41
	IFLA_IFALIAS                       = 20
	IFLA_IFNAME                        = 3
	IFLA_INET6_ADDR_GEN_MODE           = 8
	IFLA_INET6_CACHEINFO               = 5
	IFLA_INET6_CONF                    = 2
	IFLA_INET6_FLAGS                   = 1
	IFLA_INET6_MCAST                   = 4
	IFLA_INET6_RA_MTU                  = 9
	IFLA_INET6_STATS                   = 3
	IFLA_INET6_TOKEN                   = 7
	IFLA_INFO_DATA                     = 2
	IFLA_INFO_KIND                     = 1
	IFLA_INFO_SLAVE_DATA               = 5
	IFLA_INFO_SLAVE_KIND               = 4
	IFLA_INFO_XSTATS                   = 3
	IFLA_LINK                          = 5
	IFLA_LINKINFO                      = 18
	IFLA_LINKMODE                      = 17
	IFLA_LINK_NETNSID                  = 37
	IFLA_MACVLAN_BC_CUTOFF             = 9
	IFLA_MACVLAN_BC_QUEUE_LEN          = 7
	IFLA_MACVLAN_BC_QUEUE_LEN_USED     = 8
	IFLA_MACVLAN_FLAGS                 = 2
	IFLA_MACVLAN_MACADDR               = 4
	IFLA_MACVLAN_MACADDR_COUNT         = 6
	IFLA_MACVLAN_MACADDR_DATA          = 5
	IFLA_MACVLAN_MACADDR_MODE          = 3
	IFLA_MACVLAN_MODE                  = 1
	IFLA_MAP                           = 14
	IFLA_MASTER                        = 10
	IFLA_MAX_MTU                       = 51
	IFLA_MIN_MTU                       = 50
	IFLA_MTU                           = 4
	IFLA_NET_NS_FD                     = 28
	IFLA_NET_NS_PID                    = 19
	IFLA_NEW_IFINDEX                   = 49
	IFLA_NEW_NETNSID                   = 45
	IFLA_NUM_RX_QUEUES                 = 32
	IFLA_NUM_TX_QUEUES                 = 31
	IFLA_NUM_VF                        = 21
	IFLA_OPERSTATE                     = 16
	IFLA_PAD                           = 42
	IFLA_PARENT_DEV_BUS_NAME           = 57
	IFLA_PARENT_DEV_NAME               = 56
	IFLA_PERM_ADDRESS                  = 54
	IFLA_PHYS_PORT_ID                  = 34
	IFLA_PHYS_PORT_NAME                = 38
	IFLA_PHYS_SWITCH_ID                = 36
	IFLA_PORT_SELF                     = 25
	IFLA_PRIORITY                      = 9
	IFLA_PROMISCUITY                   = 30
	IFLA_PROP_LIST                     = 52
	IFLA_PROTINFO                      = 12
	IFLA_PROTO_DOWN                    = 39
	IFLA_PROTO_DOWN_REASON             = 55
	IFLA_QDISC                         = 6
	IFLA_STATS                         = 7
	IFLA_STATS64                       = 23
	IFLA_TARGET_NETNSID                = 46
	IFLA_TSO_MAX_SEGS                  = 60
	IFLA_TSO_MAX_SIZE                  = 59
	IFLA_TUN_GROUP                     = 2
	IFLA_TUN_MULTI_QUEUE               = 7
	IFLA_TUN_NUM_DISABLED_QUEUES       = 9
	IFLA_TUN_NUM_QUEUES                = 8
	IFLA_TUN_OWNER                     = 1
	IFLA_TUN_PERSIST                   = 6
	IFLA_TUN_PI                        = 4
	IFLA_TUN_TYPE                      = 3
	IFLA_TUN_VNET_HDR                  = 5
	IFLA_TXQLEN                        = 13
	IFLA_VFINFO_LIST                   = 22
	IFLA_VF_PORTS                      = 24
	IFLA_WEIGHT                        = 15
	IFLA_WIRELESS                      = 11
	IFLA_XDP                           = 43
)

// <linux/if_addr.h>: address attributes and flags.
const (
	IFA_ADDRESS          = 1
	IFA_ANYCAST          = 5
	IFA_BROADCAST        = 4
	IFA_CACHEINFO        = 6
	IFA_FLAGS            = 8
	IFA_F_DADFAILED      = 0x8
	IFA_F_DEPRECATED     = 0x20
	IFA_F_HOMEADDRESS    = 0x10
	IFA_F_MANAGETEMPADDR = 0x100
	IFA_F_MCAUTOJOIN     = 0x400
	IFA_F_NODAD          = 0x2
	IFA_F_NOPREFIXROUTE  = 0x200
	IFA_F_OPTIMISTIC     = 0x4
	IFA_F_PERMANENT      = 0x80
	IFA_F_SECONDARY      = 0x1
	IFA_F_STABLE_PRIVACY = 0x800
	IFA_F_TENTATIVE      = 0x40
	IFA_LABEL            = 3
	IFA_LOCAL            = 2
	IFA_MULTICAST        = 7
)

// <linux/neighbour.h>: neighbour (fdb) attributes, flags and states.
const (
	NDA_CACHEINFO    = 3
	NDA_DST          = 1
	NDA_IFINDEX      = 8
	NDA_LINK_NETNSID = 10
	NDA_LLADDR       = 2
	NDA_MASTER       = 9
	NDA_PORT         = 6
	NDA_PROBES       = 4
	NDA_SRC_VNI      = 11
	NDA_VLAN         = 5
	NDA_VNI          = 7
	NTF_EXT_LEARNED  = 0x10
	NTF_MASTER       = 0x4
	NTF_OFFLOADED    = 0x20
	NTF_PROXY        = 0x8
	NTF_ROUTER       = 0x80
	NTF_SELF         = 0x2
	NTF_USE          = 0x1
	NUD_DELAY        = 0x8
	NUD_FAILED       = 0x20
	NUD_INCOMPLETE   = 0x1
	NUD_NOARP        = 0x40
	NUD_PERMANENT    = 0x80
	NUD_PROBE        = 0x10
	NUD_REACHABLE    = 0x2
	NUD_STALE        = 0x4
)

// <linux/rtnetlink.h>: message types and route scopes.
const (
	RTM_DELADDR       = 21
	RTM_DELLINK       = 17
	RTM_DELNEIGH      = 29
	RTM_DELQDISC      = 37
	RTM_DELTFILTER    = 45
	RTM_GETADDR       = 22
	RTM_GETLINK       = 18
	RTM_GETNEIGH      = 30
	RTM_GETQDISC      = 38
	RTM_GETTFILTER    = 46
	RTM_NEWADDR       = 20
	RTM_NEWLINK       = 16
	RTM_NEWNEIGH      = 28
	RTM_NEWQDISC      = 36
	RTM_NEWTFILTER    = 44
	RTM_SETLINK       = 19
	RT_SCOPE_HOST     = 254
	RT_SCOPE_LINK     = 253
	RT_SCOPE_NOWHERE  = 255
	RT_SCOPE_SITE     = 200
	RT_SCOPE_UNIVERSE = 0
	// RTNLGRP_LINK is the multicast group of link notifications
	// (RTM_NEWLINK/RTM_DELLINK), enum rtnetlink_groups.
	RTNLGRP_LINK = 1
	// RTNLGRP_TC is the multicast group of qdisc, class and filter
	// notifications (RTM_NEWQDISC … RTM_DELTFILTER).
	RTNLGRP_TC = 4
)
