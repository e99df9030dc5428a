package link

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/nl"
)

// tunReply returns the RTM_NEWLINK of tap0 from the link dump tc sends first
// in the tc fixtures, whose namespace holds a tap made by
// `ip tuntap add tap0 mode tap` (persistent, no packet information, no
// owner or group, single queue).
func tunReply(t testing.TB) nl.Message {
	t.Helper()
	f, err := fixture.Load(filepath.Join("..", "testdata", "tc", "qdisc-add-ingress.fixture"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := f.Messages(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Type != unix.RTM_NEWLINK {
			continue
		}
		var nm nl.Message
		if err := nm.UnmarshalBinary(m.Raw); err != nil {
			t.Fatal(err)
		}
		var ifi Ifinfomsg
		if err := ifi.UnmarshalBinary(nm.Data); err != nil {
			t.Fatal(err)
		}
		if int(ifi.Index) == f.Ifindex["tap0"] {
			return nm
		}
	}
	t.Fatal("no RTM_NEWLINK for tap0 in qdisc-add-ingress")
	return nl.Message{}
}

func TestDecodeTunFixture(t *testing.T) {
	l, err := ParseLink(tunReply(t))
	if err != nil {
		t.Fatal(err)
	}
	want := TunInfo{Type: unix.IFF_TAP, Persist: true}
	if l.Name != "tap0" || l.Kind != KindTun || l.Tun == nil || !reflect.DeepEqual(*l.Tun, want) {
		t.Fatalf("tap0: Name %q Kind %q Tun %+v; want tun info %+v", l.Name, l.Kind, l.Tun, want)
	}
	if !l.Tun.Tap() {
		t.Error("Tap() = false for IFF_TAP")
	}
	if l.Macvlan != nil || l.Bridge != nil {
		t.Errorf("tap0 decoded other kinds' data: %+v %+v", l.Macvlan, l.Bridge)
	}
}

// tunAttrs encodes a tun IFLA_INFO_DATA the way tun_fill_info does.
func tunAttrs(f func(e *nl.Encoder)) []byte {
	e := nl.NewEncoder(nil)
	f(e)
	return e.Bytes()
}

func TestTunInfoUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want TunInfo
		err  string
	}{
		{
			name: "empty",
			want: TunInfo{},
		},
		{
			name: "multi-queue tap with owner and group",
			data: tunAttrs(func(e *nl.Encoder) {
				e.Uint8(unix.IFLA_TUN_TYPE, unix.IFF_TAP)
				e.Uint32(unix.IFLA_TUN_OWNER, 1000)
				e.Uint32(unix.IFLA_TUN_GROUP, 0)
				e.Uint8(unix.IFLA_TUN_PI, 0)
				e.Uint8(unix.IFLA_TUN_VNET_HDR, 1)
				e.Uint8(unix.IFLA_TUN_PERSIST, 1)
				e.Uint8(unix.IFLA_TUN_MULTI_QUEUE, 1)
				e.Uint32(unix.IFLA_TUN_NUM_QUEUES, 4)
				e.Uint32(unix.IFLA_TUN_NUM_DISABLED_QUEUES, 1)
				e.Uint32(100, 7) // unknown: skipped
			}),
			want: TunInfo{Type: unix.IFF_TAP, VnetHdr: true, Persist: true, MultiQueue: true,
				Owner: new(1000), Group: new(0), NumQueues: 4, NumDisabledQueues: 1},
		},
		{
			name: "tun with packet information",
			data: tunAttrs(func(e *nl.Encoder) {
				e.Uint8(unix.IFLA_TUN_TYPE, unix.IFF_TUN)
				e.Uint8(unix.IFLA_TUN_PI, 1)
			}),
			want: TunInfo{Type: unix.IFF_TUN, PI: true},
		},
		{
			name: "short owner",
			data: tunAttrs(func(e *nl.Encoder) { e.Attr(unix.IFLA_TUN_OWNER, []byte{1, 2}) }),
			err:  "IFLA_TUN attribute 1",
		},
		{
			name: "empty type",
			data: tunAttrs(func(e *nl.Encoder) { e.Attr(unix.IFLA_TUN_TYPE, nil) }),
			err:  "IFLA_TUN attribute 3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TunInfo{Type: 9, NumQueues: 9} // overwritten
			err := got.UnmarshalBinary(tt.data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, nl.ErrTruncated) {
					t.Fatalf("err = %v, want %q wrapping ErrTruncated", err, tt.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
