// Package tcschema tells nl/annotate how to read tc messages (qdiscs and
// filters, with u32 and mirred options and action tables), for `tcwire
// explain` and the golden tests' diffs. It is apart from package tc so
// that a program that only sends tc requests links none of the
// annotated-dump code. Pure: any GOOS.
package tcschema

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/nl/annotate"
	"github.com/tcwire/tcwire/tc"
)

// Schema lets annotate.Lines explain tc messages field by field: the tcmsg
// header, TCA_* attributes, u32 and mirred options, action tables.
var Schema annotate.Schema

func init() {
	Schema = annotate.Schema{}
	qdisc, filter := tcmsgStruct(fmtHandle), tcmsgStruct(fmtFilterHandle)
	for t, spec := range map[nl.HeaderType]annotate.MessageSpec{
		uapi.RTM_NEWQDISC:   {Name: "RTM_NEWQDISC", Header: qdisc},
		uapi.RTM_DELQDISC:   {Name: "RTM_DELQDISC", Header: qdisc},
		uapi.RTM_GETQDISC:   {Name: "RTM_GETQDISC", Header: qdisc},
		uapi.RTM_NEWTFILTER: {Name: "RTM_NEWTFILTER", Header: filter},
		uapi.RTM_DELTFILTER: {Name: "RTM_DELTFILTER", Header: filter},
		uapi.RTM_GETTFILTER: {Name: "RTM_GETTFILTER", Header: filter},
	} {
		spec.Attrs = tcaNest
		Schema[t] = &spec
	}
}

func fmtHandle(b []byte) string {
	if len(b) != 4 {
		return annotate.FmtBytes(b)
	}
	return tc.Handle(nl.Uint32(b)).String()
}

// fmtInfo explains tcm_info: a filter's pref and network-order protocol.
func fmtInfo(b []byte) string {
	if len(b) != 4 {
		return annotate.FmtBytes(b)
	}
	m := tc.Tcmsg{Info: nl.Uint32(b)}
	if m.Info == 0 {
		return "0"
	}
	pref := fmt.Sprint(m.Pref())
	if m.Pref() == 0 {
		pref = "0 (the kernel chooses)"
	}
	return fmt.Sprintf("pref %s, protocol %s", pref, m.Protocol())
}

// tcmsgStruct is struct tcmsg; a qdisc's handle reads as MAJ:MIN, a
// filter's as the classifier's own (u32: htid:hash:node).
func tcmsgStruct(handle func([]byte) string) *annotate.Struct {
	return &annotate.Struct{Name: "tcmsg", Fields: []annotate.Field{
		{Name: "tcm_family", Size: 1},
		{Name: "tcm__pad1", Size: 1},
		{Name: "tcm__pad2", Size: 2},
		{Name: "tcm_ifindex", Size: 4, Format: annotate.FmtInt},
		{Name: "tcm_handle", Size: 4, Format: handle},
		{Name: "tcm_parent", Size: 4, Format: fmtHandle},
		{Name: "tcm_info", Size: 4, Format: fmtInfo},
	}}
}

func fmtFilterHandle(b []byte) string {
	if len(b) != 4 {
		return annotate.FmtBytes(b)
	}
	v := nl.Uint32(b)
	if v == 0 {
		return "0 (the classifier chooses)"
	}
	return fmt.Sprintf("0x%08x (u32 %s)", v, tc.U32HandleString(v))
}

var tcaNest = &annotate.Nest{
	Kind: uapi.TCA_KIND,
	Attrs: map[uint16]*annotate.AttrSpec{
		uapi.TCA_KIND:           {Name: "TCA_KIND", Format: annotate.FmtString},
		uapi.TCA_OPTIONS:        {Name: "TCA_OPTIONS", Options: map[string]*annotate.Nest{tc.KindU32: u32Nest}},
		uapi.TCA_STATS:          {Name: "TCA_STATS"},
		uapi.TCA_XSTATS:         {Name: "TCA_XSTATS"},
		uapi.TCA_STATS2:         {Name: "TCA_STATS2", Nest: statsNest},
		uapi.TCA_CHAIN:          {Name: "TCA_CHAIN", Format: annotate.FmtUint},
		uapi.TCA_HW_OFFLOAD:     {Name: "TCA_HW_OFFLOAD", Format: annotate.FmtUint},
		uapi.TCA_INGRESS_BLOCK:  {Name: "TCA_INGRESS_BLOCK", Format: annotate.FmtUint},
		uapi.TCA_EGRESS_BLOCK:   {Name: "TCA_EGRESS_BLOCK", Format: annotate.FmtUint},
		uapi.TCA_DUMP_INVISIBLE: {Name: "TCA_DUMP_INVISIBLE"},
	},
}

var statsNest = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.TCA_STATS_BASIC:      {Name: "TCA_STATS_BASIC", Struct: gnetStatsBasic},
	uapi.TCA_STATS_BASIC_HW:   {Name: "TCA_STATS_BASIC_HW", Struct: gnetStatsBasic},
	uapi.TCA_STATS_QUEUE:      {Name: "TCA_STATS_QUEUE", Struct: gnetStatsQueue},
	uapi.TCA_STATS_RATE_EST:   {Name: "TCA_STATS_RATE_EST"},
	uapi.TCA_STATS_RATE_EST64: {Name: "TCA_STATS_RATE_EST64"},
	uapi.TCA_STATS_APP:        {Name: "TCA_STATS_APP"},
	uapi.TCA_STATS_PAD:        {Name: "TCA_STATS_PAD"},
	uapi.TCA_STATS_PKT64:      {Name: "TCA_STATS_PKT64", Format: annotate.FmtUint},
}}

// struct gnet_stats_basic and gnet_stats_queue, <linux/gen_stats.h>.
var gnetStatsBasic = &annotate.Struct{Name: "gnet_stats_basic", Fields: []annotate.Field{
	{Name: "bytes", Size: 8}, {Name: "packets", Size: 4}, {Name: "pad", Size: 4},
}}

var gnetStatsQueue = &annotate.Struct{Name: "gnet_stats_queue", Fields: []annotate.Field{
	{Name: "qlen", Size: 4}, {Name: "backlog", Size: 4}, {Name: "drops", Size: 4},
	{Name: "requeues", Size: 4}, {Name: "overlimits", Size: 4},
}}

var u32Nest = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.TCA_U32_CLASSID: {Name: "TCA_U32_CLASSID", Format: fmtHandle},
	uapi.TCA_U32_HASH:    {Name: "TCA_U32_HASH", Format: annotate.FmtHex},
	uapi.TCA_U32_LINK:    {Name: "TCA_U32_LINK", Format: annotate.FmtHex},
	uapi.TCA_U32_DIVISOR: {Name: "TCA_U32_DIVISOR", Format: annotate.FmtUint},
	uapi.TCA_U32_SEL:     {Name: "TCA_U32_SEL", Struct: u32SelStruct, Repeat: u32KeyStruct},
	uapi.TCA_U32_ACT:     {Name: "TCA_U32_ACT", Nest: actTableNest},
	uapi.TCA_U32_INDEV:   {Name: "TCA_U32_INDEV", Format: annotate.FmtString},
	uapi.TCA_U32_PCNT:    {Name: "TCA_U32_PCNT"},
	uapi.TCA_U32_MARK:    {Name: "TCA_U32_MARK"},
	uapi.TCA_U32_FLAGS:   {Name: "TCA_U32_FLAGS", Format: annotate.FmtHex},
	uapi.TCA_U32_PAD:     {Name: "TCA_U32_PAD"},
}}

var u32SelStruct = &annotate.Struct{Name: "tc_u32_sel", Fields: []annotate.Field{
	{Name: "flags", Size: 1, Format: fmtSelFlags},
	{Name: "offshift", Size: 1},
	{Name: "nkeys", Size: 1},
	{Name: "pad", Size: 1},
	{Name: "offmask", Size: 2, Format: annotate.FmtBE},
	{Name: "off", Size: 2},
	{Name: "offoff", Size: 2, Format: annotate.FmtInt},
	{Name: "hoff", Size: 2, Format: annotate.FmtInt},
	{Name: "hmask", Size: 4, Format: annotate.FmtBE},
}}

var u32KeyStruct = &annotate.Struct{Name: "tc_u32_key", Fields: []annotate.Field{
	{Name: "mask", Size: 4, Format: annotate.FmtBE},
	{Name: "val", Size: 4, Format: annotate.FmtBE},
	{Name: "off", Size: 4, Format: annotate.FmtInt},
	{Name: "offmask", Size: 4, Format: annotate.FmtInt},
}}

func fmtSelFlags(b []byte) string {
	if b[0]&tc.TC_U32_TERMINAL != 0 {
		return fmt.Sprintf("0x%02x (TC_U32_TERMINAL)", b[0])
	}
	return fmt.Sprintf("0x%02x", b[0])
}

// actTableNest: every entry's type is the action's order.
var actTableNest = &annotate.Nest{Each: &annotate.AttrSpec{Name: "action (type = order)", Nest: actNest}}

var actNest = &annotate.Nest{
	Kind: uapi.TCA_ACT_KIND,
	Attrs: map[uint16]*annotate.AttrSpec{
		uapi.TCA_ACT_KIND:          {Name: "TCA_ACT_KIND", Format: annotate.FmtString},
		uapi.TCA_ACT_OPTIONS:       {Name: "TCA_ACT_OPTIONS", Options: map[string]*annotate.Nest{tc.KindMirred: mirredNest}},
		uapi.TCA_ACT_INDEX:         {Name: "TCA_ACT_INDEX", Format: annotate.FmtUint},
		uapi.TCA_ACT_STATS:         {Name: "TCA_ACT_STATS", Nest: statsNest},
		uapi.TCA_ACT_PAD:           {Name: "TCA_ACT_PAD"},
		uapi.TCA_ACT_COOKIE:        {Name: "TCA_ACT_COOKIE", Format: annotate.FmtBytes},
		uapi.TCA_ACT_FLAGS:         {Name: "TCA_ACT_FLAGS"},
		uapi.TCA_ACT_HW_STATS:      {Name: "TCA_ACT_HW_STATS"},
		uapi.TCA_ACT_USED_HW_STATS: {Name: "TCA_ACT_USED_HW_STATS"},
		uapi.TCA_ACT_IN_HW_COUNT:   {Name: "TCA_ACT_IN_HW_COUNT", Format: annotate.FmtUint},
	},
}

var mirredNest = &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
	uapi.TCA_MIRRED_TM:      {Name: "TCA_MIRRED_TM", Struct: tcfT},
	uapi.TCA_MIRRED_PARMS:   {Name: "TCA_MIRRED_PARMS", Struct: tcMirredStruct},
	uapi.TCA_MIRRED_PAD:     {Name: "TCA_MIRRED_PAD"},
	uapi.TCA_MIRRED_BLOCKID: {Name: "TCA_MIRRED_BLOCKID", Format: annotate.FmtUint},
}}

var tcMirredStruct = &annotate.Struct{Name: "tc_mirred", Fields: []annotate.Field{
	{Name: "index", Size: 4},
	{Name: "capab", Size: 4},
	{Name: "action", Size: 4, Format: func(b []byte) string {
		v := int32(nl.Uint32(b))
		return fmt.Sprintf("%d (%s)", v, actConst[tc.Control(v)])
	}},
	{Name: "refcnt", Size: 4, Format: annotate.FmtInt},
	{Name: "bindcnt", Size: 4, Format: annotate.FmtInt},
	{Name: "eaction", Size: 4, Format: func(b []byte) string {
		v := int32(nl.Uint32(b))
		return fmt.Sprintf("%d (%s)", v, eactionConst[tc.Eaction(v)])
	}},
	{Name: "ifindex", Size: 4},
}}

var eactionConst = map[tc.Eaction]string{
	tc.TCA_EGRESS_REDIR:   "TCA_EGRESS_REDIR",
	tc.TCA_EGRESS_MIRROR:  "TCA_EGRESS_MIRROR",
	tc.TCA_INGRESS_REDIR:  "TCA_INGRESS_REDIR",
	tc.TCA_INGRESS_MIRROR: "TCA_INGRESS_MIRROR",
}

var actConst = map[tc.Control]string{
	tc.TC_ACT_UNSPEC: "TC_ACT_UNSPEC", tc.TC_ACT_OK: "TC_ACT_OK", tc.TC_ACT_RECLASSIFY: "TC_ACT_RECLASSIFY",
	tc.TC_ACT_SHOT: "TC_ACT_SHOT", tc.TC_ACT_PIPE: "TC_ACT_PIPE", tc.TC_ACT_STOLEN: "TC_ACT_STOLEN",
	tc.TC_ACT_QUEUED: "TC_ACT_QUEUED", tc.TC_ACT_REPEAT: "TC_ACT_REPEAT", tc.TC_ACT_REDIRECT: "TC_ACT_REDIRECT",
	tc.TC_ACT_TRAP: "TC_ACT_TRAP",
}

// struct tcf_t, <linux/pkt_cls.h>: jiffies-based timestamps.
var tcfT = &annotate.Struct{Name: "tcf_t", Fields: []annotate.Field{
	{Name: "install", Size: 8}, {Name: "lastuse", Size: 8}, {Name: "expires", Size: 8}, {Name: "firstuse", Size: 8},
}}
