package link

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// getExtMask is the IFLA_EXT_MASK iproute2 sends when it resolves a name
// (ll_link_get): VF information, no statistics.
const getExtMask = RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS

// nameAttr is the attribute a GETLINK request names a device with, as
// iproute2's ll_link_get chooses it: IFLA_IFNAME for a name the kernel
// accepts as a primary name, IFLA_ALT_IFNAME for anything longer than
// IFNAMSIZ-1 bytes or containing '/', ':' or white space.
func nameAttr(name string) uint16 {
	if len(name) == 0 || len(name) >= uapi.IFNAMSIZ || strings.ContainsAny(name, "/:"+asciiSpace) {
		return uapi.IFLA_ALT_IFNAME
	}
	return uapi.IFLA_IFNAME
}

// GetRequest asks for one device by name: RTM_GETLINK with NLM_F_REQUEST
// only, a zeroed ifinfomsg, IFLA_EXT_MASK (VF, skip stats) and the name as
// IFLA_IFNAME (or IFLA_ALT_IFNAME, see nameAttr). The bytes are those `ip`
// sends to resolve a name (ll_link_get), and the kernel's strict GETLINK
// checks accept them: ifi_type, ifi_flags and ifi_change are zero, and the
// only attributes are a name and IFLA_EXT_MASK.
func GetRequest(name string) nl.Request {
	e := nl.NewEncoder(Ifinfomsg{}.Append(nil))
	e.Uint32(uapi.IFLA_EXT_MASK, getExtMask)
	e.String(nameAttr(name), name)
	return nl.Request{Type: uapi.RTM_GETLINK, Flags: nl.NLM_F_REQUEST, Data: e.Bytes(), Cmd: "ip link show dev " + name}
}

// GetIndexRequest asks for one device by index: ifi_index set and
// IFLA_EXT_MASK as in GetRequest. These are the bytes `ip` sends to resolve
// an index to a name (ll_link_get), for instance the lower device of a
// macvtap in `ip link show`. Cmd uses iproute2's "ifN" spelling of an
// index.
func GetIndexRequest(ifindex int32) nl.Request {
	e := nl.NewEncoder(Ifinfomsg{Index: ifindex}.Append(nil))
	e.Uint32(uapi.IFLA_EXT_MASK, getExtMask)
	return nl.Request{Type: uapi.RTM_GETLINK, Flags: nl.NLM_F_REQUEST, Data: e.Bytes(), Cmd: fmt.Sprintf("ip link show dev if%d", ifindex)}
}

// ListRequest dumps every device of the namespace, as `ip link show` does:
// ifi_family AF_PACKET and IFLA_EXT_MASK RTEXT_FILTER_VF (statistics
// included).
func ListRequest() nl.Request {
	e := nl.NewEncoder(Ifinfomsg{Family: uapi.AF_PACKET}.Append(nil))
	e.Uint32(uapi.IFLA_EXT_MASK, RTEXT_FILTER_VF)
	return nl.Request{Type: uapi.RTM_GETLINK, Flags: nl.FlagsDump, Data: e.Bytes(), Cmd: "ip link show"}
}

// Lookup returns the device called name. A device that does not exist gives
// an error that names it and satisfies errors.Is(err, unix.ENODEV).
func Lookup(c *nl.Conn, name string) (*Link, error) {
	if name == "" {
		return nil, fmt.Errorf("link: empty device name: %w", syscall.ENODEV)
	}
	l, err := get(c, GetRequest(name))
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", name, err)
	}
	return l, nil
}

// LookupNames looks several devices up in one sendmsg: GetRequest with
// NLM_F_ACK added, which the kernel answers with the device (or an error),
// then an acknowledgement, so the answers can be told apart and waited
// for. links[i] is nil when names[i] does not exist (errs[i] then
// satisfies IsNotFound).
func LookupNames(c *nl.Conn, names ...string) (links []*Link, errs []error) {
	reqs := make([]nl.Request, len(names))
	for i, n := range names {
		reqs[i] = GetRequest(n)
		reqs[i].Flags |= nl.NLM_F_ACK
	}
	replies, errs := c.Query(reqs...)
	links = make([]*Link, len(names))
	for i, n := range names {
		if errs[i] == nil {
			if len(replies[i]) != 1 {
				errs[i] = fmt.Errorf("%s: %d replies: %w", reqs[i].Cmd, len(replies[i]), errNotLink)
			} else {
				links[i], errs[i] = ParseLink(replies[i][0])
			}
		}
		if errs[i] != nil {
			links[i], errs[i] = nil, fmt.Errorf("link %s: %w", n, errs[i])
		}
	}
	return links, errs
}

// LookupIndex returns the device with index ifindex. A missing device gives
// an error satisfying errors.Is(err, unix.ENODEV).
func LookupIndex(c *nl.Conn, ifindex int32) (*Link, error) {
	if ifindex <= 0 {
		return nil, fmt.Errorf("link: invalid ifindex %d: %w", ifindex, syscall.ENODEV)
	}
	l, err := get(c, GetIndexRequest(ifindex))
	if err != nil {
		return nil, fmt.Errorf("link index %d: %w", ifindex, err)
	}
	return l, nil
}

func get(c *nl.Conn, r nl.Request) (*Link, error) {
	msgs, err := c.Dump(r)
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("%s: %d replies: %w", r.Cmd, len(msgs), errNotLink)
	}
	return ParseLink(msgs[0])
}

// List returns every device of the connection's namespace, in the kernel's
// order (by index).
func List(c *nl.Conn) ([]*Link, error) {
	msgs, err := c.Dump(ListRequest())
	if err != nil {
		return nil, fmt.Errorf("link: list: %w", err)
	}
	links := make([]*Link, 0, len(msgs))
	for _, m := range msgs {
		if m.Header.Type != uapi.RTM_NEWLINK {
			continue
		}
		l, err := ParseLink(m)
		if err != nil {
			return nil, fmt.Errorf("link: list: %w", err)
		}
		links = append(links, l)
	}
	return links, nil
}

// Exists reports whether a device called name exists; errors other than
// ENODEV are returned.
func Exists(c *nl.Conn, name string) (bool, error) {
	_, err := Lookup(c, name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, syscall.ENODEV):
		return false, nil
	}
	return false, err
}

// IsNotFound reports whether err says a device does not exist (ENODEV).
func IsNotFound(err error) bool { return errors.Is(err, syscall.ENODEV) }
