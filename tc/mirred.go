package tc

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/enum"
	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// The mirred action (act_mirred, tc's m_mirred.c): send the frame out of, or
// into, another device, either instead of the original (redirect) or as a
// copy (mirror).

// KindMirred is the mirred action's TCA_ACT_KIND.
const KindMirred = "mirred"

// Eaction is mirred's eaction: which way the frame goes to the target, and
// whether it is moved or copied.
type Eaction int32

// Mirred's eactions, from <linux/tc_act/tc_mirred.h>.
const (
	TCA_EGRESS_REDIR   Eaction = 1 // packet redirect to EGRESS
	TCA_EGRESS_MIRROR          = 2 // mirror packet to EGRESS
	TCA_INGRESS_REDIR          = 3 // packet redirect to INGRESS
	TCA_INGRESS_MIRROR         = 4 // mirror packet to INGRESS
)

// tcMirredLen is sizeof(struct tc_mirred).
const tcMirredLen = 28

// Mirred is struct tc_mirred from <linux/tc_act/tc_mirred.h>: tc_gen's
// five fields then eaction and ifindex, all host order:
//
//	struct tc_mirred {
//		__u32 index; __u32 capab; int action; int refcnt; int bindcnt;
//		int eaction;
//		__u32 ifindex;
//	};
type Mirred struct {
	Index   uint32
	Capab   uint32
	Action  Control // TC_ACT_STOLEN for redirect, TC_ACT_PIPE for mirror
	Refcnt  int32
	Bindcnt int32
	Eaction Eaction // TCA_EGRESS_REDIR …
	Ifindex uint32

	// Dev names the target in command lines only.
	Dev string
}

// EgressRedirect is `mirred egress redirect dev DEV`: the frame leaves DEV and
// nothing else sees it (TC_ACT_STOLEN). Any other control would clone it
// and let the original go on up the stack.
func EgressRedirect(ifindex int32, dev string) *Mirred {
	return &Mirred{Action: TC_ACT_STOLEN, Eaction: TCA_EGRESS_REDIR, Ifindex: uint32(ifindex), Dev: dev}
}

// EgressMirror is `mirred egress mirror dev DEV`: a copy leaves DEV and the
// original goes on (TC_ACT_PIPE).
func EgressMirror(ifindex int32, dev string) *Mirred {
	return &Mirred{Action: TC_ACT_PIPE, Eaction: TCA_EGRESS_MIRROR, Ifindex: uint32(ifindex), Dev: dev}
}

// DefaultControl is the control tc uses when none is given: STOLEN for the
// redirects, PIPE for the mirrors.
func DefaultControl(eaction Eaction) Control {
	if eaction == TCA_EGRESS_MIRROR || eaction == TCA_INGRESS_MIRROR {
		return TC_ACT_PIPE
	}
	return TC_ACT_STOLEN
}

// MarshalBinary encodes struct tc_mirred.
func (m *Mirred) MarshalBinary() ([]byte, error) { return m.append(nil), nil }

func (m *Mirred) append(b []byte) []byte {
	for _, v := range [...]uint32{m.Index, m.Capab, uint32(m.Action), uint32(m.Refcnt), uint32(m.Bindcnt), uint32(m.Eaction), m.Ifindex} {
		b = nl.AppendUint32(b, v)
	}
	return b
}

// encode writes mirred's TCA_ACT_OPTIONS payload.
func (m *Mirred) encode(e *nl.Encoder) {
	var buf [tcMirredLen]byte
	e.Attr(uapi.TCA_MIRRED_PARMS, m.append(buf[:0]))
}

// UnmarshalBinary decodes mirred's options nest (TCA_MIRRED_PARMS and
// whatever else the kernel reports, which is ignored).
func (m *Mirred) UnmarshalBinary(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return fmt.Errorf("tc: mirred: %w", err)
	}
	for _, a := range attrs {
		if a.Type != uapi.TCA_MIRRED_PARMS {
			continue
		}
		if len(a.Data) < tcMirredLen {
			return fmt.Errorf("tc: mirred: tc_mirred in %d bytes: %w", len(a.Data), nl.ErrTruncated)
		}
		d := a.Data
		*m = Mirred{
			Index:   nl.Uint32(d[0:]),
			Capab:   nl.Uint32(d[4:]),
			Action:  Control(nl.Uint32(d[8:])),
			Refcnt:  int32(nl.Uint32(d[12:])),
			Bindcnt: int32(nl.Uint32(d[16:])),
			Eaction: Eaction(nl.Uint32(d[20:])),
			Ifindex: nl.Uint32(d[24:]),
		}
		return nil
	}
	return fmt.Errorf("tc: mirred: no TCA_MIRRED_PARMS")
}

var eactionWords = map[Eaction]string{
	TCA_EGRESS_REDIR:   "egress redirect",
	TCA_EGRESS_MIRROR:  "egress mirror",
	TCA_INGRESS_REDIR:  "ingress redirect",
	TCA_INGRESS_MIRROR: "ingress mirror",
}

// String is tc's wording of the eaction ("egress redirect" …).
func (e Eaction) String() string {
	return enum.Name(eactionWords, e, "eaction %d")
}

// ParseEaction reads an eaction as tc writes it: "egress redirect" …
func ParseEaction(s string) (Eaction, error) {
	return enum.Parse(eactionWords, s, "tc: unknown mirred eaction %q")
}

// IsRedirect reports whether the frame is taken away from its path (the
// redirects, with the STOLEN control) rather than copied.
func (m *Mirred) IsRedirect() bool {
	return (m.Eaction == TCA_EGRESS_REDIR || m.Eaction == TCA_INGRESS_REDIR) && m.Action == TC_ACT_STOLEN
}

func (m *Mirred) validate() error {
	if _, ok := eactionWords[m.Eaction]; !ok {
		return fmt.Errorf("tc: mirred: unknown eaction %d", m.Eaction)
	}
	if m.Ifindex == 0 {
		return fmt.Errorf("tc: mirred %s: no target device", m.Eaction.String())
	}
	return nil
}

// spec is mirred's part of a tc command line; the control is spelled out
// only when it is not tc's default.
func (m *Mirred) spec() string {
	s := m.Eaction.String() + " dev " + devName(m.Dev, int32(m.Ifindex))
	if m.Action != DefaultControl(m.Eaction) {
		s += " " + m.Action.String()
	}
	if m.Index != 0 {
		s += fmt.Sprintf(" index %d", m.Index)
	}
	return s
}
