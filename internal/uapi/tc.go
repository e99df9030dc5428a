package uapi

// Traffic-control attributes, encoded and decoded by package tc.

// Top-level tc attributes, from <linux/rtnetlink.h> (enum TCA_*).
const (
	TCA_UNSPEC         = 0
	TCA_KIND           = 1
	TCA_OPTIONS        = 2
	TCA_STATS          = 3
	TCA_XSTATS         = 4
	TCA_RATE           = 5
	TCA_FCNT           = 6
	TCA_STATS2         = 7
	TCA_STAB           = 8
	TCA_PAD            = 9
	TCA_DUMP_INVISIBLE = 10
	TCA_CHAIN          = 11
	TCA_HW_OFFLOAD     = 12
	TCA_INGRESS_BLOCK  = 13
	TCA_EGRESS_BLOCK   = 14
)

// Statistics attributes inside TCA_STATS2 and TCA_ACT_STATS, from
// <linux/gen_stats.h>.
const (
	TCA_STATS_BASIC      = 1
	TCA_STATS_RATE_EST   = 2
	TCA_STATS_QUEUE      = 3
	TCA_STATS_APP        = 4
	TCA_STATS_RATE_EST64 = 5
	TCA_STATS_PAD        = 6
	TCA_STATS_BASIC_HW   = 7
	TCA_STATS_PKT64      = 8
)

// Action attributes, from <linux/pkt_cls.h> (enum TCA_ACT_*).
const (
	TCA_ACT_UNSPEC        = 0
	TCA_ACT_KIND          = 1
	TCA_ACT_OPTIONS       = 2
	TCA_ACT_INDEX         = 3
	TCA_ACT_STATS         = 4
	TCA_ACT_PAD           = 5
	TCA_ACT_COOKIE        = 6
	TCA_ACT_FLAGS         = 7
	TCA_ACT_HW_STATS      = 8
	TCA_ACT_USED_HW_STATS = 9
	TCA_ACT_IN_HW_COUNT   = 10
)

// Mirred attributes, from <linux/tc_act/tc_mirred.h>.
const (
	TCA_MIRRED_UNSPEC  = 0
	TCA_MIRRED_TM      = 1
	TCA_MIRRED_PARMS   = 2
	TCA_MIRRED_PAD     = 3
	TCA_MIRRED_BLOCKID = 4
)

// U32 attributes, from <linux/pkt_cls.h> (enum TCA_U32_*).
const (
	TCA_U32_UNSPEC  = 0
	TCA_U32_CLASSID = 1
	TCA_U32_HASH    = 2
	TCA_U32_LINK    = 3
	TCA_U32_DIVISOR = 4
	TCA_U32_SEL     = 5
	TCA_U32_POLICE  = 6
	TCA_U32_ACT     = 7
	TCA_U32_INDEV   = 8
	TCA_U32_PCNT    = 9
	TCA_U32_MARK    = 10
	TCA_U32_FLAGS   = 11
	TCA_U32_PAD     = 12
)

// Handle masks, from <linux/pkt_sched.h>.
const (
	TC_H_MAJ_MASK = 0xffff0000
	TC_H_MIN_MASK = 0x0000ffff
)
