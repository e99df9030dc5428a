package tuntap

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// These tests need no privileges: every case is rejected before a syscall.

func TestCreateRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error
	}{
		{"name too long", Config{Name: "abcdefghijklmnop"}, `device name "abcdefghijklmnop" is 16 bytes, longer than IFNAMSIZ-1 (15)`},
		{"name slash", Config{Name: "a/b"}, `device name "a/b" contains '/'`},
		{"name colon", Config{Name: "a:b"}, `device name "a:b" contains ':'`},
		{"name space", Config{Name: "a b"}, `device name "a b" contains white space`},
		{"name tab", Config{Name: "a\tb"}, `device name "a\tb" contains white space`},
		{"name newline", Config{Name: "ab\n"}, `contains white space`},
		{"name NUL", Config{Name: "a\x00b"}, `contains a NUL byte`},
		{"name vertical tab", Config{Name: "a\vb"}, `contains white space`},
		{"name 0xa0", Config{Name: "a\u00a0b"}, `contains white space`}, // the kernel's isspace(0xa0)
		{"name dot", Config{Name: "."}, `device name "." is not allowed`},
		{"name dotdot", Config{Name: ".."}, `device name ".." is not allowed`},
		{"queues negative", Config{Queues: -1}, `Queues -1 is negative`},
		{"queues too many", Config{Queues: MaxQueues + 1}, `Queues 257 is more than the kernel's maximum of 256`},
		{"owner negative", Config{Owner: new(-2)}, `Owner -2 is negative (nil means unset)`},
		{"owner -1", Config{Owner: new(-1)}, `Owner -1 is negative (nil means unset)`},
		{"group negative", Config{Group: new(-5)}, `Group -5 is negative`},
		{"owner too big", Config{Owner: new(1 << 32)}, `Owner 4294967296 is not a valid 32-bit id`},
		{"owner uid_t -1", Config{Owner: new(1<<32 - 1)}, `not a valid 32-bit id`},
		{"unknown flag", Config{Flags: IFF_TAP | 0x0080}, `unknown flags 0x0080`},
		{"unknown flags", Config{Flags: IFF_TAP | IFF_NO_PI | 0x000c}, `Flags 0x100e: unknown flags 0x000c`},
		{"persist flag", Config{Flags: IFF_TAP | IFF_PERSIST}, `IFF_PERSIST is read-only; set Config.Persist`},
		{"attach flag", Config{Flags: IFF_TAP | IFF_ATTACH_QUEUE}, `TUNSETQUEUE flags`},
		{"detach flag", Config{Flags: IFF_TAP | IFF_DETACH_QUEUE}, `TUNSETQUEUE flags`},
		{"tun and tap", Config{Flags: IFF_TUN | IFF_TAP}, `exactly one of IFF_TUN and IFF_TAP`},
		{"neither tun nor tap", Config{Flags: IFF_NO_PI | IFF_VNET_HDR}, `exactly one of IFF_TUN and IFF_TAP`},
		{"vnet size negative", Config{VnetHdrSize: -1}, `VnetHdrSize -1 is negative`},
		{"vnet size small", Config{VnetHdrSize: 8}, `VnetHdrSize 8 is less than sizeof(struct virtio_net_hdr) (10)`},
		{"vnet size without vnet_hdr", Config{Flags: IFF_TAP | IFF_NO_PI, VnetHdrSize: 12}, `VnetHdrSize 12 needs IFF_VNET_HDR`},
		{"netns dotdot", Config{NetNS: ".."}, `invalid network namespace name ".."`},
		{"netns NUL", Config{NetNS: "x\x00"}, `network namespace "x\x00" contains a NUL byte`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tap, err := Create(tc.cfg)
			if err == nil {
				tap.Close()
				t.Fatalf("Create(%+v) succeeded", tc.cfg)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "tuntap: invalid configuration: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		wantFlags  uint16
		wantQueues int
	}{
		{"defaults", Config{}, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, 1},
		{"15-byte name", Config{Name: "abcdefghijklmno"}, DefaultFlags, 1},
		{"kernel numbering", Config{Name: "vm%d"}, DefaultFlags, 1},
		{"no vnet_hdr", Config{Flags: IFF_TAP | IFF_NO_PI}, IFF_TAP | IFF_NO_PI, 1},
		{"with pi", Config{Flags: IFF_TAP | IFF_VNET_HDR}, IFF_TAP | IFF_VNET_HDR, 1},
		{"one_queue kept", Config{Flags: DefaultFlags | IFF_ONE_QUEUE}, DefaultFlags | IFF_ONE_QUEUE, 1},
		{"excl dropped", Config{Flags: DefaultFlags | IFF_TUN_EXCL}, DefaultFlags, 1},
		{"tun", Config{Flags: IFF_TUN | IFF_NO_PI}, IFF_TUN | IFF_NO_PI, 1},
		{"queues 4 adds multi_queue", Config{Queues: 4}, DefaultFlags | IFF_MULTI_QUEUE, 4},
		{"queues max", Config{Queues: MaxQueues}, DefaultFlags | IFF_MULTI_QUEUE, MaxQueues},
		{"one queue, multi_queue asked", Config{Flags: DefaultFlags | IFF_MULTI_QUEUE}, DefaultFlags | IFF_MULTI_QUEUE, 1},
		{"unset ids", Config{Owner: nil, Group: nil}, DefaultFlags, 1},
		{"root ids", Config{Owner: new(0), Group: new(0)}, DefaultFlags, 1},
		{"largest id", Config{Owner: new(1<<32 - 2)}, DefaultFlags, 1},
		{"vnet size 12", Config{VnetHdrSize: 12}, DefaultFlags, 1},
		{"netns path", Config{NetNS: "/proc/1/ns/net"}, DefaultFlags, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flags, queues, err := tc.cfg.plan()
			if err != nil {
				t.Fatal(err)
			}
			if flags != tc.wantFlags || queues != tc.wantQueues {
				t.Errorf("plan() = %#04x, %d; want %#04x, %d", flags, queues, tc.wantFlags, tc.wantQueues)
			}
		})
	}
}

func TestOpenDeleteRejectInvalidArguments(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"open empty name", open(OpenConfig{Name: ""}), `empty device name`},
		{"open long name", open(OpenConfig{Name: "abcdefghijklmnop"}), `longer than IFNAMSIZ-1`},
		{"open pattern-free slash", open(OpenConfig{Name: "x/y"}), `contains '/'`},
		{"open negative queues", open(OpenConfig{Name: "tap0", Queues: -1}), `Queues -1: want 0 to 256`},
		{"open too many queues", open(OpenConfig{Name: "tap0", Queues: 257}), `Queues 257`},
		{"open bad netns", open(OpenConfig{Name: "tap0", NetNS: ".."}), `network namespace name ".."`},
		{"open unknown flags", open(OpenConfig{Name: "tap0", Flags: IFF_TAP | 0x0004}), `unknown flags 0x0004`},
		{"delete empty name", Delete("", "x"), `empty device name`},
		{"delete dot", Delete(".", ""), `device name "." is not allowed`},
		{"delete bad netns", Delete("tap0", "."), `network namespace name "."`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, ErrInvalid) || !strings.Contains(tc.err.Error(), tc.want) {
				t.Errorf("error %v, want ErrInvalid containing %q", tc.err, tc.want)
			}
		})
	}
}

func open(cfg OpenConfig) error {
	tap, err := Open(cfg)
	if err == nil {
		tap.Close()
	}
	return err
}

// A namespace that does not exist fails before any device is made, and needs
// no privileges to find out.
func TestMissingNetNS(t *testing.T) {
	_, err := Create(Config{Name: "tap0", NetNS: "tcwire-no-such-netns"})
	if !errors.Is(err, unix.ENOENT) {
		t.Fatalf("error %v, want ENOENT", err)
	}
	const want = `tuntap: create tap0: network namespace "tcwire-no-such-netns": open /run/netns/tcwire-no-such-netns: no such file or directory`
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	err = Delete("tap0", "/nonexistent/netns")
	if !errors.Is(err, unix.ENOENT) || !strings.Contains(err.Error(), `tuntap: delete tap0: network namespace "/nonexistent/netns": open /nonexistent/netns`) {
		t.Errorf("Delete: %v", err)
	}
}

func TestIoctlErrorText(t *testing.T) {
	tests := []struct {
		op, name, ioctl string
		errno           unix.Errno
		want            string
	}{
		{"create", "tap0", "TUNSETIFF", unix.EBUSY, "tuntap: create tap0: TUNSETIFF: device or resource busy (a device with this name already exists)"},
		{"create", "tap0", "TUNSETIFF", unix.EPERM, "tuntap: create tap0: TUNSETIFF: operation not permitted (CAP_NET_ADMIN is needed)"},
		{"open", "tap0", "TUNSETIFF", unix.EPERM, "tuntap: open tap0: TUNSETIFF: operation not permitted (CAP_NET_ADMIN is needed, unless the caller is the device's owner or in its group)"},
		{"open", "tap0", "TUNSETIFF", unix.EBUSY, "tuntap: open tap0: TUNSETIFF: device or resource busy (a single-queue device already has a file attached)"},
		{"create", "tap0", "TUNSETPERSIST", unix.EPERM, "tuntap: create tap0: TUNSETPERSIST: operation not permitted (CAP_NET_ADMIN is needed)"},
		{"", "tap0", "TUNSETOFFLOAD", unix.EINVAL, "tuntap: tap0: TUNSETOFFLOAD: invalid argument"},
	}
	for _, tc := range tests {
		err := ioctlError(tc.op, tc.name, tc.ioctl, tc.errno)
		if err.Error() != tc.want {
			t.Errorf("got  %q\nwant %q", err, tc.want)
		}
		if !errors.Is(err, tc.errno) {
			t.Errorf("%q does not wrap %v", err, tc.errno)
		}
	}
}
