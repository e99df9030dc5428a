package tc_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/tcwire/tcwire/tc"

	"github.com/tcwire/tcwire/nl"
)

// ingressTcmsg is the tcmsg of `tc qdisc add dev eth0 ingress` with eth0 at
// ifindex 2, written out by hand (host order, little-endian).
var ingressTcmsg = []byte{
	0x00, 0x00, 0x00, 0x00, // tcm_family 0, tcm__pad1, tcm__pad2
	0x02, 0x00, 0x00, 0x00, // tcm_ifindex 2
	0x00, 0x00, 0xff, 0xff, // tcm_handle ffff:0000
	0xf1, 0xff, 0xff, 0xff, // tcm_parent ffff:fff1 (TC_H_INGRESS)
	0x00, 0x00, 0x00, 0x00, // tcm_info 0
}

func TestTcmsgMarshal(t *testing.T) {
	tests := []struct {
		name string
		m    tc.Tcmsg
		want []byte
	}{
		{
			name: "zero",
			want: make([]byte, tc.TcmsgLen),
		},
		{
			name: "ingress qdisc",
			m:    tc.Tcmsg{Family: 0, Ifindex: 2, Handle: 0xffff0000, Parent: 0xfffffff1, Info: 0},
			want: ingressTcmsg,
		},
		{
			name: "u32 filter, prio 0, protocol ETH_P_ALL",
			m:    tc.Tcmsg{Ifindex: 7, Parent: 0xffff0000, Info: 0x00000300},
			want: []byte{
				0x00, 0x00, 0x00, 0x00,
				0x07, 0x00, 0x00, 0x00,
				0x00, 0x00, 0x00, 0x00,
				0x00, 0x00, 0xff, 0xff,
				0x00, 0x03, 0x00, 0x00,
			},
		},
		{
			name: "family and negative ifindex",
			m:    tc.Tcmsg{Family: 0x11, Ifindex: -1, Handle: 0x80000800, Parent: 0xffffffff, Info: 0xc0000008},
			want: []byte{
				0x11, 0x00, 0x00, 0x00,
				0xff, 0xff, 0xff, 0xff,
				0x00, 0x08, 0x00, 0x80,
				0xff, 0xff, 0xff, 0xff,
				0x08, 0x00, 0x00, 0xc0,
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.m.MarshalBinary()
			if err != nil {
				t.Fatalf("failed to marshal: %v", err)
			}
			if diff := diff(tt.want, b); diff != "" {
				t.Fatalf("unexpected bytes (-want +got):\n%s", diff)
			}
			if diff := diff(append([]byte{0xaa}, tt.want...), tt.m.Append([]byte{0xaa})); diff != "" {
				t.Fatalf("Append: unexpected bytes (-want +got):\n%s", diff)
			}

			var got tc.Tcmsg
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("failed to unmarshal: %v", err)
			}
			if diff := diff(tt.m, got); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTcmsgUnmarshal(t *testing.T) {
	t.Run("ignores pad bytes and what follows", func(t *testing.T) {
		b := append([]byte(nil), ingressTcmsg...)
		b[1], b[2], b[3] = 0xaa, 0xbb, 0xcc
		b = append(b, 0x0c, 0x00, 0x01, 0x00, 'i', 'n', 'g', 'r', 'e', 's', 's', 0x00)
		var got tc.Tcmsg
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("failed to unmarshal: %v", err)
		}
		want := tc.Tcmsg{Ifindex: 2, Handle: 0xffff0000, Parent: 0xfffffff1}
		if diff := diff(want, got); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})

	for _, n := range []int{0, 1, 4, 19} {
		var m tc.Tcmsg
		err := m.UnmarshalBinary(ingressTcmsg[:n])
		if !errors.Is(err, nl.ErrTruncated) {
			t.Errorf("%d bytes: expected ErrTruncated, got: %v", n, err)
		}
	}
}

func FuzzTcmsg(f *testing.F) {
	f.Add(ingressTcmsg)
	f.Add(append(append([]byte(nil), ingressTcmsg...), 0x08, 0x00, 0x01, 0x00, 'u', '3', '2', 0x00))
	f.Add([]byte{0x11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x08, 0x00, 0x80, 0xff, 0xff, 0xff, 0xff, 0x08, 0x00, 0x00, 0xc0})
	f.Add([]byte{0x00, 0x00})

	f.Fuzz(func(t *testing.T, b []byte) {
		var m tc.Tcmsg
		if err := m.UnmarshalBinary(b); err != nil {
			if len(b) >= tc.TcmsgLen || !errors.Is(err, nl.ErrTruncated) {
				t.Fatalf("%d bytes: unexpected error: %v", len(b), err)
			}
			return
		}
		if len(b) < tc.TcmsgLen {
			t.Fatalf("%d bytes unmarshaled without error", len(b))
		}
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("failed to marshal: %v", err)
		}
		// Marshaling zeroes the pad bytes; every other byte survives.
		want := append([]byte(nil), b[:tc.TcmsgLen]...)
		want[1], want[2], want[3] = 0, 0, 0
		if diff := diff(want, out); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		var again tc.Tcmsg
		if err := again.UnmarshalBinary(out); err != nil || again != m {
			t.Fatalf("second round trip: %+v, %v; want %+v", again, err, m)
		}
	})
}

// diff returns "" when want and got are deeply equal, else both.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("want: %#v\n got: %#v", want, got)
}
