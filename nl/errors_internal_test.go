package nl

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestKernelError decodes acknowledgements as the kernel writes them: the
// errno, the echoed request (its header alone when NLM_F_CAPPED) and the
// extended-ack attributes after it; a dump's NLMSG_DONE has them straight
// after the errno.
func TestKernelError(t *testing.T) {
	const cmd = "tc qdisc add dev eth0 ingress"
	req := appendMessage(nil, Request{Type: unix.RTM_NEWQDISC, Flags: FlagsCreate, Data: make([]byte, 28)}, 7)
	tlvs := NewEncoder(nil)
	tlvs.String(NLMSGERR_ATTR_MSG, "Exclusivity flag on")
	tlvs.Uint32(NLMSGERR_ATTR_OFFS, 36)
	errno := func(e unix.Errno) []byte { return host.AppendUint32(nil, uint32(-int32(e))) }
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	for _, tt := range []struct {
		name  string
		typ   HeaderType
		flags HeaderFlags
		data  []byte
		want  *Error // nil: an acknowledgement
	}{
		{"ack", NLMSG_ERROR, NLM_F_CAPPED, cat(errno(0), req[:16]), nil},
		{"refusal, request echoed", NLMSG_ERROR, NLM_F_ACK_TLVS, cat(errno(unix.EEXIST), req, tlvs.Bytes()),
			&Error{Cmd: cmd, Err: unix.EEXIST, Message: "Exclusivity flag on", Offset: 36}},
		{"refusal, capped", NLMSG_ERROR, NLM_F_ACK_TLVS | NLM_F_CAPPED, cat(errno(unix.EEXIST), req[:16], tlvs.Bytes()),
			&Error{Cmd: cmd, Err: unix.EEXIST, Message: "Exclusivity flag on", Offset: 36}},
		{"refusal, no text", NLMSG_ERROR, 0, cat(errno(unix.ENODEV), req), &Error{Cmd: cmd, Err: unix.ENODEV}},
		{"dump done", NLMSG_DONE, NLM_F_MULTI, errno(0), nil},
		{"dump failed", NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS, cat(errno(unix.EINVAL), tlvs.Bytes()),
			&Error{Cmd: cmd, Err: unix.EINVAL, Message: "Exclusivity flag on", Offset: 36}},
		{"short", NLMSG_ERROR, 0, []byte{1}, nil},
		{"attributes cut", NLMSG_ERROR, NLM_F_ACK_TLVS, cat(errno(unix.EPERM), req[:10]), &Error{Cmd: cmd, Err: unix.EPERM}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := kernelError(cmd, Message{Header: Header{Type: tt.typ, Flags: tt.flags}, Data: tt.data})
			if tt.name == "short" {
				if err == nil {
					t.Fatal("a 1-byte error message decoded as an acknowledgement")
				}
				return
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("want an acknowledgement, got %v", err)
				}
				return
			}
			got, ok := err.(*Error)
			if !ok {
				t.Fatalf("got %T %v, want *Error", err, err)
			}
			if d := diff(*tt.want, *got); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

// FuzzReply splits any datagram into messages and decodes every error
// among them, as a Conn does with what it receives: no panic, and a
// message never runs past the datagram.
func FuzzReply(f *testing.F) {
	req := appendMessage(nil, Request{Type: unix.RTM_NEWQDISC, Flags: FlagsCreate, Data: make([]byte, 28)}, 7)
	ack := appendMessage(nil, Request{Type: NLMSG_ERROR, Flags: NLM_F_CAPPED, Data: append(host.AppendUint32(nil, 0), req[:16]...)}, 7)
	eexist := -int32(unix.EEXIST)
	refusal := appendMessage(nil, Request{Type: NLMSG_ERROR, Flags: NLM_F_ACK_TLVS, Data: append(host.AppendUint32(nil, uint32(eexist)), req...)}, 7)
	f.Add(ack)
	f.Add(append(refusal, 8, 0, 1, 0, 'x', 0, 0, 0))
	f.Add(appendMessage(nil, Request{Type: NLMSG_DONE, Flags: NLM_F_MULTI, Data: make([]byte, 4)}, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		for m, err := range messages(b) {
			if err != nil {
				break
			}
			if NlmsgHdrLen+len(m.Data) > len(b) {
				t.Fatalf("message of %d bytes in a %d-byte datagram", NlmsgHdrLen+len(m.Data), len(b))
			}
			if m.Header.Type == NLMSG_ERROR || m.Header.Type == NLMSG_DONE {
				_ = kernelError("cmd", m)
			}
		}
	})
}
