package link

import "testing"

// TestTapHeld: what the kernel reports of a tun/tap says whether a file is
// attached: the queue counts of a multi-queue device, the carrier of a
// single-queue one; nothing else is a held tap.
func TestTapHeld(t *testing.T) {
	for _, c := range []struct {
		name string
		l    *Link
		want bool
	}{
		{"nil", nil, false},
		{"veth with carrier", &Link{Kind: "veth", Carrier: true}, false},
		{"single-queue, carrier", &Link{Kind: KindTun, Carrier: true, Tun: &TunInfo{Type: 2}}, true},
		{"single-queue, no carrier", &Link{Kind: KindTun, Tun: &TunInfo{Type: 2, Persist: true}}, false},
		{"multi-queue, 2 queues", &Link{Kind: KindTun, Tun: &TunInfo{Type: 2, MultiQueue: true, NumQueues: 2}}, true},
		{"multi-queue, 1 disabled", &Link{Kind: KindTun, Tun: &TunInfo{Type: 2, MultiQueue: true, NumDisabledQueues: 1}}, true},
		{"multi-queue, none (carrier left on)", &Link{Kind: KindTun, Carrier: true, Tun: &TunInfo{Type: 2, MultiQueue: true}}, false},
		{"tun without IFLA_INFO_DATA", &Link{Kind: KindTun, Carrier: true}, false},
	} {
		if got := TapHeld(c.l); got != c.want {
			t.Errorf("%s: TapHeld = %v, want %v", c.name, got, c.want)
		}
	}
}
