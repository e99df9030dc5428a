package link

// TapHeld reports whether a process holds the tun/tap device l open (a
// VMM's queue file is attached to it): deleting it would take the device
// from under that process. A multi-queue device reports its attached
// queues (IFLA_TUN_NUM_QUEUES, and IFLA_TUN_NUM_DISABLED_QUEUES for those
// detached with IFF_DETACH_QUEUE, whose files are still open); a
// single-queue one reports neither, and has carrier exactly while a file
// is attached (tun_attach turns it on, the last detach off; checked on
// 6.18). A device that is no tun/tap is not one.
func TapHeld(l *Link) bool {
	if l == nil || l.Kind != KindTun || l.Tun == nil {
		return false
	}
	if l.Tun.MultiQueue {
		return l.Tun.NumQueues+l.Tun.NumDisabledQueues > 0
	}
	return l.Carrier
}
