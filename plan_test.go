package tcwire

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// The decisions of Attach and Detach, as pure functions of what they read:
// no kernel, no root.

func veth(name string, index int32) *link.Link {
	return &link.Link{Name: name, Index: index, Kind: "veth", MTU: 1500}
}

func tapLink(name string, index int32, mod func(*link.Link)) *link.Link {
	l := &link.Link{Name: name, Index: index, Kind: link.KindTun, MTU: 1500, Flags: unix.IFF_UP, Alias: link.OwnerAlias,
		Tun: &link.TunInfo{Type: unix.IFF_TAP, VnetHdr: true, Persist: true, Owner: new(0)}}
	if mod != nil {
		mod(l)
	}
	return l
}

// wired is a hook as Attach leaves it: an ingress qdisc with the wire
// filter to target at the kernel's first pref and handle.
func wired(from tc.Dev, target tc.Dev) tc.Hook {
	f := tc.WireFilter(from, target, tc.IngressHandle, tc.WireOptions{})
	f.Pref, f.Handle, f.Kind = 0xc000, 0x80000800, tc.KindU32
	return tc.Hook{Dev: from, Qdisc: tc.KindIngress, Filters: []tc.Filter{f}}
}

func names(m map[int32]string) func(int32) string { return func(i int32) string { return m[i] } }

func cmds(p *Plan) string {
	var b strings.Builder
	for _, s := range p.Steps {
		fmt.Fprintln(&b, s.Cmd)
	}
	return b.String()
}

// decided checks a decision: the error that Is wantErr and says want, or
// the plan whose steps' commands are want. It reports whether there is a
// plan to look at further.
func decided(t *testing.T, p *Plan, err, wantErr error, want string) bool {
	t.Helper()
	if wantErr != nil {
		if !errors.Is(err, wantErr) || !strings.Contains(fmt.Sprint(err), want) {
			t.Fatalf("error %v, want one that Is %v and says %q", err, wantErr, want)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := cmds(p); got != want {
		t.Errorf("steps:\n%s\nwant:\n%s", got, want)
	}
	return true
}

func TestDecideAttach(t *testing.T) {
	eth0, tap0 := veth("eth0", 2), tapLink("tap0", 3, nil)
	d, tp := devOf(eth0), devOf(tap0)
	o := Options{Dev: "eth0", Tap: "tap0"}
	wire := "tc qdisc add dev eth0 ingress\n" +
		"tc filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev tap0\n" +
		"tc qdisc add dev tap0 ingress\n" +
		"tc filter add dev tap0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev eth0\n"
	ll := &link.Addr{Family: unix.AF_INET6, Index: 2, Prefix: netip.MustParsePrefix("fe80::1/64")}
	tapLL := &link.Addr{Family: unix.AF_INET6, Index: 3, Prefix: netip.MustParsePrefix("fe80::3/64")}
	eui := &link.Inet6Info{AddrGenMode: link.AddrGenModeEUI64}
	for _, tc := range []struct {
		name     string
		o        Options
		dev      *link.Link // eth0 unless set
		tap      *link.Link
		hooks    []tc.Hook
		devAddrs []*link.Addr
		tapAddrs []*link.Addr
		want     string // the steps' commands, or the error's text
		err      error  // errors.Is
	}{
		{name: "new tap", o: o, hooks: []tc.Hook{{Dev: d}},
			want: "ip tuntap add dev tap0 mode tap vnet_hdr user " + fmt.Sprint(unix.Geteuid()) + "   # open /dev/net/tun, TUNSETIFF(tap0, IFF_TAP|IFF_NO_PI|IFF_VNET_HDR|IFF_TUN_EXCL), TUNSETOWNER(" + fmt.Sprint(unix.Geteuid()) + ")\n" +
				"ip link set dev tap0 alias tcwire\nip link set dev tap0 mtu 1500\nip link set dev tap0 addrgenmode none\ntc qdisc add dev tap0 root noqueue\n" +
				"ioctl(TUNSETPERSIST, 1) on tap0's first queue file, then close the files: the tap outlives tcwire\nip link set dev tap0 up\n" + wire},
		{name: "new tap, kept qdisc, mtu, group", o: Options{Dev: "eth0", Tap: "tap0", KeepTapQdisc: true, MTU: 9000, Group: new(100), Queues: 2}, hooks: []tc.Hook{{Dev: d}},
			want: "ip tuntap add dev tap0 mode tap vnet_hdr multi_queue group 100   # open /dev/net/tun, TUNSETIFF(tap0, IFF_TAP|IFF_NO_PI|IFF_VNET_HDR|IFF_MULTI_QUEUE|IFF_TUN_EXCL), TUNSETGROUP(100), TUNSETIFF on 1 more files (one per queue)\n" +
				"ip link set dev tap0 alias tcwire\nip link set dev tap0 mtu 9000\nip link set dev tap0 addrgenmode none\n" +
				"ioctl(TUNSETPERSIST, 1) on tap0's first queue file, then close the files: the tap outlives tcwire\nip link set dev tap0 up\n" + wire},
		{name: "existing tap, down", o: o, tap: tapLink("tap0", 3, func(l *link.Link) { l.Flags = 0 }), hooks: []tc.Hook{{Dev: d}, {Dev: tp}},
			want: "ip link set dev tap0 up\n" + wire},
		{name: "wired already", o: o, tap: tap0, hooks: []tc.Hook{wired(d, tp), wired(tp, d)}, want: ""},
		{name: "one direction missing", o: o, tap: tap0, hooks: []tc.Hook{wired(d, tp), {Dev: tp}},
			want: "tc qdisc add dev tap0 ingress\ntc filter add dev tap0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect dev eth0\n"},
		{name: "DEV wired elsewhere", o: o, tap: tap0, hooks: []tc.Hook{wired(d, tc.Dev{Name: "tap9", Index: 9}), {Dev: tp}}, err: ErrConflict,
			want: "eth0 is wired to tap9, not tap0 (pref 49152, handle 800::800)"},
		{name: "tap wired elsewhere", o: o, tap: tap0, hooks: []tc.Hook{{Dev: d}, wired(tp, tc.Dev{Name: "eth1", Index: 4})}, err: ErrConflict,
			want: "tap0 is wired to eth1, not eth0 (pref 49152, handle 800::800)"},
		// A tap qemu recreated (script=tcwire-ifup, second start): DEV's
		// half into the old one is replaced.
		{name: "DEV into a deleted device", o: o, tap: tap0, hooks: []tc.Hook{wired(d, tc.Dev{Name: "gone", Index: 0}), {Dev: tp}},
			want: "tc qdisc del dev eth0 ingress\n" + wire},
		{name: "not a tap", o: o, tap: veth("tap0", 3), hooks: []tc.Hook{{Dev: d}, {Dev: tp}}, err: ErrNotTap, want: "tap0 is a veth device, not a tap"},
		{name: "a tun", o: o, tap: tapLink("tap0", 3, func(l *link.Link) { l.Tun.Type = unix.IFF_TUN }), hooks: []tc.Hook{{Dev: d}, {Dev: tp}}, err: ErrNotTap},
		{name: "queues", o: Options{Dev: "eth0", Tap: "tap0", Queues: 4}, tap: tap0, hooks: []tc.Hook{{Dev: d}, {Dev: tp}}, err: ErrInvalid,
			want: "tap0 exists with queues 1 (single-queue), but queues 4 was asked for"},
		{name: "owner", o: Options{Dev: "eth0", Tap: "tap0", Owner: new(7)}, tap: tap0, hooks: []tc.Hook{{Dev: d}, {Dev: tp}}, err: ErrInvalid,
			want: "tap0 exists with owner 0, but owner 7 was asked for"},
		{name: "vnet_hdr", o: Options{Dev: "eth0", Tap: "tap0", NoVnetHdr: true}, tap: tap0, hooks: []tc.Hook{{Dev: d}, {Dev: tp}}, err: ErrInvalid,
			want: "vnet_hdr on, but vnet_hdr off"},
		{name: "what agrees", o: Options{Dev: "eth0", Tap: "tap0", Queues: 1, Owner: new(0), MTU: 1500}, tap: tap0, hooks: []tc.Hook{wired(d, tp), wired(tp, d)}},
		{name: "new tap below IPv6's MTU", o: Options{Dev: "eth0", Tap: "tap0", MTU: 1000, KeepTapQdisc: true}, hooks: []tc.Hook{{Dev: d}},
			want: "ip tuntap add dev tap0 mode tap vnet_hdr user " + fmt.Sprint(unix.Geteuid()) + "   # open /dev/net/tun, TUNSETIFF(tap0, IFF_TAP|IFF_NO_PI|IFF_VNET_HDR|IFF_TUN_EXCL), TUNSETOWNER(" + fmt.Sprint(unix.Geteuid()) + ")\n" +
				"ip link set dev tap0 alias tcwire\nip link set dev tap0 mtu 1000\n" +
				"ioctl(TUNSETPERSIST, 1) on tap0's first queue file, then close the files: the tap outlives tcwire\nip link set dev tap0 up\n" + wire},
		{name: "QuietDev, new tap: the record in its alias", o: Options{Dev: "eth0", Tap: "tap0", QuietDev: true, KeepTapQdisc: true},
			dev: &link.Link{Name: "eth0", Index: 2, Kind: "veth", MTU: 1500, Inet6: eui}, hooks: []tc.Hook{{Dev: d}}, devAddrs: []*link.Addr{ll},
			want: "ip tuntap add dev tap0 mode tap vnet_hdr user " + fmt.Sprint(unix.Geteuid()) + "   # open /dev/net/tun, TUNSETIFF(tap0, IFF_TAP|IFF_NO_PI|IFF_VNET_HDR|IFF_TUN_EXCL), TUNSETOWNER(" + fmt.Sprint(unix.Geteuid()) + ")\n" +
				"ip link set dev tap0 alias 'tcwire:dev-addrgenmode=eui64 fe80::1/64'\nip link set dev tap0 mtu 1500\nip link set dev tap0 addrgenmode none\n" +
				"ioctl(TUNSETPERSIST, 1) on tap0's first queue file, then close the files: the tap outlives tcwire\nip link set dev tap0 up\n" + wire +
				"ip link set dev eth0 addrgenmode none\nip addr del fe80::1/64 dev eth0\n"},
		{name: "QuietDev, quiet already", o: Options{Dev: "eth0", Tap: "tap0", QuietDev: true}, tap: tap0,
			dev: &link.Link{Name: "eth0", Index: 2, Kind: "veth", MTU: 1500, Inet6: &link.Inet6Info{AddrGenMode: link.AddrGenModeNone}}, hooks: []tc.Hook{wired(d, tp), wired(tp, d)}},
		{name: "QuietDev, existing tcwire tap", o: Options{Dev: "eth0", Tap: "tap0", QuietDev: true}, tap: tap0,
			dev: &link.Link{Name: "eth0", Index: 2, Kind: "veth", MTU: 1500, Inet6: eui}, hooks: []tc.Hook{wired(d, tp), wired(tp, d)}, devAddrs: []*link.Addr{ll},
			want: "ip link set dev tap0 alias 'tcwire:dev-addrgenmode=eui64 fe80::1/64'\nip link set dev eth0 addrgenmode none\nip addr del fe80::1/64 dev eth0\n"},
		{name: "QuietDev, someone's tap", o: Options{Dev: "eth0", Tap: "tap0", QuietDev: true}, tap: tapLink("tap0", 3, func(l *link.Link) { l.Alias = "" }),
			hooks: []tc.Hook{{Dev: d}, {Dev: tp}}, err: ErrInvalid, want: "QuietDev: tap0 was not made by tcwire"},
		{name: "QuietTap, existing tap down", o: Options{Dev: "eth0", Tap: "tap0", QuietTap: true},
			tap: tapLink("tap0", 3, func(l *link.Link) { l.Flags, l.Inet6 = 0, eui }), hooks: []tc.Hook{{Dev: d}, {Dev: tp}}, tapAddrs: []*link.Addr{tapLL},
			want: "ip link set dev tap0 addrgenmode none\nip addr del fe80::3/64 dev tap0\nip link set dev tap0 up\n" + wire},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := eth0
			if tc.dev != nil {
				dev = tc.dev
			}
			p, err := decideAttach(tc.o, seen{dev: dev, tap: tc.tap, hooks: tc.hooks, devAddrs: tc.devAddrs, tapAddrs: tc.tapAddrs}, names(map[int32]string{2: "eth0", 3: "tap0", 4: "eth1", 9: "tap9"}))
			if !decided(t, p, err, tc.err, tc.want) {
				return
			}
			for _, s := range p.Steps {
				if s.Request != nil {
					if _, err := s.Request.MarshalBinary(); err != nil {
						t.Errorf("%s: %v", s.Cmd, err)
					}
				}
			}
		})
	}
}

func TestDecideDetach(t *testing.T) {
	eth0, tap0 := veth("eth0", 2), tapLink("tap0", 3, nil)
	d, tp := devOf(eth0), devOf(tap0)
	gone := tc.Dev{Name: "gone", Index: 0}
	mine := func(l *link.Link) { l.Alias = "" }
	for _, tc := range []struct {
		name     string
		o        Options
		dev, tap *link.Link
		hooks    []tc.Hook
		want     string
		err      error
	}{
		{name: "wired, tcwire's tap", o: Options{Dev: "eth0", Tap: "tap0"}, dev: eth0, tap: tap0, hooks: []tc.Hook{wired(d, tp), wired(tp, d)},
			want: "tc qdisc del dev eth0 ingress\ntc qdisc del dev tap0 ingress\nip link del dev tap0\n"},
		{name: "wired, someone's tap", o: Options{Dev: "eth0", Tap: "tap0"}, dev: eth0, tap: tapLink("tap0", 3, mine), hooks: []tc.Hook{wired(d, tp), wired(tp, d)},
			want: "tc qdisc del dev eth0 ingress\ntc qdisc del dev tap0 ingress\n"},
		{name: "tcwire's tap, wired to nothing", o: Options{Dev: "eth0", Tap: "tap0"}, dev: eth0, tap: tap0, hooks: []tc.Hook{{Dev: d}, {Dev: tp}},
			want: "ip link del dev tap0\n"},
		{name: "typo: DEV missing, tap wired to eth0", o: Options{Dev: "eth9", Tap: "tap0"}, tap: tap0, hooks: []tc.Hook{wired(tp, d)}, err: ErrConflict,
			want: "tap0 is wired to eth0, not eth9 (pref 49152, handle 800::800)"},
		{name: "another veth", o: Options{Dev: "eth1", Tap: "tap0"}, dev: veth("eth1", 4), tap: tap0, hooks: []tc.Hook{wired(tc.Dev{Name: "eth1", Index: 4}, tc.Dev{Name: "tap1", Index: 5}), wired(tp, d)}, err: ErrConflict,
			want: "tap0 is wired to eth0, not eth1"},
		{name: "DEV wired to another tap", o: Options{Dev: "eth0", Tap: "tap9"}, dev: eth0, hooks: []tc.Hook{wired(d, tp)}, err: ErrConflict,
			want: "eth0 is wired to tap0, not tap9"},
		{name: "tap deleted: DEV into the void", o: Options{Dev: "eth0", Tap: "tap0"}, dev: eth0, hooks: []tc.Hook{wired(d, gone)},
			want: "tc qdisc del dev eth0 ingress\n"},
		{name: "DEV deleted: the tap into the void", o: Options{Dev: "eth0", Tap: "tap0"}, tap: tap0, hooks: []tc.Hook{wired(tp, gone)},
			want: "tc qdisc del dev tap0 ingress\nip link del dev tap0\n"},
		{name: "nothing to do", o: Options{Dev: "eth0", Tap: "tap0"}, dev: eth0, hooks: []tc.Hook{{Dev: d}}, want: ""},
		{name: "QuietDev undone", o: Options{Dev: "eth0", Tap: "tap0"}, dev: &link.Link{Name: "eth0", Index: 2, Kind: "veth", Inet6: &link.Inet6Info{AddrGenMode: link.AddrGenModeNone}},
			tap: tapLink("tap0", 3, func(l *link.Link) { l.Alias = "tcwire:dev-addrgenmode=stable_secret fe80::1/64 fe80::2/64" }), hooks: []tc.Hook{wired(d, tp), wired(tp, d)},
			want: "tc qdisc del dev eth0 ingress\ntc qdisc del dev tap0 ingress\nip link set dev eth0 addrgenmode stable_secret\nip addr add fe80::1/64 dev eth0\nip addr add fe80::2/64 dev eth0\nip link del dev tap0\n"},
		{name: "QuietDev, a mode chosen since", o: Options{Dev: "eth0", Tap: "tap0"}, dev: &link.Link{Name: "eth0", Index: 2, Kind: "veth", Inet6: &link.Inet6Info{AddrGenMode: link.AddrGenModeRandom}},
			tap: tapLink("tap0", 3, func(l *link.Link) { l.Alias = "tcwire:dev-addrgenmode=eui64" }), hooks: []tc.Hook{wired(d, tp), wired(tp, d)},
			want: "tc qdisc del dev eth0 ingress\ntc qdisc del dev tap0 ingress\nip link del dev tap0\n"},
		{name: "not a tap", o: Options{Dev: "eth0", Tap: "eth1"}, dev: eth0, tap: veth("eth1", 4), hooks: []tc.Hook{{Dev: d}, {}}, err: ErrNotTap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decideDetach(tc.o, tc.dev, tc.tap, false, tc.hooks, names(map[int32]string{2: "eth0", 3: "tap0", 4: "eth1", 5: "tap1"}))
			decided(t, p, err, tc.err, tc.want)
		})
	}
}

// TestClassify: the kernel's refusals get the types callers branch on, and
// keep their errno.
func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		cmd    string
		errno  unix.Errno
		msg    string // the kernel's extended ack
		module string
		busy   bool
	}{
		{"tc qdisc add dev eth0 ingress", unix.ENOENT, "Error: Specified qdisc kind is unknown.", "sch_ingress", false},
		{"tc filter add dev eth0 parent ffff: ...", unix.ENOENT, "TC classifier not found", "cls_u32", false},
		{"tc filter add dev eth0 parent ffff: ...", unix.ENOENT, "Failed to load TC action module", "act_mirred", false},
		// A kernel without extended acks: the request tells.
		{"tc qdisc add dev eth0 ingress", unix.ENOENT, "", "sch_ingress", false},
		{"tc filter add dev eth0", unix.ENOENT, "", "cls_u32 or act_mirred", false},
		{"tc filter del dev eth0", unix.ENOENT, "Filter with specified priority/protocol not found", "", false},
		// EBUSY is permanent: a device in use.
		{"tc qdisc add dev eth0 ingress", unix.EBUSY, "", "", false},
		{"ip link set dev mvt0 master tcwbr0", unix.EBUSY, "", "", false},
		{"tc qdisc add dev eth0 ingress", unix.EAGAIN, "", "", true},
		{"tc qdisc add dev eth0 ingress", unix.EPERM, "", "", false},
	} {
		in := fmt.Errorf("wrapped: %w", &nl.Error{Cmd: tc.cmd, Err: tc.errno, Message: tc.msg})
		err := classify(in)
		var me *ModuleError
		switch {
		case tc.module != "" && (!errors.As(err, &me) || me.Module != tc.module || !errors.Is(err, ErrMissingModule) || !strings.Contains(err.Error(), "modprobe")):
			t.Errorf("%v: %v, want a ModuleError naming %s", in, err, tc.module)
		case tc.module == "" && errors.As(err, &me):
			t.Errorf("%v: %v, want no ModuleError", in, err)
		case errors.Is(err, ErrBusy) != tc.busy:
			t.Errorf("%v: busy %v, want %v", in, errors.Is(err, ErrBusy), tc.busy)
		case !errors.Is(err, tc.errno):
			t.Errorf("%v: the errno is lost: %v", in, err)
		case !tc.busy && strings.Contains(err.Error(), "try again"):
			t.Errorf("%v: %v: a permanent refusal says try again", in, err)
		case tc.errno == unix.EBUSY && strings.HasPrefix(tc.cmd, "ip link") && !strings.Contains(err.Error(), "in use"):
			t.Errorf("%v: %v: want the device called in use", in, err)
		}
	}
}

// FuzzParseRecord: a tap's alias either holds no record, or one that
// writes back to the same alias (Detach restores exactly what it reads).
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{"tcwire", "tcwire:dev-addrgenmode=eui64", "tcwire:dev-addrgenmode=eui64 fe80::1/64", "tcwire:dev-addrgenmode=random fe80::1/64 fe80::2/10", "tcwire:dev-addrgenmode=", "tcwire:dev-addrgenmode=none x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, alias string) {
		r, ok := parseRecord(alias)
		if !ok {
			return
		}
		back, ok := parseRecord(r.alias())
		if !ok || back.mode != r.mode || fmt.Sprint(back.addrs) != fmt.Sprint(r.addrs) {
			t.Fatalf("%q reads as %+v, which writes %q, which reads as %+v", alias, r, r.alias(), back)
		}
	})
}
