package nl_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/nl"
	"golang.org/x/sys/unix"
)

func TestError(t *testing.T) {
	const cmd = "tc qdisc add dev eth0 ingress"
	sockErr := errors.New("netlink receive: connection reset")
	tests := []struct {
		name string
		err  *nl.Error
		is   []error
		isnt []error
		want string
	}{
		{
			name: "errno with ext-ack text",
			err:  &nl.Error{Cmd: cmd, Err: unix.EEXIST, Message: "Exclusivity flag on", Offset: 36},
			is:   []error{unix.EEXIST, fs.ErrExist},
			isnt: []error{unix.ENOENT, unix.EPERM},
			want: cmd + ": file exists: Exclusivity flag on",
		},
		{
			name: "errno alone",
			err:  &nl.Error{Cmd: cmd, Err: unix.ENODEV},
			is:   []error{unix.ENODEV},
			isnt: []error{unix.EINVAL},
			want: cmd + ": no such device",
		},
		{
			name: "EPERM names the capability",
			err:  &nl.Error{Cmd: cmd, Err: unix.EPERM},
			is:   []error{unix.EPERM, fs.ErrPermission},
			want: cmd + ": operation not permitted (CAP_NET_ADMIN is needed)",
		},
		{
			name: "EPERM with ext-ack text",
			err:  &nl.Error{Cmd: cmd, Err: unix.EPERM, Message: "some text"},
			is:   []error{unix.EPERM},
			want: cmd + ": operation not permitted: some text (CAP_NET_ADMIN is needed)",
		},
		{
			name: "EACCES names the capability",
			err:  &nl.Error{Cmd: cmd, Err: unix.EACCES},
			is:   []error{unix.EACCES},
			want: cmd + ": permission denied (CAP_NET_ADMIN is needed)",
		},
		{
			name: "socket error",
			err:  &nl.Error{Cmd: cmd, Err: sockErr},
			is:   []error{sockErr},
			isnt: []error{unix.EPERM},
			want: cmd + ": netlink receive: connection reset",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%q\nwant\n%q", got, tt.want)
			}
			if !strings.HasPrefix(tt.err.Error(), cmd+": ") {
				t.Errorf("Error() does not start with the command: %q", tt.err.Error())
			}
			// Wrapped further up, the errno is still reachable.
			var err error = tt.err
			wrapped := errors.Join(errors.New("context"), err)
			for _, target := range tt.is {
				if !errors.Is(err, target) || !errors.Is(wrapped, target) {
					t.Errorf("errors.Is(err, %v) = false", target)
				}
			}
			for _, target := range tt.isnt {
				if errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = true", target)
				}
			}
			var e *nl.Error
			if !errors.As(wrapped, &e) || e != tt.err {
				t.Errorf("errors.As did not find the *Error")
			}
			if errors.Unwrap(err) != tt.err.Err {
				t.Errorf("Unwrap() = %v, want %v", errors.Unwrap(err), tt.err.Err)
			}
		})
	}
}
