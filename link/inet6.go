package link

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/enum"
	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// AddrGenMode is how the kernel makes a device's IPv6 link-local address
// when the device goes up (IFLA_INET6_ADDR_GEN_MODE, enum
// in6_addr_gen_mode in <linux/if_link.h>).
//
// Facts checked on kernel 6.18 with a veth: the mode acts when the device
// goes up. Setting
// "none" on a device that is up leaves its fe80:: address in place (delete
// it with DelAddr); setting "eui64" again on a device that is up does not
// bring a deleted fe80:: address back: it comes back at the next down/up,
// or at once with AddAddr. A device without IPv6 state (an MTU below
// 1280 removes it; disable_ipv6 does not) refuses a mode with
// EAFNOSUPPORT.
type AddrGenMode uint8

// The modes, as `ip link set DEV addrgenmode MODE` names them.
const (
	AddrGenModeEUI64         AddrGenMode = IN6_ADDR_GEN_MODE_EUI64
	AddrGenModeNone          AddrGenMode = IN6_ADDR_GEN_MODE_NONE
	AddrGenModeStablePrivacy AddrGenMode = IN6_ADDR_GEN_MODE_STABLE_PRIVACY
	AddrGenModeRandom        AddrGenMode = IN6_ADDR_GEN_MODE_RANDOM
)

var addrGenModeNames = map[AddrGenMode]string{
	AddrGenModeEUI64:         "eui64",
	AddrGenModeNone:          "none",
	AddrGenModeStablePrivacy: "stable_secret",
	AddrGenModeRandom:        "random",
}

// String returns the mode as `ip -d link show` prints it ("eui64", "none",
// "stable_secret", "random").
func (m AddrGenMode) String() string { return enum.Name(addrGenModeNames, m, "AddrGenMode(%d)") }

// ParseAddrGenMode parses a mode as `ip link set … addrgenmode` takes it.
func ParseAddrGenMode(s string) (AddrGenMode, error) {
	return enum.Parse(addrGenModeNames, s, "link: unknown addrgenmode %q (want eui64, none, stable_secret or random)")
}

// Inet6Info is the IPv6 part of a device's IFLA_AF_SPEC (the AF_INET6 nest,
// IFLA_INET6_*), as the kernel's inet6_fill_link_af writes it.
type Inet6Info struct {
	// Flags is IFLA_INET6_FLAGS: IF_READY, IF_RS_SENT, IF_RA_RCVD …
	Flags uint32
	// AddrGenMode is IFLA_INET6_ADDR_GEN_MODE.
	AddrGenMode AddrGenMode
}

// UnmarshalBinary decodes the attributes of IFLA_AF_SPEC's AF_INET6 nest,
// skipping those it does not know.
func (ii *Inet6Info) UnmarshalBinary(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	*ii = Inet6Info{}
	for _, a := range attrs {
		switch a.Type {
		case uapi.IFLA_INET6_FLAGS:
			ii.Flags, err = a.Uint32()
		case uapi.IFLA_INET6_ADDR_GEN_MODE:
			var v uint8
			v, err = uint8Attr(a)
			ii.AddrGenMode = AddrGenMode(v)
		}
		if err != nil {
			return fmt.Errorf("IFLA_INET6 attribute %d: %w", a.Type, err)
		}
	}
	return nil
}

// afSpec decodes IFLA_AF_SPEC: one nest per address family. Only AF_INET6
// is read; a message without it (a device with an MTU below 1280, a
// kernel without IPv6, an AF_BRIDGE message) leaves Inet6 nil.
func (l *Link) afSpec(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	for _, a := range attrs {
		if a.Type == uapi.AF_INET6 {
			l.Inet6 = new(Inet6Info)
			if err := l.Inet6.UnmarshalBinary(a.Data); err != nil {
				return fmt.Errorf("AF_INET6: %w", err)
			}
		}
	}
	return nil
}

// SetAddrGenModeRequest sets how the device makes its IPv6 link-local
// address, as `ip link set dev NAME addrgenmode MODE`:
//
//	IFLA_AF_SPEC
//		AF_INET6
//			IFLA_INET6_ADDR_GEN_MODE MODE (u8)
//
// Neither nest carries NLA_F_NESTED, as ip writes them.
func SetAddrGenModeRequest(ifindex int32, name string, mode AddrGenMode) nl.Request {
	return setRequest(Ifinfomsg{Index: ifindex}, fmt.Sprintf("ip link set dev %s addrgenmode %s", name, mode),
		func(e *nl.Encoder) {
			e.Nest(uapi.IFLA_AF_SPEC, func(e *nl.Encoder) {
				e.Nest(uapi.AF_INET6, func(e *nl.Encoder) {
					e.Uint8(uapi.IFLA_INET6_ADDR_GEN_MODE, uint8(mode))
				})
			})
		})
}

// SetAddrGenMode sets the IPv6 address generation mode of the device
// called name. To keep a device silent (no link-local address, so no
// router solicitations, MLD reports or DAD), set AddrGenModeNone before
// the device first goes up; see AddrGenMode for what it does to a device
// that is up.
func SetAddrGenMode(c *nl.Conn, name string, mode AddrGenMode) error {
	return set(c, name, func(i int32) nl.Request { return SetAddrGenModeRequest(i, name, mode) })
}
