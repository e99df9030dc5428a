package tc

// The clsact qdisc (sch_ingress.c, tc's q_clsact.c): an ingress and an
// egress hook on one qdisc. It has the ingress qdisc's handle and parent, so
// a device has one or the other, never both.

// KindClsact is the clsact qdisc's TCA_KIND.
const KindClsact = "clsact"

// ClsactHandle is the handle of the clsact qdisc, ffff:0.
const ClsactHandle Handle = 0xffff0000

// ClsactIngress and ClsactEgress are the filter parents of clsact's hooks,
// ffff:fff2 and ffff:fff3 (`tc filter add dev DEV ingress|egress`).
const (
	ClsactIngress Handle = 0xffff0000 | TC_H_MIN_INGRESS
	ClsactEgress  Handle = 0xffff0000 | TC_H_MIN_EGRESS
)

// Clsact is the clsact qdisc of a device, as `tc qdisc add dev DEV clsact`
// makes it.
func Clsact(ifindex int32, dev string) Qdisc {
	return Qdisc{Dev: dev, Ifindex: ifindex, Handle: ClsactHandle, Parent: TC_H_CLSACT, Kind: KindClsact}
}
