package tc

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/enum"
	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// TC_ACT_COOKIE_MAX_SIZE is the largest action cookie the kernel keeps.
const TC_ACT_COOKIE_MAX_SIZE = 16

// Control is an action control (tc_gen's action): what happens to a frame
// after an action.
type Control int32

// Action controls, from <linux/pkt_cls.h>.
const (
	TC_ACT_UNSPEC     Control = -1
	TC_ACT_OK                 = 0
	TC_ACT_RECLASSIFY         = 1
	TC_ACT_SHOT               = 2
	TC_ACT_PIPE               = 3
	TC_ACT_STOLEN             = 4
	TC_ACT_QUEUED             = 5
	TC_ACT_REPEAT             = 6
	TC_ACT_REDIRECT           = 7
	TC_ACT_TRAP               = 8
)

// controlNames are tc's words for the action controls.
var controlNames = map[Control]string{
	TC_ACT_UNSPEC:     "continue",
	TC_ACT_OK:         "pass",
	TC_ACT_RECLASSIFY: "reclassify",
	TC_ACT_SHOT:       "drop",
	TC_ACT_PIPE:       "pipe",
	TC_ACT_STOLEN:     "stolen",
	TC_ACT_QUEUED:     "queued",
	TC_ACT_REPEAT:     "repeat",
	TC_ACT_REDIRECT:   "redirect",
	TC_ACT_TRAP:       "trap",
}

// String is tc's word for the control ("pipe", "stolen" …).
func (c Control) String() string {
	return enum.Name(controlNames, c, "control %d")
}

// ParseControl reads an action control word as tc takes it. "stolen" is not
// a word tc accepts on the command line; it is accepted here so every
// control String prints reads back.
func ParseControl(s string) (Control, error) {
	if s == "ok" {
		return TC_ACT_OK, nil
	}
	return enum.Parse(controlNames, s, "tc: unknown action control %q")
}

// Action is one entry of an action table. Only mirred is encoded; other
// kinds are decoded with their kind, index and counters.
type Action struct {
	Kind   string
	Mirred *Mirred
	// Cookie is opaque user data the kernel stores with the action (up to
	// TC_ACT_COOKIE_MAX_SIZE bytes).
	Cookie []byte

	// Decoded from dumps only: the index and TCA_ACT_STATS, the counters
	// `tc -s` prints as "Sent BYTES bytes PACKETS pkt (dropped DROPS,
	// overlimits OVERLIMITS …)".
	Index   uint32
	Bytes   uint64
	Packets uint64
	// Drops is gnet_stats_queue.drops. mirred does not count here: on
	// kernel 6.18 it stays 0 when mirred cannot deliver.
	Drops uint64
	// Overlimits is gnet_stats_queue.overlimits, where mirred counts the
	// frames it could not deliver (checked on 6.18): target down, without
	// carrier (a persistent tap no VMM holds open), or deleted. None of
	// them gets anywhere; the ingress qdisc counts those of a target down
	// or without carrier as its own drops, not those of a deleted one.
	Overlimits uint64
	// Control is the action's control (tc_gen's action: what the frame's
	// classification does next), decoded from dumps for the kinds whose
	// parameters tcwire knows (actionParms); nil for the others, and for a
	// gact with a random second control.
	Control *Control
}

// actionParms is, for the actions whose parameters begin with struct
// tc_gen (index, capab, action …), the attribute that holds them: 2 after
// TCA_*_TM for most, 1 where PARMS comes first (<linux/tc_act/*.h>).
var actionParms = map[string]uint16{
	KindMirred: 2, "gact": 2, "skbedit": 2, "vlan": 2, "pedit": 2, "tunnel_key": 2, "skbmod": 2, "sample": 2,
	"nat": 1, "csum": 1, "connmark": 1, "ct": 1,
}

// tcaGactProb is TCA_GACT_PROB: a gact that picks its control at random.
const tcaGactProb = 3

// tcGenLen is sizeof(struct tc_gen) up to its action field.
const tcGenLen = 12

// decodeControl reads the control out of an action's options nest, for the
// kinds actionParms knows.
func decodeControl(kind string, opts []byte) *Control {
	want, ok := actionParms[kind]
	if !ok || opts == nil {
		return nil
	}
	attrs, err := nl.ParseAttrs(opts)
	if err != nil {
		return nil
	}
	var c *Control
	for _, at := range attrs {
		switch {
		case kind == "gact" && at.Type == tcaGactProb:
			return nil
		case at.Type == want && len(at.Data) >= tcGenLen && c == nil:
			v := Control(nl.Uint32(at.Data[8:]))
			c = &v
		}
	}
	return c
}

// encodeActions writes an action table (tcf_action_init's input): one nest
// per action, typed with its order 1…N, neither flagged NLA_F_NESTED, as
// tc's parse_action writes them.
func encodeActions(e *nl.Encoder, acts []Action) {
	for i, a := range acts {
		e.Nest(uint16(i+1), func(e *nl.Encoder) {
			e.String(uapi.TCA_ACT_KIND, a.Kind)
			if a.Mirred != nil {
				e.Nest(uapi.TCA_ACT_OPTIONS|nl.NLA_F_NESTED, a.Mirred.encode)
			}
			if len(a.Cookie) > 0 {
				e.Attr(uapi.TCA_ACT_COOKIE, a.Cookie)
			}
		})
	}
}

// validate reports what the kernel would refuse, naming it.
func (a Action) validate() error {
	if len(a.Cookie) > TC_ACT_COOKIE_MAX_SIZE {
		return fmt.Errorf("tc: action %s: cookie of %d bytes exceeds %d", a.Kind, len(a.Cookie), TC_ACT_COOKIE_MAX_SIZE)
	}
	if a.Kind == KindMirred && a.Mirred == nil {
		return fmt.Errorf("tc: action mirred without parameters")
	}
	if a.Mirred != nil {
		if a.Kind != KindMirred {
			return fmt.Errorf("tc: action %q has mirred parameters", a.Kind)
		}
		return a.Mirred.validate()
	}
	return nil
}

// spec is the action's part of a tc command line.
func (a Action) spec() string {
	s := "action " + a.Kind
	if a.Mirred != nil {
		s += " " + a.Mirred.spec()
	}
	if len(a.Cookie) > 0 {
		s += fmt.Sprintf(" cookie %x", a.Cookie)
	}
	return s
}

// decodeActions reads an action table as dumps return it.
func decodeActions(b []byte) ([]Action, error) {
	entries, err := nl.ParseAttrs(b)
	if err != nil {
		return nil, fmt.Errorf("tc: action table: %w", err)
	}
	acts := make([]Action, 0, len(entries))
	for _, ent := range entries {
		var a Action
		if err := a.UnmarshalBinary(ent.Data); err != nil {
			return nil, fmt.Errorf("tc: action %d: %w", ent.Type, err)
		}
		acts = append(acts, a)
	}
	return acts, nil
}

// UnmarshalBinary decodes one action's attributes (the payload of an action
// table entry).
func (a *Action) UnmarshalBinary(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	*a = Action{}
	var opts []byte
	for _, at := range attrs {
		switch at.Type {
		case uapi.TCA_ACT_KIND:
			a.Kind = at.String()
		case uapi.TCA_ACT_OPTIONS:
			opts = at.Data
		case uapi.TCA_ACT_INDEX:
			if a.Index, err = at.Uint32(); err != nil {
				return err
			}
		case uapi.TCA_ACT_COOKIE:
			a.Cookie = append([]byte(nil), at.Data...)
		case uapi.TCA_ACT_STATS:
			if err := a.decodeStats(at.Data); err != nil {
				return err
			}
		}
	}
	a.Control = decodeControl(a.Kind, opts)
	if a.Kind == KindMirred && opts != nil {
		a.Mirred = new(Mirred)
		if err := a.Mirred.UnmarshalBinary(opts); err != nil {
			return err
		}
		if a.Index == 0 {
			a.Index = a.Mirred.Index
		}
	}
	return nil
}

// gnetStatsQueueLen is sizeof(struct gnet_stats_queue): qlen, backlog,
// drops, requeues, overlimits, all u32 (<linux/gen_stats.h>).
const gnetStatsQueueLen = 20

// decodeStats reads a TCA_ACT_STATS nest (<linux/gen_stats.h>): struct
// gnet_stats_basic in TCA_STATS_BASIC (bytes u64, packets u32), the packet
// count in full in TCA_STATS_PKT64 when the kernel sends it, and struct
// gnet_stats_queue in TCA_STATS_QUEUE.
func (a *Action) decodeStats(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	var pkt64 *uint64
	for _, at := range attrs {
		switch at.Type {
		case uapi.TCA_STATS_BASIC:
			if len(at.Data) < 12 {
				return fmt.Errorf("tc: gnet_stats_basic in %d bytes: %w", len(at.Data), nl.ErrTruncated)
			}
			a.Bytes = nl.Uint64(at.Data)
			a.Packets = uint64(nl.Uint32(at.Data[8:]))
		case uapi.TCA_STATS_PKT64:
			v, err := at.Uint64()
			if err != nil {
				return fmt.Errorf("tc: TCA_STATS_PKT64: %w", err)
			}
			pkt64 = &v
		case uapi.TCA_STATS_QUEUE:
			if len(at.Data) < gnetStatsQueueLen {
				return fmt.Errorf("tc: gnet_stats_queue in %d bytes: %w", len(at.Data), nl.ErrTruncated)
			}
			a.Drops = uint64(nl.Uint32(at.Data[8:]))
			a.Overlimits = uint64(nl.Uint32(at.Data[16:]))
		}
	}
	if pkt64 != nil {
		a.Packets = *pkt64
	}
	return nil
}
