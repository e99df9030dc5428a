package tcwire

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/tc"
)

// The decisions of the macvtap and bridge modes and of the mirror, as pure
// functions of what they read: no kernel, no root.

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeTC, "tc": ModeTC, "macvtap": ModeMacvtap, "bridge": ModeBridge} {
		if m, err := ParseMode(in); err != nil || m != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, m, err, want)
		}
	}
	for _, in := range []string{"TC", "macvlan", "tap", " bridge"} {
		if _, err := ParseMode(in); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", in)) {
			t.Errorf("ParseMode(%q): %v, want an error naming it", in, err)
		}
	}
}

func TestCheckMode(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string // "" for no error
	}{
		{Options{}, ""},
		{Options{Mirror: true, Queues: 4, MTU: 9000}, ""},
		{Options{Mode: ModeMacvtap, Owner: new(1), Group: new(2), Files: true, Queues: 1}, ""},
		{Options{Mode: ModeBridge, Queues: 4, MTU: 9000, NoVnetHdr: true, KeepTapQdisc: true}, ""},
		{Options{Mode: ModeMacvtap, Queues: 4}, "mode macvtap and queues 4"},
		{Options{Mode: ModeMacvtap, MTU: 9000}, "mode macvtap and mtu 9000"},
		{Options{Mode: ModeMacvtap, NoVnetHdr: true}, "mode macvtap and no-vnet-hdr"},
		{Options{Mode: ModeMacvtap, KeepTapQdisc: true}, "mode macvtap and tap-qdisc keep"},
		{Options{Mode: ModeMacvtap, Mirror: true}, "mode macvtap and mirror"},
		{Options{Mode: ModeBridge, Mirror: true}, "mode bridge and mirror"},
		{Options{Mode: "vxlan"}, `mode "vxlan"`},
		{Options{Mode: ModeBridge, Tap: "vm%d"}, "mode bridge and name vm%d"},
		{Options{Tap: "tap%d"}, "mode tc and name tap%d"},
		{Options{Mode: ModeMacvtap, QuietDev: true}, "mode macvtap and dev-addrgenmode none"},
		{Options{Mode: ModeBridge, QuietTap: true}, "mode bridge and tap-addrgenmode none"},
		{Options{QuietDev: true, QuietTap: true}, ""},
	} {
		err := tc.o.CheckMode()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.o, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid)):
			t.Errorf("%+v: %v, want an ErrInvalid saying %q", tc.o, err, tc.want)
		}
		if tc.want != "" {
			if _, err := decideAttachAny(tc.o); err == nil {
				t.Errorf("%+v: check passes what CheckMode refuses", tc.o)
			}
		}
	}
}

// decideAttachAny runs the options' check, as every entry point does.
func decideAttachAny(o Options) (*Plan, error) {
	if err := o.validateSettings(); err != nil {
		return nil, err
	}
	return &Plan{}, nil
}

func macvtapLink(name string, index, parent int32, mod func(*link.Link)) *link.Link {
	l := &link.Link{Name: name, Index: index, Kind: link.KindMacvtap, MTU: 1500, ParentIndex: parent,
		Flags: unix.IFF_UP | unix.IFF_ALLMULTI, Alias: link.OwnerAlias, Macvlan: &link.MacvlanInfo{Mode: link.ModePassthru}}
	if mod != nil {
		mod(l)
	}
	return l
}

func TestDecideMacvtapAttach(t *testing.T) {
	eth0 := veth("eth0", 2)
	d := devOf(eth0)
	o := Options{Dev: "eth0", Tap: "mvt0", Mode: ModeMacvtap}
	node := &devNode{Path: "/dev/tap5", Exists: true, Uid: 0, Gid: 0, Perm: 0o600}
	idx := fmt.Sprint(newTapIndex)
	for _, tc := range []struct {
		name   string
		o      Options
		dev    *link.Link
		hook   tc.Hook
		uppers []*link.Link
		mv     *link.Link
		node   *devNode
		want   string
		err    error
	}{
		{name: "new", o: o, hook: tc.Hook{Dev: d},
			want: "ip link add mvt0 link eth0 type macvtap mode passthru\n" +
				"mknod /dev/tap" + idx + " c MAJOR MINOR unless devtmpfs or udev made it (the numbers from /sys/dev/char); chown 0 /dev/tap" + idx + "; chmod 0600 /dev/tap" + idx + "\n" +
				"ip link set dev mvt0 alias tcwire\nip link set dev mvt0 allmulticast on\nip link set dev mvt0 up\n"},
		{name: "new, group", o: Options{Dev: "eth0", Tap: "mvt0", Mode: ModeMacvtap, Group: new(100)}, hook: tc.Hook{Dev: d},
			want: "ip link add mvt0 link eth0 type macvtap mode passthru\n" +
				"mknod /dev/tap" + idx + " c MAJOR MINOR unless devtmpfs or udev made it (the numbers from /sys/dev/char); chown :100 /dev/tap" + idx + "; chmod 0660 /dev/tap" + idx + "\n" +
				"ip link set dev mvt0 alias tcwire\nip link set dev mvt0 allmulticast on\nip link set dev mvt0 up\n"},
		{name: "as left", o: o, hook: tc.Hook{Dev: d}, mv: macvtapLink("mvt0", 5, 2, nil), node: node, want: ""},
		{name: "down, allmulticast off, node missing", o: o, hook: tc.Hook{Dev: d}, mv: macvtapLink("mvt0", 5, 2, func(l *link.Link) { l.Flags = 0 }),
			node: &devNode{Path: "/dev/tap5"},
			want: "mknod /dev/tap5 c MAJOR MINOR unless devtmpfs or udev made it (the numbers from /sys/dev/char); chown 0 /dev/tap5; chmod 0600 /dev/tap5\n" +
				"ip link set dev mvt0 allmulticast on\nip link set dev mvt0 up\n"},
		{name: "node of another owner", o: Options{Dev: "eth0", Tap: "mvt0", Mode: ModeMacvtap, Owner: new(1000)}, hook: tc.Hook{Dev: d},
			mv: macvtapLink("mvt0", 5, 2, nil), node: node,
			want: "mknod /dev/tap5 c MAJOR MINOR unless devtmpfs or udev made it (the numbers from /sys/dev/char); chown 1000 /dev/tap5; chmod 0600 /dev/tap5\n"},
		{name: "not a macvtap", o: o, hook: tc.Hook{Dev: d}, mv: tapLink("mvt0", 5, nil), err: ErrNotTap, want: "mvt0 is a tun device, not a macvtap"},
		{name: "on another device", o: o, hook: tc.Hook{Dev: d}, mv: macvtapLink("mvt0", 5, 4, nil), node: node, err: ErrConflict,
			want: "mvt0 is a macvtap on eth1, not on eth0"},
		{name: "bridge mode macvtap", o: o, hook: tc.Hook{Dev: d}, mv: macvtapLink("mvt0", 5, 2, func(l *link.Link) { l.Macvlan.Mode = link.ModeBridge }), node: node,
			err: ErrInvalid, want: "mvt0 exists with macvtap mode bridge, but macvtap mode passthru was asked for"},
		{name: "DEV wired by tc", o: o, hook: wired(d, tc.Dev{Name: "tap9", Index: 9}), err: ErrConflict,
			want: "eth0 is wired to tap9, not mvt0"},
		{name: "another macvtap on DEV", o: o, hook: tc.Hook{Dev: d}, uppers: []*link.Link{macvtapLink("mvt1", 6, 2, nil)}, err: ErrConflict,
			want: "eth0 has the macvtap mvt1 on it: macvtap mode needs it free"},
		{name: "itself on DEV", o: o, hook: tc.Hook{Dev: d}, uppers: []*link.Link{macvtapLink("mvt0", 5, 2, nil)}, mv: macvtapLink("mvt0", 5, 2, nil), node: node, want: ""},
		{name: "DEV in a bridge", o: o, dev: func() *link.Link { l := veth("eth0", 2); l.Master = 7; return l }(), hook: tc.Hook{Dev: d}, err: ErrConflict,
			want: "eth0 is a port of br7: macvtap mode needs it free"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := eth0
			if tc.dev != nil {
				dev = tc.dev
			}
			p, err := decideMacvtapAttach(tc.o, dev, tc.hook, tc.uppers, tc.mv, tc.node, names(map[int32]string{2: "eth0", 4: "eth1", 7: "br7", 9: "tap9"}), 0)
			checkDecision(t, p, err, tc.want, tc.err)
		})
	}
}

func checkDecision(t *testing.T, p *Plan, err error, want string, wantErr error) {
	t.Helper()
	if wantErr != nil {
		if !errors.Is(err, wantErr) || !strings.Contains(fmt.Sprint(err), want) {
			t.Fatalf("error %v, want one that Is %v and says %q", err, wantErr, want)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := cmds(p); got != want {
		t.Errorf("steps:\n%s\nwant:\n%s", got, want)
	}
	for _, s := range p.Steps {
		if s.Request != nil {
			if _, err := s.Request.MarshalBinary(); err != nil {
				t.Errorf("%s: %v", s.Cmd, err)
			}
		}
	}
}

func TestDecideMacvtapDetach(t *testing.T) {
	eth0 := veth("eth0", 2)
	o := Options{Dev: "eth0", Tap: "mvt0", Mode: ModeMacvtap}
	for _, tc := range []struct {
		name    string
		dev, mv *link.Link
		want    string
		err     error
	}{
		{name: "tcwire's", dev: eth0, mv: macvtapLink("mvt0", 5, 2, nil), want: "ip link del dev mvt0\n"},
		{name: "tcwire's, node made", dev: eth0, mv: macvtapLink("mvt0", 5, 2, func(l *link.Link) { l.Alias = mknodAlias }),
			want: "ip link del dev mvt0\nrm /dev/tap5   # tcwire made it with mknod\n"},
		{name: "someone's", dev: eth0, mv: macvtapLink("mvt0", 5, 2, func(l *link.Link) { l.Alias = "" }), want: ""},
		{name: "gone", dev: eth0, want: ""},
		{name: "DEV gone", mv: macvtapLink("mvt0", 5, 2, nil), want: "ip link del dev mvt0\n"},
		{name: "on another device", dev: eth0, mv: macvtapLink("mvt0", 5, 4, nil), err: ErrConflict, want: "mvt0 is a macvtap on eth1, not on eth0"},
		{name: "a tap", dev: eth0, mv: tapLink("mvt0", 5, nil), err: ErrNotTap, want: "not a macvtap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decideMacvtapDetach(o, tc.dev, tc.mv, false, names(map[int32]string{2: "eth0", 4: "eth1"}))
			checkDecision(t, p, err, tc.want, tc.err)
		})
	}
}

func TestBridgeName(t *testing.T) {
	for in, want := range map[string]string{"vm0": "br-vm0", "abcdefghijkl": "br-abcdefghijkl"} {
		if got := BridgeName(in); got != want {
			t.Errorf("BridgeName(%q) = %q, want %q", in, got, want)
		}
	}
	// Long names: unique among taps that share a prefix, valid, never a
	// multi-byte character cut in half.
	seen := map[string]string{}
	for _, in := range []string{"abcdefghijklm", "abcdefghijklmn", "abcdefghijklmno", "tap0123456789", "tap0123456780",
		"vm-très-long-01", "vm-très-long-02", "ééééééé", "éééééééa", "日本語のタップ", "日本語のタッ", "x日本語のタップ"} {
		got := BridgeName(in)
		if err := link.CheckName(got); err != nil || !utf8.ValidString(got) || !strings.HasPrefix(got, "br-") {
			t.Errorf("BridgeName(%q) = %q: %v, valid UTF-8 %v", in, got, err, utf8.ValidString(got))
		}
		if other, ok := seen[got]; ok {
			t.Errorf("BridgeName(%q) = BridgeName(%q) = %q", in, other, got)
		}
		seen[got] = in
		if BridgeName(in) != got {
			t.Errorf("BridgeName(%q) is not stable", in)
		}
	}
	r := bridgeRecord{Dev: "eth0", Tap: "vm0", DevMTU: 9000, DevUp: true}
	if got, ok := parseBridgeAlias(r.alias()); !ok || got != r {
		t.Errorf("alias %q reads back as %+v, %v", r.alias(), got, ok)
	}
	for _, a := range []string{"", "tcwire", "tcwire:bridge dev=eth0", "tcwire:bridge dev=eth0 tap=vm0 mtu=x up=1"} {
		if _, ok := parseBridgeAlias(a); ok {
			t.Errorf("alias %q reads as a record", a)
		}
	}
}

func bridgeLink(name string, index int32, rec bridgeRecord) *link.Link {
	return &link.Link{Name: name, Index: index, Kind: link.KindBridge, MTU: 1500, Flags: unix.IFF_UP, Alias: rec.alias(),
		Bridge: &link.BridgeInfo{GroupFwdMask: GroupFwdMask}}
}

func TestDecideBridgeAttach(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	eth0 := veth("eth0", 2)
	eth0.MAC, eth0.Flags = mac, unix.IFF_UP
	d := devOf(eth0)
	o := Options{Dev: "eth0", Tap: "vm0", Mode: ModeBridge}
	rec := bridgeRecord{Dev: "eth0", Tap: "vm0", DevMTU: 1500, DevUp: true}
	br := bridgeLink("br-vm0", 6, rec)
	joined := func(l *link.Link) *link.Link { c := *l; c.Master = 6; return &c }
	port := func(l *link.Link) *link.Link {
		c := joined(l)
		c.PortKind, c.Port = link.KindBridge, &link.BridgePort{State: 3}
		return c
	}
	fdb := []*link.FDBEntry{{Ifindex: 5, State: unix.NUD_NOARP | unix.NUD_REACHABLE, MAC: mac, Master: 6}}
	euid := fmt.Sprint(unix.Geteuid())
	for _, tc := range []struct {
		name string
		r    bridgeRead
		want string
		err  error
	}{
		{name: "new", r: bridgeRead{dev: eth0, devHook: tc.Hook{Dev: d}},
			want: "ip link add br-vm0 type bridge\n" +
				"ip link set dev br-vm0 alias 'tcwire:bridge dev=eth0 tap=vm0 mtu=1500 up=1'\n" +
				"ip link set dev br-vm0 type bridge group_fwd_mask 0xfff8\nip link set dev br-vm0 addrgenmode none\nip link set dev br-vm0 up\n" +
				"ip tuntap add dev vm0 mode tap vnet_hdr user " + euid + "   # open /dev/net/tun, TUNSETIFF(vm0, IFF_TAP|IFF_NO_PI|IFF_VNET_HDR|IFF_TUN_EXCL), TUNSETOWNER(" + euid + ")\n" +
				"ip link set dev vm0 alias tcwire\nip link set dev vm0 mtu 1500\nip link set dev vm0 addrgenmode none\ntc qdisc add dev vm0 root noqueue\n" +
				"ioctl(TUNSETPERSIST, 1) on vm0's first queue file, then close the files: the tap outlives tcwire\nip link set dev vm0 up\n" +
				"ip link set dev vm0 master br-vm0\nbridge link set dev vm0 flood off learning off\nip link set dev eth0 master br-vm0\n" +
				"bridge fdb replace 02:00:00:00:00:01 dev vm0 master static\n"},
		{name: "as left", r: bridgeRead{dev: joined(eth0), devHook: tc.Hook{Dev: d}, tap: port(tapLink("vm0", 5, nil)), br: br, fdb: fdb}, want: ""},
		{name: "FDB entry gone, port learning", r: bridgeRead{dev: joined(eth0), devHook: tc.Hook{Dev: d},
			tap: func() *link.Link { l := port(tapLink("vm0", 5, nil)); l.Port.Learning = true; return l }(), br: br},
			want: "bridge link set dev vm0 flood off learning off\nbridge fdb replace 02:00:00:00:00:01 dev vm0 master static\n"},
		{name: "DEV left the bridge", r: bridgeRead{dev: eth0, devHook: tc.Hook{Dev: d}, tap: port(tapLink("vm0", 5, nil)), br: br, fdb: fdb},
			want: "ip link set dev eth0 master br-vm0\nbridge fdb replace 02:00:00:00:00:01 dev vm0 master static\n"},
		{name: "bridge down, mask", r: bridgeRead{dev: joined(eth0), devHook: tc.Hook{Dev: d}, tap: port(tapLink("vm0", 5, nil)), fdb: fdb,
			br: func() *link.Link { l := bridgeLink("br-vm0", 6, rec); l.Flags = 0; l.Bridge.GroupFwdMask = 0; return l }()},
			want: "ip link set dev br-vm0 type bridge group_fwd_mask 0xfff8\nip link set dev br-vm0 up\n"},
		{name: "existing tap", r: bridgeRead{dev: eth0, devHook: tc.Hook{Dev: d}, tap: tapLink("vm0", 5, func(l *link.Link) { l.Flags = 0 }), br: br},
			want: "ip link set dev vm0 up\nip link set dev vm0 master br-vm0\nbridge link set dev vm0 flood off learning off\nip link set dev eth0 master br-vm0\n" +
				"bridge fdb replace 02:00:00:00:00:01 dev vm0 master static\n"},
		{name: "someone's bridge", r: bridgeRead{dev: eth0, devHook: tc.Hook{Dev: d}, br: func() *link.Link { l := bridgeLink("br-vm0", 6, rec); l.Alias = ""; return l }()},
			err: ErrConflict, want: "br-vm0 is a bridge tcwire did not make"},
		{name: "a bridge for others", r: bridgeRead{dev: eth0, devHook: tc.Hook{Dev: d}, br: bridgeLink("br-vm0", 6, bridgeRecord{Dev: "eth1", Tap: "vm0", DevMTU: 1500})},
			err: ErrConflict, want: "br-vm0 is tcwire's bridge for eth1 and vm0, not eth0 and vm0"},
		{name: "not a bridge", r: bridgeRead{dev: eth0, devHook: tc.Hook{Dev: d}, br: veth("br-vm0", 6)}, err: ErrConflict, want: "br-vm0 is a veth device, not a bridge"},
		{name: "DEV in another bridge", r: bridgeRead{dev: func() *link.Link { l := veth("eth0", 2); l.Master = 7; return l }(), devHook: tc.Hook{Dev: d}},
			err: ErrConflict, want: "eth0 is a port of br7"},
		{name: "DEV wired", r: bridgeRead{dev: eth0, devHook: wired(d, tc.Dev{Name: "tap9", Index: 9})}, err: ErrConflict, want: "eth0 is wired to tap9"},
		{name: "a macvtap on DEV", r: bridgeRead{dev: eth0, devHook: tc.Hook{Dev: d}, uppers: []*link.Link{macvtapLink("mv0", 8, 2, nil)}}, err: ErrConflict,
			want: "eth0 has the macvtap mv0 on it: bridge mode needs it free"},
		{name: "tap not a tap", r: bridgeRead{dev: eth0, devHook: tc.Hook{Dev: d}, tap: veth("vm0", 5)}, err: ErrNotTap},
		{name: "tap in another bridge", r: bridgeRead{dev: eth0, devHook: tc.Hook{Dev: d}, tap: tapLink("vm0", 5, func(l *link.Link) { l.Master = 7 })},
			err: ErrConflict, want: "vm0 is a port of br7, not of br-vm0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decideBridgeAttach(o, tc.r, names(map[int32]string{2: "eth0", 5: "vm0", 6: "br-vm0", 7: "br7", 9: "tap9"}))
			checkDecision(t, p, err, tc.want, tc.err)
		})
	}
}

func TestDecideBridgeDetach(t *testing.T) {
	eth0 := veth("eth0", 2)
	eth0.Flags = unix.IFF_UP
	o := Options{Dev: "eth0", Tap: "vm0", Mode: ModeBridge}
	rec := bridgeRecord{Dev: "eth0", Tap: "vm0", DevMTU: 1500, DevUp: true}
	br := bridgeLink("br-vm0", 6, rec)
	in := func(l *link.Link) *link.Link { c := *l; c.Master = 6; return &c }
	for _, tc := range []struct {
		name         string
		dev, tap, br *link.Link
		want         string
		err          error
	}{
		{name: "as attach left it", dev: in(eth0), tap: in(tapLink("vm0", 5, nil)), br: br,
			want: "ip link set dev eth0 nomaster\nip link del dev vm0\nip link del dev br-vm0\n"},
		{name: "DEV's MTU and state changed meanwhile", dev: func() *link.Link { l := in(eth0); l.MTU, l.Flags = 1400, 0; return l }(), tap: in(tapLink("vm0", 5, nil)), br: br,
			want: "ip link set dev eth0 nomaster\nip link set dev eth0 mtu 1500\nip link set dev eth0 up\nip link del dev vm0\nip link del dev br-vm0\n"},
		{name: "someone's tap", dev: in(eth0), tap: in(tapLink("vm0", 5, func(l *link.Link) { l.Alias = "" })), br: br,
			want: "ip link set dev eth0 nomaster\nip link set dev vm0 nomaster\nip link del dev br-vm0\n"},
		{name: "bridge gone, tcwire's tap", dev: eth0, tap: tapLink("vm0", 5, nil), want: "ip link del dev vm0\n"},
		{name: "DEV gone with its container", tap: in(tapLink("vm0", 5, nil)), br: br, want: "ip link del dev vm0\nip link del dev br-vm0\n"},
		{name: "nothing left", dev: eth0, want: ""},
		{name: "someone's bridge", dev: in(eth0), br: func() *link.Link { l := bridgeLink("br-vm0", 6, rec); l.Alias = "x"; return l }(), err: ErrConflict, want: "br-vm0"},
		{name: "tap in another bridge", dev: eth0, tap: tapLink("vm0", 5, func(l *link.Link) { l.Master = 7 }), err: ErrConflict, want: "vm0 is a port of another bridge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decideBridgeDetach(o, tc.dev, tc.tap, tc.br, false)
			checkDecision(t, p, err, tc.want, tc.err)
		})
	}
}

func mirrored(from, target tc.Dev) tc.Hook {
	f := mirrorFilter(from, target, tc.IngressHandle)
	f.Pref, f.Handle, f.Kind = 0xc000, 0x80000800, tc.KindU32
	return tc.Hook{Dev: from, Qdisc: tc.KindIngress, Filters: []tc.Filter{f}}
}

func TestDecideMirror(t *testing.T) {
	eth0, tap0 := veth("eth0", 2), tapLink("tap0", 3, nil)
	d, tp := devOf(eth0), devOf(tap0)
	o := Options{Dev: "eth0", Tap: "tap0", Mirror: true}
	for _, tc := range []struct {
		name string
		tap  *link.Link
		hook tc.Hook
		want string
		err  error
	}{
		{name: "existing tap", tap: tap0, hook: tc.Hook{Dev: d},
			want: "tc qdisc add dev eth0 ingress\ntc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress mirror dev tap0\n"},
		{name: "clsact", tap: tap0, hook: tc.Hook{Dev: d, Qdisc: tc.KindClsact},
			want: "tc filter add dev eth0 ingress protocol all u32 match u8 0 0 action mirred egress mirror dev tap0\n"},
		{name: "mirrored already", tap: tap0, hook: mirrored(d, tp), want: ""},
		{name: "wired", tap: tap0, hook: wired(d, tp), err: ErrConflict, want: "eth0 is wired to tap0 (redirected, not mirrored)"},
		{name: "wired elsewhere", tap: tap0, hook: wired(d, tc.Dev{Name: "tap9", Index: 9}), err: ErrConflict, want: "eth0 is wired to tap9, not tap0"},
		{name: "a mirror elsewhere stays", tap: tap0, hook: mirrored(d, tc.Dev{Name: "tap9", Index: 9}),
			want: "tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress mirror dev tap0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decideMirror(o, eth0, tc.tap, tc.hook, names(map[int32]string{2: "eth0", 3: "tap0", 9: "tap9"}))
			checkDecision(t, p, err, tc.want, tc.err)
		})
	}
	// Detach removes the mirror with the tap.
	p, err := decideDetach(Options{Dev: "eth0", Tap: "tap0"}, eth0, tap0, false, []tc.Hook{mirrored(d, tp), {Dev: tp}}, names(nil))
	checkDecision(t, p, err, "tc qdisc del dev eth0 ingress\nip link del dev tap0\n", nil)
	h := mirrored(d, tp)
	h.Filters = append(h.Filters, wired(d, tc.Dev{Name: "x", Index: 9}).Filters[0])
	h.Filters[1].Pref = 0xbfff
	p, err = decideDetach(Options{Dev: "eth0", Tap: "tap0"}, eth0, nil, false, []tc.Hook{mirrored(d, tc.Dev{Name: "gone"})}, names(nil))
	checkDecision(t, p, err, "tc qdisc del dev eth0 ingress\n", nil)
	if got := unmirrorRequests(h, 3); len(got) != 1 || got[0].Cmd != "tc filter del dev eth0 parent ffff: pref 49152 handle 800::800 protocol all u32" {
		t.Errorf("unmirror next to another filter: %v", got)
	}
}

// FuzzBridgeAlias: the record a bridge's alias holds reads back as written,
// and any alias either reads as a record that writes back to an alias
// reading the same, or as none; never a panic.
func FuzzBridgeAlias(f *testing.F) {
	f.Add(bridgeRecord{Dev: "eth0", Tap: "vm0", DevMTU: 1500, DevUp: true}.alias())
	f.Add("tcwire:bridge dev=eth0 tap=vm0 mtu=9000 up=0 extra=1")
	f.Add("tcwire:bridge dev= tap=x mtu=1 up=1")
	f.Add("tcwire")
	f.Fuzz(func(t *testing.T, alias string) {
		r, ok := parseBridgeAlias(alias)
		if !ok {
			return
		}
		if r.Dev == "" || r.Tap == "" {
			t.Fatalf("%q reads as %+v, a record without devices", alias, r)
		}
		if strings.ContainsAny(r.Dev+r.Tap, " \t\n") {
			return // not a device name: no alias tcwire writes
		}
		back, ok := parseBridgeAlias(r.alias())
		if !ok || back != r {
			t.Fatalf("%q reads as %+v, whose alias %q reads as %+v, %v", alias, r, r.alias(), back, ok)
		}
	})
}

// TestModeOf: Detach and Check take the mode from the kernel, and refuse
// one given that contradicts it, naming both.
func TestModeOf(t *testing.T) {
	eth0 := tapLink("eth0", 2, func(l *link.Link) { l.Kind = "veth"; l.Tun = nil })
	mv := macvtapLink("mv0", 5, 2, nil)
	tap := tapLink("tap0", 3, nil)
	port := tapLink("tap0", 3, func(l *link.Link) { l.Master = 6 })
	br := &link.Link{Name: "br-tap0", Index: 6, Kind: link.KindBridge, Alias: bridgeRecord{Dev: "eth0", Tap: "tap0"}.alias()}
	for _, c := range []struct {
		name         string
		o            Options
		dev, tap, br *link.Link
		want         Mode
		err          string
	}{
		{"a macvtap", Options{Dev: "eth0", Tap: "mv0"}, eth0, mv, nil, ModeMacvtap, ""},
		{"a bridge's tap", Options{Dev: "eth0", Tap: "tap0"}, eth0, port, br, ModeBridge, ""},
		{"the bridge alone", Options{Dev: "eth0", Tap: "tap0"}, eth0, nil, br, ModeBridge, ""},
		{"a tap", Options{Dev: "eth0", Tap: "tap0"}, eth0, tap, nil, ModeTC, ""},
		{"nothing: the options'", Options{Dev: "eth0", Tap: "tap0", Mode: ModeBridge}, eth0, nil, nil, ModeBridge, ""},
		{"tc given, a macvtap", Options{Dev: "eth0", Tap: "mv0", Mode: ModeTC}, eth0, mv, nil, "", "mv0 is a macvtap (mode macvtap), not a tap (mode tc)"},
		{"macvtap given, a tap", Options{Dev: "eth0", Tap: "tap0", Mode: ModeMacvtap}, eth0, tap, nil, "", "tap0 is a tap (mode tc), not a macvtap (mode macvtap)"},
	} {
		m, err := modeOf(c.o, c.dev, c.tap, c.br)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err || !errors.Is(err, ErrInvalid)):
			t.Errorf("%s: %v, want %q", c.name, err, c.err)
		case c.err == "" && (err != nil || m != c.want):
			t.Errorf("%s: %v %v, want %v", c.name, m, err, c.want)
		}
	}
}

// FuzzBridgeName: for every name the kernel takes, the bridge's name is one
// it takes too, the same each time, and valid UTF-8 when the tap's is.
func FuzzBridgeName(f *testing.F) {
	for _, s := range []string{"vm0", "abcdefghijklmno", "vm-très-long-01", "日本語のタップ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tap string) {
		if link.CheckName(tap) != nil {
			return
		}
		got := BridgeName(tap)
		if err := link.CheckName(got); err != nil || got != BridgeName(tap) || utf8.ValidString(tap) && !utf8.ValidString(got) {
			t.Fatalf("BridgeName(%q) = %q (%v)", tap, got, err)
		}
	})
}
