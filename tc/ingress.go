package tc

// The ingress qdisc (sch_ingress, tc's q_ingress.c): a hook with no queue
// where filters see every frame a device receives. It has no options.

// KindIngress is the ingress qdisc's TCA_KIND.
const KindIngress = "ingress"

// IngressHandle is the handle of the ingress qdisc, ffff:0; its filters
// hang from parent ffff: (or ffff:fff2, which the kernel treats alike).
const IngressHandle Handle = 0xffff0000

// Ingress is the ingress qdisc of a device, as `tc qdisc add dev DEV
// ingress` makes it.
func Ingress(ifindex int32, dev string) Qdisc {
	return Qdisc{Dev: dev, Ifindex: ifindex, Handle: IngressHandle, Parent: TC_H_INGRESS, Kind: KindIngress}
}
