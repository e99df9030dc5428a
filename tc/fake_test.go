package tc

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/tcwire/tcwire/internal/uapi"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/nl/nltest"
)

// Unprivileged table tests of Wire, rollback and Remove on nltest's fake
// kernel: the decisions (what is sent, in which order, which refusal is an
// error) without a namespace. The live tests are the oracle for what the
// kernel answers; the answers here are those (TestRemoveGone).

// refusal is how the fake kernel refuses one request.
type refusal struct {
	errno  syscall.Errno
	extack string
}

// fakeTC is a fake kernel with no qdisc on any device, so probes find
// nothing and filter dumps are empty. refuse maps "TYPE ifindex" (TYPE one
// of qdisc-add, qdisc-del, filter-add, filter-del) to a refusal.
func fakeTC(refuse map[string]refusal) nltest.Func {
	verb := map[nl.HeaderType]string{
		uapi.RTM_NEWQDISC: "qdisc-add", uapi.RTM_DELQDISC: "qdisc-del",
		uapi.RTM_NEWTFILTER: "filter-add", uapi.RTM_DELTFILTER: "filter-del",
	}
	return func(req nl.Message) nltest.Reply {
		var m Tcmsg
		if err := m.UnmarshalBinary(req.Data); err != nil {
			return nltest.Reply{Errno: syscall.EINVAL, ExtAck: err.Error()}
		}
		switch req.Header.Type {
		case uapi.RTM_GETQDISC:
			return nltest.Reply{Errno: syscall.ENOENT, ExtAck: "Cannot find specified qdisc on specified device"}
		case uapi.RTM_GETTFILTER:
			return nltest.Reply{}
		}
		if r, ok := refuse[fmt.Sprintf("%s %d", verb[req.Header.Type], m.Ifindex)]; ok {
			return nltest.Reply{Errno: r.errno, ExtAck: r.extack}
		}
		return nltest.Reply{}
	}
}

// sent names the requests k saw after the probes, as "TYPE ifindex".
func sent(t *testing.T, k *nltest.Kernel) []string {
	t.Helper()
	names := map[nl.HeaderType]string{
		uapi.RTM_NEWQDISC: "qdisc-add", uapi.RTM_DELQDISC: "qdisc-del", uapi.RTM_GETQDISC: "probe",
		uapi.RTM_NEWTFILTER: "filter-add", uapi.RTM_DELTFILTER: "filter-del", uapi.RTM_GETTFILTER: "filter-dump",
	}
	var out []string
	for _, m := range k.Requests() {
		var tm Tcmsg
		if err := tm.UnmarshalBinary(m.Data); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d", names[m.Header.Type], tm.Ifindex))
	}
	return out
}

func TestWireFake(t *testing.T) {
	eth0, tap0 := Dev{Name: "eth0", Index: 3}, Dev{Name: "tap0", Index: 4}
	wire := []string{"probe 3", "probe 4", "qdisc-add 3", "filter-add 3", "qdisc-add 4", "filter-add 4"}
	// A refusal of tap0's qdisc: the filter after it fails too, and
	// eth0's half is undone, last first (the filter's undo finds it by a
	// dump, empty here, so only the qdisc delete goes out).
	undone := append(append([]string(nil), wire...), "filter-dump 3", "qdisc-del 3")
	exists := refusal{syscall.EEXIST, "Exclusivity flag on, cannot modify"}
	tests := []struct {
		name   string
		refuse map[string]refusal
		sent   []string
		err    []string // what the error must say; nil: no error
		is     error
		undos  int // failures to undo in the error
	}{
		{name: "fresh", sent: wire},
		{name: "tap0's qdisc refused",
			refuse: map[string]refusal{"qdisc-add 4": exists, "filter-add 4": {syscall.EINVAL, "Parent Qdisc doesn't exists"}},
			sent:   undone, err: []string{"tc qdisc add dev tap0 ingress"}, is: syscall.EEXIST},
		{name: "undo finds eth0's qdisc gone",
			refuse: map[string]refusal{"qdisc-add 4": exists, "filter-add 4": {syscall.EINVAL, "Parent Qdisc doesn't exists"},
				"qdisc-del 3": {syscall.EINVAL, "Invalid handle"}},
			sent: undone, err: []string{"tc qdisc add dev tap0 ingress"}, is: syscall.EEXIST},
		{name: "undo refused for another reason",
			refuse: map[string]refusal{"qdisc-add 4": exists, "filter-add 4": {syscall.EINVAL, "Parent Qdisc doesn't exists"},
				"qdisc-del 3": {syscall.EINVAL, "Invalid qdisc name: must match existing qdisc"}},
			sent: undone, err: []string{"tc qdisc add dev tap0 ingress", `undo "tc qdisc add dev eth0 ingress"`, "Invalid qdisc name"}, is: syscall.EEXIST, undos: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, k := nltest.Dial(fakeTC(tt.refuse), nil)
			err := Wire(c, eth0, tap0, WireOptions{})
			if got := sent(t, k); strings.Join(got, ", ") != strings.Join(tt.sent, ", ") {
				t.Errorf("sent %q\nwant %q", got, tt.sent)
			}
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Wire = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("Wire = %v, want %v", err, tt.is)
			}
			for _, s := range tt.err {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("Wire = %v, want it to say %q", err, s)
				}
			}
			if n := strings.Count(err.Error(), "undo "); n != tt.undos {
				t.Errorf("Wire = %v: %d undo failures, want %d", err, n, tt.undos)
			}
		})
	}
}

// TestRemoveFake: eth0's wire filter sits on a clsact qdisc, which stays
// (a filter delete), tap0's alone on an ingress qdisc, which goes (a qdisc
// delete takes the filter with it).
func TestRemoveFake(t *testing.T) {
	eth0, tap0 := Dev{Name: "eth0", Index: 3}, Dev{Name: "tap0", Index: 4}
	tests := []struct {
		name   string
		refuse map[string]refusal
		want   string // what the error must say; "": no error
	}{
		{name: "all there"},
		{name: "already gone", refuse: map[string]refusal{
			"filter-del 3": {syscall.EINVAL, "Parent Qdisc doesn't exists"},
			"qdisc-del 4":  {syscall.EINVAL, "Invalid handle"}}},
		{name: "never there", refuse: map[string]refusal{
			"filter-del 3": {syscall.ENOENT, "Cannot find specified filter chain"},
			"qdisc-del 4":  {syscall.ENOENT, "Cannot find specified qdisc on specified device"}}},
		{name: "a clsact took tap0's hook", refuse: map[string]refusal{
			"qdisc-del 4": {syscall.EINVAL, "Invalid qdisc name: must match existing qdisc"}},
			want: "tc qdisc del dev tap0 ingress"},
		{name: "EINVAL without extack", refuse: map[string]refusal{"filter-del 3": {syscall.EINVAL, ""}},
			want: "tc filter del dev eth0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, k := nltest.Dial(fakeTC(tt.refuse), nil)
			p := PlanUnwire(wired(eth0, tap0, KindClsact), wired(tap0, eth0, KindIngress))
			err := p.Remove(c)
			if got, want := sent(t, k), []string{"filter-del 3", "qdisc-del 4"}; strings.Join(got, ", ") != strings.Join(want, ", ") {
				t.Errorf("sent %q, want %q", got, want)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Remove = %v", err)
			case tt.want != "" && (!errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Remove = %v, want EINVAL from %q", err, tt.want)
			}
		})
	}
}
