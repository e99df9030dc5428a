package tc

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tcwire/tcwire/internal/enum"
	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// Filter is a classifier instance on a qdisc hook. In tcmsg, tcm_parent is
// the hook, tcm_handle the filter's handle and tcm_info packs the priority
// (pref) above the protocol, which is in network order.
type Filter struct {
	Dev      string // device name, for command lines only
	Ifindex  int32
	Parent   Handle
	Pref     uint16   // 0 lets the kernel choose (49152, then 49151 …)
	Protocol Protocol // ETH_P_*; tc's "all" is ETH_P_ALL
	Handle   uint32   // 0 lets the classifier choose (u32: 800::800 …)
	Chain    *uint32
	// Kind is the classifier (TCA_KIND). Requests take it from U32 when
	// empty; dumps set it for every filter.
	Kind string
	U32  *U32
}

func (f Filter) kind() string {
	if f.Kind == "" && f.U32 != nil {
		return KindU32
	}
	return f.Kind
}

func (f Filter) tcmsg() Tcmsg {
	return Tcmsg{
		Ifindex: f.Ifindex,
		Handle:  f.Handle,
		Parent:  uint32(f.Parent),
		Info:    uint32(f.Pref)<<16 | uint32(htons(uint16(f.Protocol))),
	}
}

// AddFilterRequest is `tc filter add dev DEV parent P [pref N] [handle H]
// protocol PROTO u32 …`: RTM_NEWTFILTER with NLM_F_EXCL|NLM_F_CREATE.
func AddFilterRequest(f Filter) (nl.Request, error) {
	return f.modify(nl.FlagsCreate, "add")
}

// ReplaceFilterRequest is `tc filter replace …`: NLM_F_CREATE without
// NLM_F_EXCL, so the filter at the same pref and handle is replaced.
func ReplaceFilterRequest(f Filter) (nl.Request, error) {
	return f.modify(nl.FlagsReplace, "replace")
}

func (f Filter) modify(flags nl.HeaderFlags, verb string) (nl.Request, error) {
	if err := f.validate(); err != nil {
		return nl.Request{}, err
	}
	return newRequest(uapi.RTM_NEWTFILTER, flags, f.tcmsg(), func(e *nl.Encoder) {
		e.String(uapi.TCA_KIND, KindU32)
		if f.Chain != nil {
			e.Uint32(uapi.TCA_CHAIN, *f.Chain)
		}
		e.Nest(uapi.TCA_OPTIONS, f.U32.encode)
	}, f.cmd(verb)+" "+f.U32.spec()), nil
}

// validate names what the kernel would refuse, before anything is sent.
func (f Filter) validate() error {
	switch {
	case f.U32 == nil:
		return errors.New("tc: filter: only u32 filters are encoded: U32 is nil")
	case f.Kind != "" && f.Kind != KindU32:
		return fmt.Errorf("tc: filter: kind %q does not match its u32 options", f.Kind)
	case f.Protocol == 0:
		// The kernel says only "Filter kind and protocol must be specified".
		return errors.New("tc: filter: protocol 0: use ETH_P_ALL for every protocol")
	case f.Ifindex <= 0:
		return fmt.Errorf("tc: filter: invalid ifindex %d for device %q", f.Ifindex, f.Dev)
	case f.Parent == 0:
		return errors.New("tc: filter: no parent (ffff: for the ingress hook)")
	}
	return f.U32.validate()
}

// DelFilterRequest is `tc filter del dev DEV parent P pref N handle H
// protocol PROTO u32`: one filter, named by pref, protocol, handle and
// kind. A Filter from a dump can be passed as it is.
func DelFilterRequest(f Filter) nl.Request {
	cmd := f.cmd("del")
	kind := f.kind()
	if kind != "" {
		cmd += " " + kind
	}
	return newRequest(uapi.RTM_DELTFILTER, nl.FlagsAck, f.tcmsg(), func(e *nl.Encoder) {
		if kind != "" {
			e.String(uapi.TCA_KIND, kind)
		}
		if f.Chain != nil {
			e.Uint32(uapi.TCA_CHAIN, *f.Chain)
		}
	}, cmd)
}

// FlushFiltersRequest is `tc filter del dev DEV parent P`: a bare tcmsg
// (pref 0, no kind) removes every filter of the hook.
func FlushFiltersRequest(ifindex int32, dev string, parent Handle) nl.Request {
	m := Tcmsg{Ifindex: ifindex, Parent: uint32(parent)}
	return newRequest(uapi.RTM_DELTFILTER, nl.FlagsAck, m, nil,
		fmt.Sprintf("tc filter del dev %s %s", devName(dev, ifindex), parentSpec(parent)))
}

// ListFiltersRequest is `tc filter show dev DEV parent P`: an
// RTM_GETTFILTER dump.
func ListFiltersRequest(ifindex int32, dev string, parent Handle) nl.Request {
	m := Tcmsg{Ifindex: ifindex, Parent: uint32(parent)}
	return newRequest(uapi.RTM_GETTFILTER, nl.FlagsDump, m, nil,
		fmt.Sprintf("tc filter show dev %s %s", devName(dev, ifindex), parentSpec(parent)))
}

// cmd is the start of a tc filter command line, up to the classifier.
func (f Filter) cmd(verb string) string {
	// Appended, not formatted: it is built for every request.
	b := make([]byte, 0, 96)
	b = append(b, "tc filter "...)
	b = append(b, verb...)
	b = append(b, " dev "...)
	b = append(b, devName(f.Dev, f.Ifindex)...)
	b = append(b, ' ')
	b = append(b, parentSpec(f.Parent)...)
	if f.Pref != 0 {
		b = strconv.AppendUint(append(b, " pref "...), uint64(f.Pref), 10)
	}
	if f.Handle != 0 {
		b = append(append(b, " handle "...), U32HandleString(f.Handle)...)
	}
	if f.Chain != nil {
		b = strconv.AppendUint(append(b, " chain "...), uint64(*f.Chain), 10)
	}
	if f.Protocol != 0 {
		b = append(append(b, " protocol "...), f.Protocol.String()...)
	}
	return string(b)
}

// parentSpec spells a filter parent as a tc user would: clsact's hooks by
// name, anything else as "parent MAJ:MIN".
func parentSpec(p Handle) string {
	switch p {
	case ClsactIngress:
		return "ingress"
	case ClsactEgress:
		return "egress"
	}
	return "parent " + p.String()
}

// U32HandleString prints a u32 handle as tc does: htid:hash:node in hex,
// each part left out when zero ("800::800", "800:", "801:1"), and "none"
// for 0.
func U32HandleString(h uint32) string {
	if h == 0 {
		return "none"
	}
	htid, hash, node := h>>20, (h>>12)&0xff, h&0xfff
	var s string
	if htid != 0 {
		s = fmt.Sprintf("%x:", htid)
	}
	if hash != 0 {
		s += fmt.Sprintf("%x", hash)
	}
	if node != 0 {
		s += fmt.Sprintf(":%x", node)
	}
	return s
}

var protocolNames = map[Protocol]string{
	ETH_P_ALL:   "all",
	ETH_P_IP:    "ip",
	ETH_P_ARP:   "arp",
	ETH_P_8021Q: "802.1Q",
	ETH_P_IPV6:  "ipv6",
}

// String is tc's name for the protocol ("all", "ip" …, else hex).
func (p Protocol) String() string {
	return enum.Name(protocolNames, p, "0x%04x")
}

// ParseProtocol reads a filter protocol as tc takes it: a name or a number.
func ParseProtocol(s string) (Protocol, error) {
	if p, ok := enum.Value(protocolNames, s); ok {
		return p, nil
	}
	// A number as tc's get_u16 reads it: decimal, 0x hex or 0 octal.
	v, err := strconv.ParseUint(s, 0, 16)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("tc: unknown protocol %q", s)
	}
	return Protocol(v), nil
}

// UnmarshalBinary decodes an RTM_NEWTFILTER message body as dumps return
// it. Unknown attributes are skipped; options are decoded for u32 only.
func (f *Filter) UnmarshalBinary(b []byte) error {
	var m Tcmsg
	if err := m.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("tc: filter: %w", err)
	}
	attrs, err := nl.ParseAttrs(b[TcmsgLen:])
	if err != nil {
		return fmt.Errorf("tc: filter: %w", err)
	}
	*f = Filter{
		Ifindex:  m.Ifindex,
		Parent:   Handle(m.Parent),
		Handle:   m.Handle,
		Pref:     m.Pref(),
		Protocol: m.Protocol(),
	}
	var opts []byte
	for _, a := range attrs {
		switch a.Type {
		case uapi.TCA_KIND:
			f.Kind = a.String()
		case uapi.TCA_CHAIN:
			c, err := a.Uint32()
			if err != nil {
				return fmt.Errorf("tc: filter: TCA_CHAIN: %w", err)
			}
			f.Chain = &c
		case uapi.TCA_OPTIONS:
			opts = a.Data
		}
	}
	if f.Kind == KindU32 && opts != nil {
		f.U32 = new(U32)
		if err := f.U32.UnmarshalBinary(opts); err != nil {
			return err
		}
	}
	return nil
}

// Filters lists the filters of one hook of a device.
func Filters(c *nl.Conn, ifindex int32, parent Handle) ([]Filter, error) {
	msgs, err := c.Dump(ListFiltersRequest(ifindex, "", parent))
	if err != nil {
		return nil, err
	}
	out := make([]Filter, 0, len(msgs))
	for _, m := range msgs {
		if m.Header.Type != uapi.RTM_NEWTFILTER {
			continue
		}
		var f Filter
		if err := f.UnmarshalBinary(m.Data); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
