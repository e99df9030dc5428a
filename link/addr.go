package link

import (
	"fmt"
	"net/netip"
	"syscall"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// IfaddrmsgLen is sizeof(struct ifaddrmsg).
const IfaddrmsgLen = 8

// Ifaddrmsg is struct ifaddrmsg from <linux/if_addr.h>, the fixed header of
// RTM_*ADDR messages:
//
//	struct ifaddrmsg {
//		__u8  ifa_family;
//		__u8  ifa_prefixlen; /* The prefix length */
//		__u8  ifa_flags;     /* Flags (IFA_F_*, low 8 bits) */
//		__u8  ifa_scope;     /* Address scope (RT_SCOPE_*) */
//		__u32 ifa_index;     /* Link index */
//	};
type Ifaddrmsg struct {
	Family    uint8 // ifa_family: AF_INET or AF_INET6
	PrefixLen uint8 // ifa_prefixlen
	Flags     uint8 // ifa_flags: the low 8 bits of IFA_F_*
	Scope     uint8 // ifa_scope: RT_SCOPE_*
	Index     int32 // ifa_index
}

// MarshalBinary encodes m in host order (IfaddrmsgLen bytes).
func (m Ifaddrmsg) MarshalBinary() ([]byte, error) { return m.Append(nil), nil }

// Append appends the encoding of m to b.
func (m Ifaddrmsg) Append(b []byte) []byte {
	b = append(b, m.Family, m.PrefixLen, m.Flags, m.Scope)
	return nl.AppendUint32(b, uint32(m.Index))
}

// UnmarshalBinary decodes the first IfaddrmsgLen bytes of b.
func (m *Ifaddrmsg) UnmarshalBinary(b []byte) error {
	if len(b) < IfaddrmsgLen {
		return fmt.Errorf("link: ifaddrmsg in %d bytes: %w", len(b), nl.ErrTruncated)
	}
	*m = Ifaddrmsg{Family: b[0], PrefixLen: b[1], Flags: b[2], Scope: b[3], Index: int32(nl.Uint32(b[4:]))}
	return nil
}

// Addr is an interface address as an RTM_NEWADDR message describes it.
type Addr struct {
	Family uint8 // ifa_family
	Index  int32 // ifa_index
	Scope  uint8 // ifa_scope: RT_SCOPE_UNIVERSE (global), RT_SCOPE_LINK …
	// Flags is IFA_FLAGS (all 32 bits) when present, else ifa_flags:
	// IFA_F_PERMANENT, IFA_F_TENTATIVE, IFA_F_NOPREFIXROUTE …
	Flags uint32
	// Prefix is the address and ifa_prefixlen: IFA_LOCAL when present (the
	// address itself on a point-to-point link, where IFA_ADDRESS is the
	// peer's), else IFA_ADDRESS, which is all an IPv6 dump carries.
	Prefix netip.Prefix
	// Peer is IFA_ADDRESS when it differs from IFA_LOCAL (a point-to-point
	// peer), else the zero Addr.
	Peer netip.Addr
	// Label is IFA_LABEL (IPv4 only).
	Label string
	// Proto is IFA_PROTO: who made the address (IFAPROT_KERNEL_LL, 3, for
	// the link-local address the kernel makes), 0 when absent.
	Proto uint8
	// ValidLft and PreferredLft are IFA_CACHEINFO's lifetimes in seconds,
	// 0xffffffff for "forever".
	ValidLft, PreferredLft uint32
}

// LinkLocal reports whether a is an IPv6 link-local (fe80::/10) address.
func (a *Addr) LinkLocal() bool {
	return a.Prefix.Addr().Is6() && a.Prefix.Addr().IsLinkLocalUnicast()
}

// UnmarshalBinary decodes the body of an RTM_NEWADDR message: ifaddrmsg and
// attributes, skipping those it does not know. An address attribute whose
// length is not that of the family's addresses is an error.
func (a *Addr) UnmarshalBinary(b []byte) error {
	var ifa Ifaddrmsg
	if err := ifa.UnmarshalBinary(b); err != nil {
		return err
	}
	*a = Addr{Family: ifa.Family, Index: ifa.Index, Scope: ifa.Scope, Flags: uint32(ifa.Flags)}
	fail := func(what string, err error) error {
		return fmt.Errorf("link: address on index %d: %s: %w", ifa.Index, what, err)
	}
	var width int
	switch ifa.Family {
	case uapi.AF_INET:
		width = 4
	case uapi.AF_INET6:
		width = 16
	default:
		return fail("ifa_family", fmt.Errorf("family %d is neither AF_INET nor AF_INET6", ifa.Family))
	}
	if int(ifa.PrefixLen) > 8*width {
		return fail("ifa_prefixlen", fmt.Errorf("%d bits in a %d-bit address", ifa.PrefixLen, 8*width))
	}
	attrs, err := nl.ParseAttrs(b[IfaddrmsgLen:])
	if err != nil {
		return fail("attributes", err)
	}
	var local, address netip.Addr
	ip := func(name string, d []byte) (netip.Addr, error) {
		if len(d) != width {
			return netip.Addr{}, fail(name, fmt.Errorf("%d bytes, want %d", len(d), width))
		}
		addr, _ := netip.AddrFromSlice(d)
		return addr, nil
	}
	for _, at := range attrs {
		switch at.Type {
		case uapi.IFA_ADDRESS:
			address, err = ip("IFA_ADDRESS", at.Data)
		case uapi.IFA_LOCAL:
			local, err = ip("IFA_LOCAL", at.Data)
		case uapi.IFA_LABEL:
			a.Label = at.String()
		case uapi.IFA_FLAGS:
			if a.Flags, err = at.Uint32(); err != nil {
				err = fail("IFA_FLAGS", err)
			}
		case IFA_PROTO:
			if a.Proto, err = uint8Attr(at); err != nil {
				err = fail("IFA_PROTO", err)
			}
		case uapi.IFA_CACHEINFO:
			// struct ifa_cacheinfo: ifa_prefered, ifa_valid, cstamp, tstamp.
			if len(at.Data) < 8 {
				err = fail("IFA_CACHEINFO", fmt.Errorf("%d bytes: %w", len(at.Data), nl.ErrTruncated))
				break
			}
			a.PreferredLft, a.ValidLft = nl.Uint32(at.Data), nl.Uint32(at.Data[4:])
		}
		if err != nil {
			return err
		}
	}
	addr := local
	if !addr.IsValid() {
		addr = address
	} else if address.IsValid() && address != local {
		a.Peer = address
	}
	if !addr.IsValid() {
		return fail("attributes", fmt.Errorf("neither IFA_LOCAL nor IFA_ADDRESS"))
	}
	a.Prefix = netip.PrefixFrom(addr, int(ifa.PrefixLen))
	return nil
}

// ParseAddr decodes an RTM_NEWADDR message.
func ParseAddr(m nl.Message) (*Addr, error) {
	if m.Header.Type != uapi.RTM_NEWADDR {
		return nil, fmt.Errorf("link: message type %d is not RTM_NEWADDR", m.Header.Type)
	}
	a := new(Addr)
	if err := a.UnmarshalBinary(m.Data); err != nil {
		return nil, err
	}
	return a, nil
}

// familyOf is the AF_* of an address.
func familyOf(a netip.Addr) uint8 {
	if a.Is4() {
		return uapi.AF_INET
	}
	return uapi.AF_INET6
}

// familyFlag is ip's option for a family.
func familyFlag(family uint8) string {
	switch family {
	case uapi.AF_INET:
		return "-4 "
	case uapi.AF_INET6:
		return "-6 "
	}
	return ""
}

// ListAddrRequest dumps the addresses of family (AF_INET6, AF_INET, or
// AF_UNSPEC for both) on the device ifindex, as `ip -6 addr show dev NAME`:
// RTM_GETADDR with NLM_F_REQUEST|NLM_F_DUMP and an ifaddrmsg holding only
// the family and ifa_index. The kernel (strict checking, which iproute2
// turns on) filters the dump by ifa_index.
func ListAddrRequest(ifindex int32, name string, family uint8) nl.Request {
	return nl.Request{Type: uapi.RTM_GETADDR, Flags: nl.FlagsDump,
		Data: Ifaddrmsg{Family: family, Index: ifindex}.Append(nil),
		Cmd:  fmt.Sprintf("ip %saddr show dev %s", familyFlag(family), name)}
}

// addrRequest is ip addr add/del's message: ifaddrmsg {family, prefixlen,
// ifindex}, then IFA_LOCAL and IFA_ADDRESS, both the address.
func addrRequest(typ nl.HeaderType, flags nl.HeaderFlags, ifindex int32, p netip.Prefix, cmd string) nl.Request {
	e := nl.NewEncoder(Ifaddrmsg{Family: familyOf(p.Addr()), PrefixLen: uint8(p.Bits()), Index: ifindex}.Append(nil))
	e.Attr(uapi.IFA_LOCAL, p.Addr().AsSlice())
	e.Attr(uapi.IFA_ADDRESS, p.Addr().AsSlice())
	return nl.Request{Type: typ, Flags: flags, Data: e.Bytes(), Cmd: cmd}
}

// AddAddrRequest adds the address p to the device ifindex, as
// `ip addr add P dev NAME`: RTM_NEWADDR with
// NLM_F_REQUEST|NLM_F_ACK|NLM_F_EXCL|NLM_F_CREATE. The kernel picks the
// scope from the address (link for fe80::/10) and adds the prefix route;
// an IPv6 address goes through duplicate address detection (tentative)
// first. p must be valid.
func AddAddrRequest(ifindex int32, name string, p netip.Prefix) nl.Request {
	return addrRequest(uapi.RTM_NEWADDR, nl.FlagsCreate, ifindex, p, fmt.Sprintf("ip addr add %s dev %s", p, name))
}

// DelAddrRequest deletes the address p from the device ifindex, as
// `ip addr del P dev NAME`: RTM_DELADDR with NLM_F_REQUEST|NLM_F_ACK. A
// missing address gives EADDRNOTAVAIL. p must be valid.
func DelAddrRequest(ifindex int32, name string, p netip.Prefix) nl.Request {
	return addrRequest(uapi.RTM_DELADDR, nl.FlagsAck, ifindex, p, fmt.Sprintf("ip addr del %s dev %s", p, name))
}

// ListAddrs returns the addresses of family (AF_INET6, AF_INET or
// AF_UNSPEC) on the device called name, in the kernel's order.
func ListAddrs(c *nl.Conn, name string, family uint8) ([]*Addr, error) {
	l, err := Lookup(c, name)
	if err != nil {
		return nil, err
	}
	return AddrsOf(c, l, family)
}

// AddrsOf is ListAddrs of a device already looked up.
func AddrsOf(c *nl.Conn, l *Link, family uint8) ([]*Addr, error) {
	name := l.Name
	msgs, err := c.Dump(ListAddrRequest(l.Index, name, family))
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", name, err)
	}
	var out []*Addr
	for _, m := range msgs {
		if m.Header.Type != uapi.RTM_NEWADDR {
			continue
		}
		a, err := ParseAddr(m)
		if err != nil {
			return nil, fmt.Errorf("link %s: %w", name, err)
		}
		if a.Index == l.Index { // kernels without strict checking dump all
			out = append(out, a)
		}
	}
	return out, nil
}

// validPrefix rejects what AddAddrRequest and DelAddrRequest cannot encode.
func validPrefix(name string, p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("link %s: invalid address prefix %q: %w", name, p, syscall.EINVAL)
	}
	return nil
}

// AddAddr adds the address p (such as fe80::1/64) to the device called
// name. An address already there gives an error satisfying
// errors.Is(err, unix.EEXIST).
func AddAddr(c *nl.Conn, name string, p netip.Prefix) error {
	if err := validPrefix(name, p); err != nil {
		return err
	}
	return set(c, name, func(i int32) nl.Request { return AddAddrRequest(i, name, p) })
}

// DelAddr deletes the address p from the device called name. An address
// that is not there gives an error satisfying
// errors.Is(err, unix.EADDRNOTAVAIL).
func DelAddr(c *nl.Conn, name string, p netip.Prefix) error {
	if err := validPrefix(name, p); err != nil {
		return err
	}
	return set(c, name, func(i int32) nl.Request { return DelAddrRequest(i, name, p) })
}
