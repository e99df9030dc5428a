package tuntap

import (
	"math"

	"golang.org/x/sys/unix"
)

// TUNSETIFF flags (ifr_flags), named as in <linux/if_tun.h>. Values come from
// golang.org/x/sys/unix so they stay right on every architecture.
const (
	// IFF_TUN makes a layer-3 device (IP packets, no Ethernet header).
	IFF_TUN = unix.IFF_TUN
	// IFF_TAP makes a layer-2 device (Ethernet frames); what VMMs use.
	IFF_TAP = unix.IFF_TAP
	// IFF_NAPI makes the kernel feed frames written to the fd through NAPI.
	IFF_NAPI = unix.IFF_NAPI
	// IFF_NAPI_FRAGS is IFF_NAPI with frags-based buffers (testing aid).
	IFF_NAPI_FRAGS = unix.IFF_NAPI_FRAGS
	// IFF_NO_CARRIER brings the device up without carrier (Linux 6.0+);
	// SetCarrier(true) turns it on later.
	IFF_NO_CARRIER = unix.IFF_NO_CARRIER
	// IFF_NO_PI drops the 4-byte struct tun_pi that otherwise precedes every
	// frame (and the virtio-net header, when IFF_VNET_HDR is on).
	IFF_NO_PI = unix.IFF_NO_PI
	// IFF_ONE_QUEUE has had no effect for years; accepted for compatibility.
	IFF_ONE_QUEUE = unix.IFF_ONE_QUEUE
	// IFF_VNET_HDR prefixes every frame with a virtio-net header
	// (VirtioNetHdrLen bytes unless changed with TUNSETVNETHDRSZ).
	IFF_VNET_HDR = unix.IFF_VNET_HDR
	// IFF_TUN_EXCL makes TUNSETIFF fail with EBUSY when the name exists;
	// Create always sets it.
	IFF_TUN_EXCL = unix.IFF_TUN_EXCL
	// IFF_MULTI_QUEUE allows one fd per queue.
	IFF_MULTI_QUEUE = unix.IFF_MULTI_QUEUE
	// IFF_ATTACH_QUEUE is the TUNSETQUEUE flag that re-enables a queue.
	IFF_ATTACH_QUEUE = unix.IFF_ATTACH_QUEUE
	// IFF_DETACH_QUEUE is the TUNSETQUEUE flag that disables a queue; TUNGETIFF
	// also reports it on a detached queue.
	IFF_DETACH_QUEUE = unix.IFF_DETACH_QUEUE
	// IFF_PERSIST is read-only: TUNGETIFF reports it for a persistent device.
	IFF_PERSIST = unix.IFF_PERSIST
	// IFF_NOFILTER is reported by TUNGETIFF when no socket filter is attached
	// to the queue. It has the same value as IFF_NO_PI, which makes the
	// IFF_NO_PI bit of a raw TUNGETIFF answer meaningless; see Tap.Flags.
	IFF_NOFILTER = unix.IFF_NOFILTER
)

// TUNSETOFFLOAD flags, named as in <linux/if_tun.h>.
const (
	// TUN_F_CSUM: the reader accepts frames with partial checksums. Every
	// other offload needs it.
	TUN_F_CSUM = unix.TUN_F_CSUM
	// TUN_F_TSO4: the reader handles TCP segmentation offload for IPv4.
	TUN_F_TSO4 = unix.TUN_F_TSO4
	// TUN_F_TSO6: the reader handles TCP segmentation offload for IPv6.
	TUN_F_TSO6 = unix.TUN_F_TSO6
	// TUN_F_TSO_ECN: the reader handles TSO with ECN bits.
	TUN_F_TSO_ECN = unix.TUN_F_TSO_ECN
	// TUN_F_UFO: the reader handles UDP fragmentation offload.
	TUN_F_UFO = unix.TUN_F_UFO
	// TUN_F_USO4: the reader handles UDP segmentation offload for IPv4.
	TUN_F_USO4 = unix.TUN_F_USO4
	// TUN_F_USO6: the reader handles UDP segmentation offload for IPv6.
	TUN_F_USO6 = unix.TUN_F_USO6
	// TUN_F_UDP_TUNNEL_GSO: the reader handles TSO/USO of UDP-tunnelled
	// packets. From <linux/if_tun.h> (Linux 6.17+); not in x/sys/unix yet.
	TUN_F_UDP_TUNNEL_GSO = 0x080
	// TUN_F_UDP_TUNNEL_GSO_CSUM: as TUN_F_UDP_TUNNEL_GSO, with outer-header
	// checksum offload. From <linux/if_tun.h> (Linux 6.17+); not in x/sys/unix.
	TUN_F_UDP_TUNNEL_GSO_CSUM = 0x100
)

// Ioctl request numbers, named as in <linux/if_tun.h>. They differ between
// architectures (the _IOW/_IOR encoding), so they come from x/sys/unix.
const (
	TUNSETNOCSUM       = unix.TUNSETNOCSUM       // _IOW('T', 200, int)
	TUNSETDEBUG        = unix.TUNSETDEBUG        // _IOW('T', 201, int)
	TUNSETIFF          = unix.TUNSETIFF          // _IOW('T', 202, int): create or attach
	TUNSETPERSIST      = unix.TUNSETPERSIST      // _IOW('T', 203, int)
	TUNSETOWNER        = unix.TUNSETOWNER        // _IOW('T', 204, int)
	TUNSETLINK         = unix.TUNSETLINK         // _IOW('T', 205, int)
	TUNSETGROUP        = unix.TUNSETGROUP        // _IOW('T', 206, int)
	TUNGETFEATURES     = unix.TUNGETFEATURES     // _IOR('T', 207, unsigned int)
	TUNSETOFFLOAD      = unix.TUNSETOFFLOAD      // _IOW('T', 208, unsigned int)
	TUNSETTXFILTER     = unix.TUNSETTXFILTER     // _IOW('T', 209, unsigned int)
	TUNGETIFF          = unix.TUNGETIFF          // _IOR('T', 210, unsigned int)
	TUNGETSNDBUF       = unix.TUNGETSNDBUF       // _IOR('T', 211, int)
	TUNSETSNDBUF       = unix.TUNSETSNDBUF       // _IOW('T', 212, int)
	TUNATTACHFILTER    = unix.TUNATTACHFILTER    // _IOW('T', 213, struct sock_fprog)
	TUNDETACHFILTER    = unix.TUNDETACHFILTER    // _IOW('T', 214, struct sock_fprog)
	TUNGETVNETHDRSZ    = unix.TUNGETVNETHDRSZ    // _IOR('T', 215, int)
	TUNSETVNETHDRSZ    = unix.TUNSETVNETHDRSZ    // _IOW('T', 216, int)
	TUNSETQUEUE        = unix.TUNSETQUEUE        // _IOW('T', 217, int)
	TUNSETIFINDEX      = unix.TUNSETIFINDEX      // _IOW('T', 218, unsigned int)
	TUNGETFILTER       = unix.TUNGETFILTER       // _IOR('T', 219, struct sock_fprog)
	TUNSETVNETLE       = unix.TUNSETVNETLE       // _IOW('T', 220, int)
	TUNGETVNETLE       = unix.TUNGETVNETLE       // _IOR('T', 221, int)
	TUNSETVNETBE       = unix.TUNSETVNETBE       // _IOW('T', 222, int)
	TUNGETVNETBE       = unix.TUNGETVNETBE       // _IOR('T', 223, int)
	TUNSETSTEERINGEBPF = unix.TUNSETSTEERINGEBPF // _IOR('T', 224, int)
	TUNSETFILTEREBPF   = unix.TUNSETFILTEREBPF   // _IOR('T', 225, int)
	TUNSETCARRIER      = unix.TUNSETCARRIER      // _IOW('T', 226, int)
	TUNGETDEVNETNS     = unix.TUNGETDEVNETNS     // _IO('T', 227)
)

// TUN_PKT_STRIP is set in struct tun_pi's flags when a read buffer was too
// small and the frame was truncated (<linux/if_tun.h>).
const TUN_PKT_STRIP = 0x0001

// Sizes that users of IFF_VNET_HDR and of the packet-information header need.
const (
	// VirtioNetHdrLen is sizeof(struct virtio_net_hdr) from
	// <linux/virtio_net.h>: the kernel's default and minimum TUNSETVNETHDRSZ.
	VirtioNetHdrLen = 10
	// VirtioNetHdrMrgRxbufLen is sizeof(struct virtio_net_hdr_mrg_rxbuf)
	// (<linux/virtio_net.h>): what virtio 1.0 and mergeable rx buffers use.
	VirtioNetHdrMrgRxbufLen = 12
	// TunPiLen is sizeof(struct tun_pi) (<linux/if_tun.h>): the header that
	// precedes every frame unless IFF_NO_PI is set.
	TunPiLen = 4
)

// MaxQueues is the kernel's MAX_TAP_QUEUES (drivers/net/tun.c, not UAPI):
// the most queues a multi-queue tun/tap device can have.
const MaxQueues = 256

// MaxID is the largest uid or gid a tap's Owner or Group can be:
// (uid_t)-1 is the kernel's "none" (INVALID_UID).
const MaxID = math.MaxUint32 - 1

// DefaultFlags is what Create uses when Config.Flags is zero: an Ethernet tap
// without packet information and with a virtio-net header, as VMMs want.
const DefaultFlags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR
