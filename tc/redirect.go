package tc

import (
	"fmt"

	"github.com/tcwire/tcwire/nl"
)

// Dev names a network device by name (for messages and command lines) and
// index (for the kernel).
type Dev struct {
	Name  string
	Index int32
}

func (d Dev) String() string { return devName(d.Name, d.Index) }

// Redirect is one mirred action found on a device's ingress hook: frames
// arriving on Ifindex go to TargetIfindex.
type Redirect struct {
	Ifindex       int32
	TargetIfindex int32
	Parent        Handle // ffff: on an ingress qdisc, ffff:fff2 on clsact
	Pref          uint16
	Handle        uint32
	Protocol      Protocol
	Eaction       Eaction // TCA_EGRESS_REDIR …
	Action        Control // TC_ACT_STOLEN …
	CatchAll      bool    // the u32 filter matches every frame
	Index         uint32
	Packets       uint64
	Bytes         uint64
	Drops         uint64 // the action's drops: "dropped" in tc -s
	// Overlimits counts the frames mirred could not deliver (see
	// Action.Overlimits): "overlimits" in tc -s.
	Overlimits uint64
}

// IsWire reports whether r is the shape tcwire installs: a catch-all u32
// with mirred egress redirect (STOLEN).
func (r Redirect) IsWire() bool {
	return r.CatchAll && r.Eaction == TCA_EGRESS_REDIR && r.Action == TC_ACT_STOLEN
}

// IsMirror reports whether r is the mirror tcwire installs: a catch-all
// u32 with mirred egress mirror (PIPE).
func (r Redirect) IsMirror() bool {
	return r.CatchAll && r.Eaction == TCA_EGRESS_MIRROR && r.Action == TC_ACT_PIPE
}

// Hook is the ingress side of one device: which qdisc holds it, and its
// filters.
type Hook struct {
	Dev     Dev
	Qdisc   string // "", KindIngress or KindClsact
	Filters []Filter
}

// Parent is the filter parent of the hook: ffff: on ingress, ffff:fff2 on
// clsact (where ffff: is refused).
func (h Hook) Parent() Handle {
	if h.Qdisc == KindClsact {
		return ClsactIngress
	}
	return IngressHandle
}

// ReadHook reads a device's ingress qdisc and filters: a probe, and a
// filter dump when the device has an ingress or clsact qdisc.
func ReadHook(c *nl.Conn, d Dev) (Hook, error) {
	hs, err := ReadHooks(c, []Dev{d})
	if err != nil {
		return Hook{Dev: d}, err
	}
	return hs[0], nil
}

// ReadHooks reads the hooks of several devices: the probes of all of them
// in one sendmsg (ProbeIngressRequest; the Conn splits hundreds of them
// into sendmsgs that fit the socket's buffer), then one filter dump for
// each device that has an ingress or clsact qdisc. Its cost follows the
// devices asked for, not the namespace. A caller listing a namespace of
// thousands of devices uses EachHook, which keeps memory to a chunk.
func ReadHooks(c *nl.Conn, devs []Dev) ([]Hook, error) {
	reqs := make([]nl.Request, len(devs))
	for i, d := range devs {
		reqs[i] = ProbeIngressRequest(d.Index, d.Name)
	}
	replies, errs := c.Query(reqs...)
	hs := make([]Hook, len(devs))
	for i, d := range devs {
		kind, err := ProbeKind(d.Index, replies[i], errs[i])
		if err != nil {
			return nil, fmt.Errorf("tc: read the ingress hook of %s: %w", d, err)
		}
		hs[i] = Hook{Dev: d, Qdisc: kind}
	}
	for i, d := range devs {
		if hs[i].Qdisc == "" {
			continue
		}
		var err error
		if hs[i].Filters, err = Filters(c, d.Index, hs[i].Parent()); err != nil {
			return nil, fmt.Errorf("tc: read filters of %s: %w", d, err)
		}
	}
	return hs, nil
}

// HookChunk is how many devices EachHook reads at a time: enough that the
// probes fill a few sendmsgs, few enough that the hooks in memory stay
// small.
const HookChunk = 256

// EachHook reads the hooks of devs HookChunk at a time (ReadHooks) and
// calls fn with each, in order, so a caller listing a namespace holds one
// chunk of hooks at a time; it stops at the first error, of a read or of
// fn. Reading 15000 devices in chunks took 0.28 s here, against 0.5-0.9 s
// for one ReadHooks of all of them (the garbage collector's work grows
// with what is held).
func EachHook(c *nl.Conn, devs []Dev, fn func(Hook) error) error {
	for len(devs) > 0 {
		n := min(len(devs), HookChunk)
		hs, err := ReadHooks(c, devs[:n])
		if err != nil {
			return err
		}
		for _, h := range hs {
			if err := fn(h); err != nil {
				return err
			}
		}
		devs = devs[n:]
	}
	return nil
}

// Redirects lists the mirred redirects and mirrors on the hook, one per
// action.
func (h Hook) Redirects() []Redirect {
	var out []Redirect
	for _, f := range h.Filters {
		if f.U32 == nil {
			continue
		}
		for _, a := range f.U32.Actions {
			if a.Mirred == nil {
				continue
			}
			out = append(out, Redirect{
				Ifindex:       f.Ifindex,
				TargetIfindex: int32(a.Mirred.Ifindex),
				Parent:        f.Parent,
				Pref:          f.Pref,
				Handle:        f.Handle,
				Protocol:      f.Protocol,
				Eaction:       a.Mirred.Eaction,
				Action:        a.Mirred.Action,
				CatchAll:      f.U32.IsCatchAll() && len(f.U32.Actions) == 1,
				Index:         a.Index,
				Packets:       a.Packets,
				Bytes:         a.Bytes,
				Drops:         a.Drops,
				Overlimits:    a.Overlimits,
			})
		}
	}
	return out
}
