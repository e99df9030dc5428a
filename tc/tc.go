// Package tc encodes and decodes the traffic-control objects tcwire uses —
// ingress and clsact qdiscs, u32 filters and mirred actions — byte for byte
// as iproute2's tc sends them, one object kind per file as in tc's own
// sources (q_ingress.c, f_u32.c, m_mirred.c).
//
// Every request is built by a pure function returning an nl.Request, so it
// can be sent (nl.Conn), compared with a golden capture, or explained
// (annotate.Dump with tcschema.Schema) without a socket. The annotate
// schema lives in tc/tcschema so that a program that only sends links no
// annotated-dump code.
//
// Wire and Unwire are the API: they read both devices' ingress hooks
// (ReadHooks), decide what to send (PlanWire, PlanUnwire) and send it in
// one batch, undoing a half-done Wire. A Redirect is a read-only record of
// one mirred redirect found on a hook (Hook.Redirects).
//
// Builders take a device as (ifindex, name), as package link's do: the
// index is what the kernel reads, the name only labels the command line
// and errors. link's builders, three times as many, already had that
// order, so tc's were changed to match.
package tc

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/tcwire/tcwire/nl"
)

// Handles, from <linux/pkt_sched.h>: a handle is major:minor, 16 bits each.
const (
	TC_H_UNSPEC = 0
	TC_H_ROOT   = 0xffffffff
	// TC_H_INGRESS is the parent of the ingress and clsact qdiscs.
	TC_H_INGRESS = 0xfffffff1
	// TC_H_CLSACT is the same value as TC_H_INGRESS: the kernel tells the
	// two qdiscs apart by kind.
	TC_H_CLSACT = TC_H_INGRESS
	// TC_H_MIN_INGRESS and TC_H_MIN_EGRESS are the minors of clsact's two
	// hooks (filter parents ffff:fff2 and ffff:fff3).
	TC_H_MIN_INGRESS = 0xfff2
	TC_H_MIN_EGRESS  = 0xfff3
)

// Protocol is a filter's protocol, an Ethernet protocol number (ETH_P_*),
// host order; tcm_info carries it in network order.
type Protocol uint16

// Ethernet protocols used as filter protocols, from <linux/if_ether.h>.
const (
	ETH_P_ALL   Protocol = 0x0003
	ETH_P_IP             = 0x0800
	ETH_P_ARP            = 0x0806
	ETH_P_8021Q          = 0x8100
	ETH_P_IPV6           = 0x86dd
)

// Handle is a tc handle, major:minor.
type Handle uint32

// MakeHandle joins a major and a minor (TC_H_MAKE).
func MakeHandle(major, minor uint16) Handle { return Handle(uint32(major)<<16 | uint32(minor)) }

// Major is the upper 16 bits.
func (h Handle) Major() uint16 { return uint16(h >> 16) }

// Minor is the lower 16 bits.
func (h Handle) Minor() uint16 { return uint16(h) }

// String prints h the way tc shows it: "root", "ffff:", "ffff:fff1".
func (h Handle) String() string {
	switch h {
	case TC_H_ROOT:
		return "root"
	case TC_H_UNSPEC:
		return "none"
	}
	b := strconv.AppendUint(make([]byte, 0, 9), uint64(h.Major()), 16)
	b = append(b, ':')
	if h.Minor() != 0 {
		b = strconv.AppendUint(b, uint64(h.Minor()), 16)
	}
	return string(b)
}

// ParseHandle reads a handle as tc writes it: "root", "ingress", "none",
// "MAJ:", "MAJ:MIN" (hex) or a bare hex major.
func ParseHandle(s string) (Handle, error) {
	switch s {
	case "root":
		return TC_H_ROOT, nil
	case "ingress":
		return TC_H_INGRESS, nil
	case "none":
		return TC_H_UNSPEC, nil
	}
	maj, min, found := strings.Cut(s, ":")
	ma, err := strconv.ParseUint(maj, 16, 16)
	if err != nil {
		return 0, fmt.Errorf("tc: invalid handle %q: major %q is not a 16-bit hex number", s, maj)
	}
	var mi uint64
	if found && min != "" {
		if mi, err = strconv.ParseUint(min, 16, 16); err != nil {
			return 0, fmt.Errorf("tc: invalid handle %q: minor %q is not a 16-bit hex number", s, min)
		}
	}
	return MakeHandle(uint16(ma), uint16(mi)), nil
}

// htons converts a host u16 to network order, as tcm_info wants the filter
// protocol.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return nl.Uint16(b[:])
}

// newRequest builds a tc message: the tcmsg, then the attributes attrs
// writes (attrs may be nil).
func newRequest(typ nl.HeaderType, flags nl.HeaderFlags, m Tcmsg, attrs func(*nl.Encoder), cmd string) nl.Request {
	e := nl.NewEncoder(m.Append(make([]byte, 0, 128)))
	if attrs != nil {
		attrs(e)
	}
	return nl.Request{Type: typ, Flags: flags, Data: e.Bytes(), Cmd: cmd}
}

// devName names a device in a command line; tc takes names only, so an
// unnamed device shows its index.
func devName(name string, ifindex int32) string {
	if name != "" {
		return name
	}
	return "if" + strconv.Itoa(int(ifindex))
}
