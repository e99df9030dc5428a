package tcwire

import (
	"context"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// Probe tells whether this kernel can wire devices (what CNI STATUS
// answers): it does what Attach does to the kernel — an ingress qdisc and a
// u32 catch-all with a mirred redirect, on lo to itself — in a network
// namespace of its own that goes away with the probe. The kernel loads
// sch_ingress, cls_u32 and act_mirred on demand where they are modules; a
// kernel without one gives a *ModuleError naming it. It needs
// CAP_SYS_ADMIN and CAP_NET_ADMIN.
func Probe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return classify(netns.Throwaway(func(path string) error {
		c, err := nl.Dial(&nl.Config{NetNS: path})
		if err != nil {
			return err
		}
		defer c.Close()
		defer c.Bind(ctx)()
		lo, err := lookup(c, "lo")
		if err != nil {
			return err
		}
		d := devOf(lo)
		if err := c.Exec(tc.AddQdiscRequest(tc.Ingress(d.Index, d.Name))); err != nil {
			return err
		}
		req, err := tc.AddFilterRequest(tc.WireFilter(d, d, tc.IngressHandle, tc.WireOptions{}))
		if err != nil {
			return err
		}
		return c.Exec(req)
	}))
}
