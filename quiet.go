package tcwire

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
)

// A quiet link carries the VM's frames and nothing else. Every tap tcwire
// creates gets IPv6 address generation off before it goes up (`ip link set
// TAP addrgenmode none`): otherwise the kernel gives it an fe80:: address
// and the host's own stack sends router solicitations, MLD reports and
// neighbour discovery into the VM. Options.QuietTap does the same to an
// existing tap; Options.QuietDev to DEV, whose own stack would otherwise
// keep sending with the MAC the VM now uses.

// devRecord is what QuietDev changed on DEV, kept in the alias of the tap
// tcwire made ("tcwire:dev-addrgenmode=eui64 fe80::1/64"), so that Detach
// can put it back even from another process.
type devRecord struct {
	mode  link.AddrGenMode
	addrs []netip.Prefix
}

const recordPrefix = link.OwnerAlias + ":dev-addrgenmode="

func (r devRecord) alias() string {
	var b strings.Builder
	b.WriteString(recordPrefix + r.mode.String())
	for _, a := range r.addrs {
		b.WriteString(" " + a.String())
	}
	return b.String()
}

// parseRecord reads a tap's alias; ok is false when it holds no record.
func parseRecord(alias string) (r devRecord, ok bool) {
	rest, ok := strings.CutPrefix(alias, recordPrefix)
	if !ok {
		return r, false
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return r, false
	}
	mode, err := link.ParseAddrGenMode(f[0])
	if err != nil {
		return r, false
	}
	r.mode = mode
	for _, s := range f[1:] {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return devRecord{}, false
		}
		r.addrs = append(r.addrs, p)
	}
	return r, true
}

// quietRequests silence l's IPv6: address generation off (unless it is
// already, or l has no IPv6 at all: an MTU below 1280) and its link-local
// addresses deleted. rec says what they change.
func quietRequests(l *link.Link, addrs []*link.Addr) (reqs []nl.Request, rec devRecord) {
	rec.mode = link.AddrGenModeNone
	if l.Inet6 != nil && l.Inet6.AddrGenMode != link.AddrGenModeNone {
		rec.mode = l.Inet6.AddrGenMode
		reqs = append(reqs, link.SetAddrGenModeRequest(l.Index, l.Name, link.AddrGenModeNone))
	}
	for _, a := range addrs {
		if a.Index == l.Index && a.LinkLocal() {
			rec.addrs = append(rec.addrs, a.Prefix)
			reqs = append(reqs, link.DelAddrRequest(l.Index, l.Name, a.Prefix))
		}
	}
	return reqs, rec
}

// restoreRequests put back on dev what rec says QuietDev changed; now is
// dev's address generation mode (it is restored only while it is still
// none, not over a mode someone chose since). The kernel does not make the
// link-local address again when address generation comes back on an up
// device, so it is added as it was.
func restoreRequests(dev *link.Link, now link.AddrGenMode, rec devRecord) []nl.Request {
	var reqs []nl.Request
	if rec.mode != link.AddrGenModeNone && now == link.AddrGenModeNone {
		reqs = append(reqs, link.SetAddrGenModeRequest(dev.Index, dev.Name, rec.mode))
	}
	for _, p := range rec.addrs {
		reqs = append(reqs, link.AddAddrRequest(dev.Index, dev.Name, p))
	}
	return reqs
}

// ipv6Addrs reads l's IPv6 addresses when want says they are needed.
func ipv6Addrs(c *nl.Conn, l *link.Link, want bool) ([]*link.Addr, error) {
	if !want || l == nil {
		return nil, nil
	}
	return link.AddrsOf(c, l, unix.AF_INET6)
}

// quietProblems lists how l still speaks: for Check.
func quietProblems(l *link.Link, addrs []*link.Addr) []Problem {
	var ps []Problem
	if l.Inet6 != nil && l.Inet6.AddrGenMode != link.AddrGenModeNone {
		ps = append(ps, Problem{l.Name, fmt.Sprintf("%s generates IPv6 addresses (addrgenmode %s)", l.Name, l.Inet6.AddrGenMode)})
	}
	for _, a := range addrs {
		if a.LinkLocal() {
			ps = append(ps, Problem{l.Name, fmt.Sprintf("%s has the link-local address %s", l.Name, a.Prefix)})
		}
	}
	return ps
}
