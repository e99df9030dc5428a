package link

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/nl"
)

func TestParseEvent(t *testing.T) {
	body := func(index int32, name string) []byte {
		e := nl.NewEncoder(Ifinfomsg{Index: index, Flags: unix.IFF_UP}.Append(nil))
		e.String(unix.IFLA_IFNAME, name)
		return e.Bytes()
	}
	msg := func(typ uint16, data []byte) nl.Message {
		return nl.Message{Header: nl.Header{Type: nl.HeaderType(typ)}, Data: data}
	}
	for _, tt := range []struct {
		name    string
		m       nl.Message
		deleted bool
		wantErr bool
	}{
		{"new", msg(unix.RTM_NEWLINK, body(7, "tap0")), false, false},
		{"del", msg(unix.RTM_DELLINK, body(7, "tap0")), true, false},
		{"other type", msg(unix.RTM_GETLINK, body(7, "tap0")), false, true},
		{"truncated", msg(unix.RTM_DELLINK, body(7, "tap0")[:10]), false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, deleted, err := ParseEvent(tt.m)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseEvent: no error, link %+v", l)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if deleted != tt.deleted || l.Index != 7 || l.Name != "tap0" || !l.Up() {
				t.Errorf("ParseEvent = %+v, deleted %v; want index 7, tap0, up, deleted %v", l, deleted, tt.deleted)
			}
		})
	}
}
