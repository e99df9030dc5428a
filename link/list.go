package link

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// ListKindRequest dumps the devices of one kind ("macvtap", "bridge" …),
// as `ip link show type KIND` does: ListRequest with an IFLA_LINKINFO nest
// holding IFLA_INFO_KIND (no NUL, as ip sends it). The kernel filters the
// dump itself, so a namespace of thousands of veths answers with its few
// macvtaps only.
func ListKindRequest(kind string) nl.Request {
	r := ListRequest()
	e := nl.NewEncoder(r.Data)
	e.Nest(uapi.IFLA_LINKINFO, func(e *nl.Encoder) { e.Attr(uapi.IFLA_INFO_KIND, []byte(kind)) })
	r.Data, r.Cmd = e.Bytes(), "ip link show type "+kind
	return r
}

// ListKind returns the devices of one kind, in the kernel's order.
func ListKind(c *nl.Conn, kind string) ([]*Link, error) {
	msgs, err := c.Dump(ListKindRequest(kind))
	if err != nil {
		return nil, fmt.Errorf("link: list type %s: %w", kind, err)
	}
	out := make([]*Link, 0, len(msgs))
	for _, m := range msgs {
		l, err := ParseLink(m)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
