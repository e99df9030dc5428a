package nltest_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/nl/nltest"
)

func TestKernel(t *testing.T) {
	const get, obj = 18, 16 // RTM_GETLINK, RTM_NEWLINK
	c, k := nltest.Dial(func(req nl.Message) nltest.Reply {
		switch strings.TrimRight(string(req.Data), "\x00") { // Data goes padded to 4 bytes
		case "refuse":
			return nltest.Reply{Errno: syscall.EINVAL, ExtAck: "Invalid handle"}
		case "echo", "dump":
			return nltest.Reply{Messages: []nl.Message{{Header: nl.Header{Type: obj}, Data: []byte("one")}, {Header: nl.Header{Type: obj}, Data: []byte("two")}}}
		}
		return nltest.Reply{}
	}, nil)
	defer c.Close()

	errs := c.Do(nl.Request{Type: get, Flags: nl.FlagsAck, Data: []byte("ok"), Cmd: "ok"},
		nl.Request{Type: get, Flags: nl.FlagsAck, Data: []byte("refuse"), Cmd: "refuse"})
	var e *nl.Error
	if errs[0] != nil || !errors.As(errs[1], &e) || !errors.Is(e, syscall.EINVAL) || e.Message != "Invalid handle" || e.Cmd != "refuse" {
		t.Fatalf("Do = %v", errs)
	}
	replies, errs := c.Query(nl.Request{Type: get, Flags: nl.FlagsEcho, Data: []byte("echo")})
	if errs[0] != nil || len(replies[0]) != 2 || string(replies[0][1].Data) != "two" {
		t.Fatalf("Query = %v, %v", replies, errs)
	}
	msgs, err := c.Dump(nl.Request{Type: get, Flags: nl.FlagsDump, Data: []byte("dump")})
	if err != nil || len(msgs) != 2 || msgs[0].Header.Flags&nl.NLM_F_MULTI == 0 {
		t.Fatalf("Dump = %v, %v", msgs, err)
	}
	reqs := k.Requests()
	if len(reqs) != 4 || string(reqs[1].Data) != "refuse\x00\x00" || reqs[3].Header.Flags != nl.FlagsDump {
		t.Fatalf("requests %+v", reqs)
	}
	if c.Sendmsgs() != 3 {
		t.Errorf("%d sendmsgs, want 3 (the Do's two requests in one)", c.Sendmsgs())
	}
}
