package nl_test

import (
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/tcwire/tcwire/nl"
	"golang.org/x/sys/unix"
)

func TestFlags(t *testing.T) {
	// The values iproute2 sends, from <linux/netlink.h>.
	tests := []struct {
		name string
		got  nl.HeaderFlags
		want uint16
	}{
		{"FlagsCreate", nl.FlagsCreate, unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_EXCL | unix.NLM_F_CREATE},
		{"FlagsReplace", nl.FlagsReplace, unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE},
		{"FlagsAck", nl.FlagsAck, unix.NLM_F_REQUEST | unix.NLM_F_ACK},
		{"FlagsDump", nl.FlagsDump, unix.NLM_F_REQUEST | unix.NLM_F_DUMP},
	}
	for _, tt := range tests {
		if uint16(tt.got) != tt.want {
			t.Errorf("%s = %#04x, want %#04x", tt.name, uint16(tt.got), tt.want)
		}
	}
	if nl.FlagsCreate != 0x0605 {
		t.Errorf("FlagsCreate = %#04x, want 0x0605 (what tc sends)", uint16(nl.FlagsCreate))
	}
	if nl.FlagsDump&nl.NLM_F_ACK != 0 {
		t.Error("FlagsDump must not ask for an ACK")
	}
}

// ingressRequest is `tc qdisc add dev <ifindex> ingress` built by hand.
func ingressRequest(ifindex int32, cmd string) nl.Request {
	e := nl.NewEncoder(tcmsg(ifindex, 0xffff0000, 0xfffffff1))
	e.String(unix.TCA_KIND, "ingress")
	return nl.Request{Type: unix.RTM_NEWQDISC, Flags: nl.FlagsCreate, Data: e.Bytes(), Cmd: cmd}
}

func TestRequestMarshalBinary(t *testing.T) {
	tests := []struct {
		name string
		r    nl.Request
		want []byte
	}{
		{
			name: "ingress qdisc, as tc sends it (48 bytes)",
			r:    ingressRequest(2, "tc qdisc add dev eth0 ingress"),
			want: append(append([]byte{
				0x30, 0x00, 0x00, 0x00, // nlmsg_len 48
				0x24, 0x00, // nlmsg_type RTM_NEWQDISC (36)
				0x05, 0x06, // nlmsg_flags REQUEST|ACK|EXCL|CREATE
				0x00, 0x00, 0x00, 0x00, // nlmsg_seq
				0x00, 0x00, 0x00, 0x00, // nlmsg_pid
			}, ingressTcmsg...), 0x0c, 0x00, 0x01, 0x00, 'i', 'n', 'g', 'r', 'e', 's', 's', 0x00),
		},
		{
			name: "link dump: bare ifinfomsg",
			r:    nl.Request{Type: unix.RTM_GETLINK, Flags: nl.FlagsDump, Data: make([]byte, unix.SizeofIfInfomsg)},
			want: []byte{
				0x20, 0x00, 0x00, 0x00, // 32
				0x12, 0x00, // RTM_GETLINK (18)
				0x01, 0x03, // REQUEST|DUMP
				0x00, 0x00, 0x00, 0x00,
				0x00, 0x00, 0x00, 0x00,
				0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			},
		},
		{
			name: "no data",
			r:    nl.Request{Type: unix.RTM_DELQDISC, Flags: nl.FlagsAck},
			want: []byte{
				0x10, 0x00, 0x00, 0x00,
				0x25, 0x00,
				0x05, 0x00,
				0x00, 0x00, 0x00, 0x00,
				0x00, 0x00, 0x00, 0x00,
			},
		},
		{
			// The Conn sends nlmsg_len aligned and the data zero-padded
			// (mdlayher/netlink's fixMsg): MarshalBinary shows the same.
			name: "unaligned data is padded",
			r:    nl.Request{Type: 0x1234, Flags: nl.FlagsAck, Data: []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee}},
			want: []byte{
				0x18, 0x00, 0x00, 0x00,
				0x34, 0x12,
				0x05, 0x00,
				0x00, 0x00, 0x00, 0x00,
				0x00, 0x00, 0x00, 0x00,
				0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x00, 0x00, 0x00,
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.r.MarshalBinary()
			if err != nil {
				t.Fatalf("failed to marshal: %v", err)
			}
			if diff := nl.Diff(tt.want, b); diff != "" {
				t.Fatalf("unexpected bytes (-want +got):\n%s", diff)
			}

			var m netlink.Message
			if err := m.UnmarshalBinary(b); err != nil {
				t.Fatalf("mdlayher/netlink cannot read it back: %v", err)
			}
			if m.Header.Type != netlink.HeaderType(tt.r.Type) || m.Header.Flags != netlink.HeaderFlags(tt.r.Flags) || m.Header.Sequence != 0 || m.Header.PID != 0 {
				t.Fatalf("header read back as %+v", m.Header)
			}
		})
	}
}

// ingressTcmsg is the struct tcmsg of `tc qdisc add dev eth0 ingress`, eth0
// at ifindex 2, by hand (little-endian): family 0 and padding, ifindex 2,
// handle ffff:0000, parent ffff:fff1 (TC_H_INGRESS), info 0.
var ingressTcmsg = []byte{0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xff, 0xff, 0xf1, 0xff, 0xff, 0xff, 0, 0, 0, 0}

// tcmsg is a struct tcmsg (<linux/rtnetlink.h>, tc's header) of family 0
// and tcm_info 0: a message of another layer, to carry on nl's requests.
func tcmsg(ifindex int32, handle, parent uint32) []byte {
	b := nl.AppendUint32(make([]byte, 4), uint32(ifindex))
	b = nl.AppendUint32(b, handle)
	b = nl.AppendUint32(b, parent)
	return nl.AppendUint32(b, 0)
}
