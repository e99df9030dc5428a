package tc

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/nl"
)

func TestIsGone(t *testing.T) {
	del := "tc qdisc del dev eth0 ingress"
	tests := []struct {
		err  error
		want bool
	}{
		{&nl.Error{Cmd: del, Err: unix.ENOENT, Message: "Cannot find specified qdisc on specified device"}, true},
		{&nl.Error{Cmd: "tc filter del dev eth0 parent ffff: pref 1", Err: unix.ENOENT, Message: "Cannot find specified filter chain"}, true},
		{&nl.Error{Cmd: del, Err: unix.EINVAL, Message: "Invalid handle"}, true},
		{&nl.Error{Cmd: "tc filter del dev eth0 parent ffff: pref 1", Err: unix.EINVAL, Message: "Parent Qdisc doesn't exists"}, true},
		{fmt.Errorf("undo: %w", &nl.Error{Cmd: del, Err: unix.EINVAL, Message: "Invalid handle"}), true},
		{&nl.Error{Cmd: del, Err: unix.EINVAL, Message: "Invalid qdisc name: must match existing qdisc"}, false},
		{&nl.Error{Cmd: del, Err: unix.EINVAL}, false},
		{unix.EINVAL, false},
		{&nl.Error{Cmd: del, Err: unix.ENODEV, Message: "Cannot find device"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := isGone(tt.err); got != tt.want {
			t.Errorf("isGone(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
