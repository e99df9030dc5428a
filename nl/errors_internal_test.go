package nl

import (
	"errors"
	"testing"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func TestWrap(t *testing.T) {
	const cmd = "tc qdisc add dev eth0 ingress"
	if err := wrap(cmd, nil); err != nil {
		t.Fatalf("wrap(nil) = %v", err)
	}

	sockErr := errors.New("boom")
	tests := []struct {
		name string
		in   error
		want *Error
	}{
		{
			name: "kernel error with ext-ack",
			in:   &netlink.OpError{Op: "receive", Err: unix.EEXIST, Message: "Exclusivity flag on", Offset: 36, Sequence: 9},
			want: &Error{Cmd: cmd, Err: unix.EEXIST, Message: "Exclusivity flag on", Offset: 36},
		},
		{
			name: "socket error",
			in:   &netlink.OpError{Op: "send-messages", Err: sockErr},
			want: &Error{Cmd: cmd, Err: sockErr},
		},
		{
			name: "plain error",
			in:   sockErr,
			want: &Error{Cmd: cmd, Err: sockErr},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrap(cmd, tt.in)
			var got *Error
			if !errors.As(err, &got) {
				t.Fatalf("wrap returned %T, want *Error", err)
			}
			if diff := diff(*tt.want, *got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}
