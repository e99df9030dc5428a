package tc

import "fmt"

// Filters on an ingress hook are tcwire's own (IsOwn: the catch-all u32
// whose one action is a mirred egress redirect or mirror) or foreign. A
// foreign filter that runs before tcwire's and ends the classification
// leaves tcwire's redirect nothing to carry: the kernel runs a hook's
// filters by pref, lowest first, and stops at the first whose result is
// not TC_ACT_UNSPEC ("continue"). Checked on 6.18 with a u32 catch-all at
// pref 20 ahead of a redirect at 49152: with a classid, or an action
// control pipe, pass or reclassify, the redirect got 0 of 20 frames; with
// continue, all 20.

// IsOwn reports whether f has the shape tcwire installs: a u32 key node
// that matches every frame and whose one action is a mirred egress
// redirect (TC_ACT_STOLEN) or egress mirror (TC_ACT_PIPE), to any device.
func IsOwn(f Filter) bool {
	if f.kind() != KindU32 || f.U32 == nil || f.U32.Divisor != 0 || len(f.U32.Actions) != 1 || !f.U32.IsCatchAll() {
		return false
	}
	m := f.U32.Actions[0].Mirred
	if m == nil {
		return false
	}
	return m.Eaction == TCA_EGRESS_REDIR && m.Action == TC_ACT_STOLEN ||
		m.Eaction == TCA_EGRESS_MIRROR && m.Action == TC_ACT_PIPE
}

// Foreign is a filter on a hook that tcwire did not make, as structured
// fields: Dev, Parent, Pref, Protocol, Kind and Handle locate it (`tc
// filter del dev DEV PARENT pref PREF` removes its whole instance).
type Foreign struct {
	Dev      Dev
	Parent   Handle
	Pref     uint16
	Protocol Protocol
	Kind     string
	Handle   uint32
	Chain    uint32
	// Ends says that a frame it matches can end the classification there;
	// Why says how (or why not).
	Ends bool
	Why  string
}

// Foreign lists the hook's filters that are not tcwire's, in the order of
// the dump. Neither the handle-0 entry a dump gives per classifier
// instance nor a u32 hash table is a filter.
func (h Hook) Foreign() []Foreign {
	var out []Foreign
	for _, f := range h.Filters {
		if f.Handle == 0 || f.U32 != nil && f.U32.Divisor != 0 || IsOwn(f) {
			continue
		}
		var chain uint32
		if f.Chain != nil {
			chain = *f.Chain
		}
		ends, why := Ends(f)
		out = append(out, Foreign{Dev: h.Dev, Parent: f.Parent, Pref: f.Pref, Protocol: f.Protocol,
			Kind: f.Kind, Handle: f.Handle, Chain: chain, Ends: ends, Why: why})
	}
	return out
}

// Ends reports whether a frame that f matches can end the classification
// at f, and says why: any kind but u32 (a classid, a direct-action BPF
// program, actions tcwire does not decode: it cannot tell, so it assumes
// so); a terminal u32 whose first action that does not pipe has another
// control than continue, whose actions all pipe, or that has none (a
// classid: TC_ACT_OK); an action whose control tcwire cannot read. A u32
// that is not terminal only links to another table, and a filter in
// another chain runs only after a goto.
func Ends(f Filter) (bool, string) {
	if f.Chain != nil && *f.Chain != 0 {
		return false, fmt.Sprintf("in chain %d, which runs only after a goto", *f.Chain)
	}
	if f.Kind != KindU32 || f.U32 == nil {
		return true, fmt.Sprintf("a %s filter: tcwire cannot tell its match and result, and assumes they end classification", kindWord(f.Kind))
	}
	if f.U32.Sel.Flags&TC_U32_TERMINAL == 0 {
		return false, "a u32 node that is not terminal: it only links to another table"
	}
	if len(f.U32.Actions) == 0 {
		return true, "a terminal u32 without actions (a classid): classification ends with TC_ACT_OK"
	}
	for _, a := range f.U32.Actions {
		c, ok := a.control()
		switch {
		case !ok:
			return true, fmt.Sprintf("its action %s: tcwire cannot read its control, and assumes it ends classification", kindWord(a.Kind))
		case c == TC_ACT_PIPE:
			continue
		case c == TC_ACT_UNSPEC:
			return false, fmt.Sprintf("its action %s continues classification", a.Kind)
		}
		return true, fmt.Sprintf("its action %s %s ends classification", a.Kind, c)
	}
	return true, "its actions all pipe, which ends classification"
}

// control is the action's control: decoded (Control), or mirred's own.
func (a Action) control() (Control, bool) {
	switch {
	case a.Control != nil:
		return *a.Control, true
	case a.Mirred != nil:
		return a.Mirred.Action, true
	}
	return 0, false
}

func kindWord(kind string) string {
	if kind == "" {
		return "(unnamed)"
	}
	return kind
}

// autoPrefBase is where the kernel starts choosing prefs (tcf_auto_prio:
// 0xC000), and autoPrefAbove the prefs that move its choice: a filter
// added without pref gets one below the lowest pref from 0x8000 up, or
// 49152 when there is none (checked on 6.18: with 20 only, 49152; with 20
// and 60000, 59999).
const (
	autoPrefBase  = 0xC000
	autoPrefAbove = 0x8000
)

// AutoPref is the pref the kernel gives a filter added without one to the
// hook whose chain-0 filters are fs.
func AutoPref(fs []Filter) uint16 {
	lowest := uint32(0)
	for _, f := range fs {
		if f.Chain != nil && *f.Chain != 0 || f.Pref < autoPrefAbove {
			continue
		}
		if lowest == 0 || uint32(f.Pref) < lowest {
			lowest = uint32(f.Pref)
		}
	}
	if lowest == 0 {
		return autoPrefBase
	}
	return uint16(lowest - 1)
}

// Blocking lists the foreign filters of h that can end the classification
// before a filter of tcwire's at pref runs (0: the pref the kernel would
// choose for one added now): those of chain 0 that Ends, at a lower pref,
// or at the same one (an instance shared with tcwire's filter, whose order
// tcwire does not choose).
func (h Hook) Blocking(pref uint16) []Foreign {
	if pref == 0 {
		pref = AutoPref(h.Filters)
	}
	var out []Foreign
	for _, f := range h.Foreign() {
		if f.Ends && f.Chain == 0 && f.Pref <= pref {
			out = append(out, f)
		}
	}
	return out
}

// BlockedError is PlanWire's refusal to wire a device whose hook has
// foreign filters that would end the classification before the wire runs:
// the wire would install, show up, and carry nothing.
type BlockedError struct {
	Dev Dev
	// Pref is the wire's pref (the kernel's choice when tcwire adds it).
	Pref    uint16
	Filters []Foreign
}

func (e *BlockedError) Error() string {
	f := e.Filters[0]
	s := fmt.Sprintf("tc: %s: a foreign %s filter at pref %d (%s) runs before the wire at pref %d", e.Dev, kindWord(f.Kind), f.Pref, f.Why, e.Pref)
	if n := len(e.Filters) - 1; n > 0 {
		s += fmt.Sprintf(", and %d more", n)
	}
	return s
}

// Is makes errors.Is(err, ErrForeign) true.
func (e *BlockedError) Is(target error) bool { return target == ErrForeign }
