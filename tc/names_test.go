package tc

import (
	"strings"
	"testing"
)

func TestHandleString(t *testing.T) {
	for _, c := range []struct {
		h    Handle
		want string
	}{
		{TC_H_ROOT, "root"},
		{TC_H_INGRESS, "ffff:fff1"},
		{TC_H_UNSPEC, "none"},
		{IngressHandle, "ffff:"},
		{ClsactIngress, "ffff:fff2"},
		{ClsactEgress, "ffff:fff3"},
		{MakeHandle(1, 0), "1:"},
		{MakeHandle(1, 2), "1:2"},
		{MakeHandle(0, 0xa), "0:a"},
		{MakeHandle(0xabcd, 0xef), "abcd:ef"},
	} {
		if got := c.h.String(); got != c.want {
			t.Errorf("Handle(%#08x).String() = %q, want %q", uint32(c.h), got, c.want)
		}
	}
	if h := MakeHandle(0x1234, 0x5678); h.Major() != 0x1234 || h.Minor() != 0x5678 || h != 0x12345678 {
		t.Errorf("MakeHandle(0x1234, 0x5678) = %#x (%x, %x)", uint32(h), h.Major(), h.Minor())
	}
}

func TestParseHandle(t *testing.T) {
	for _, c := range []struct {
		s    string
		want Handle
	}{
		{"root", TC_H_ROOT},
		{"ingress", TC_H_INGRESS},
		{"none", TC_H_UNSPEC},
		{"ffff:", IngressHandle},
		{"ffff:0", IngressHandle},
		{"ffff:fff1", TC_H_INGRESS},
		{"ffff:fff2", ClsactIngress},
		{"FFFF:FFF3", ClsactEgress},
		{"1", MakeHandle(1, 0)},
		{"1:2", MakeHandle(1, 2)},
		{"0:a", MakeHandle(0, 0xa)},
	} {
		got, err := ParseHandle(c.s)
		if err != nil || got != c.want {
			t.Errorf("ParseHandle(%q) = %#x, %v; want %#x", c.s, uint32(got), err, uint32(c.want))
		}
	}
	for _, c := range []struct{ s, culprit string }{
		{"", `major ""`},
		{":1", `major ""`},
		{"10000:", `major "10000"`},
		{"x:", `major "x"`},
		{"1:10000", `minor "10000"`},
		{"1:zz", `minor "zz"`},
		{"-1:", `major "-1"`},
	} {
		_, err := ParseHandle(c.s)
		if err == nil || !strings.Contains(err.Error(), c.culprit) {
			t.Errorf("ParseHandle(%q): error %v, want one naming %s", c.s, err, c.culprit)
		}
	}
	// Every handle String prints (other than the names) parses back.
	for _, h := range []Handle{IngressHandle, ClsactIngress, ClsactEgress, MakeHandle(1, 0), MakeHandle(0xffff, 0xffff), MakeHandle(0x10, 0x20)} {
		got, err := ParseHandle(h.String())
		if err != nil || got != h {
			t.Errorf("ParseHandle(%q) = %#x, %v; want %#x", h.String(), uint32(got), err, uint32(h))
		}
	}
}

// TestU32HandleString follows tc's sprint_u32_handle: "htid:" when htid is
// set, then the hash, then ":node", each left out when zero.
func TestU32HandleString(t *testing.T) {
	for _, c := range []struct {
		h    uint32
		want string
	}{
		{0x80000800, "800::800"},
		{0x80000000, "800:"},
		{0x80100000, "801:"},
		{0x80100800, "801::800"},
		{0x80101800, "801:1:800"},
		{0x80101000, "801:1"},
		{0xfffff000 | 0xfff, "fff:ff:fff"},
		{0x00100000, "1:"},
		{0x00000800, ":800"},
		{0, "none"},
	} {
		if got := U32HandleString(c.h); got != c.want {
			t.Errorf("U32HandleString(%#08x) = %q, want %q", c.h, got, c.want)
		}
	}
}

func TestProtocolString(t *testing.T) {
	for _, c := range []struct {
		p    Protocol
		name string
	}{
		{ETH_P_ALL, "all"},
		{ETH_P_IP, "ip"},
		{ETH_P_ARP, "arp"},
		{ETH_P_8021Q, "802.1Q"},
		{ETH_P_IPV6, "ipv6"},
		{0x88b5, "0x88b5"},
		{0x0001, "0x0001"},
	} {
		if got := c.p.String(); got != c.name {
			t.Errorf("Protocol(%#04x).String() = %q, want %q", uint16(c.p), got, c.name)
		}
		// Whatever String prints, ParseProtocol reads back.
		if got, err := ParseProtocol(c.name); err != nil || got != c.p {
			t.Errorf("ParseProtocol(%q) = %#04x, %v; want %#04x", c.name, uint16(got), err, uint16(c.p))
		}
	}
	for _, c := range []struct {
		s    string
		want Protocol
	}{
		{"2048", ETH_P_IP},
		{"0x86dd", ETH_P_IPV6},
		{"0x0003", ETH_P_ALL},
		{"65535", 0xffff},
	} {
		if got, err := ParseProtocol(c.s); err != nil || got != c.want {
			t.Errorf("ParseProtocol(%q) = %#04x, %v; want %#04x", c.s, uint16(got), err, uint16(c.want))
		}
	}
	for _, s := range []string{"", "0", "0x0", "foo", "IP", "65536", "-1", "ip6"} {
		if _, err := ParseProtocol(s); err == nil || !strings.Contains(err.Error(), `"`+s+`"`) {
			t.Errorf("ParseProtocol(%q): error %v, want one naming %q", s, err, s)
		}
	}
}

func TestControlString(t *testing.T) {
	for _, c := range []struct {
		c    Control
		name string
	}{
		{TC_ACT_UNSPEC, "continue"},
		{TC_ACT_OK, "pass"},
		{TC_ACT_RECLASSIFY, "reclassify"},
		{TC_ACT_SHOT, "drop"},
		{TC_ACT_PIPE, "pipe"},
		{TC_ACT_STOLEN, "stolen"},
		{TC_ACT_QUEUED, "queued"},
		{TC_ACT_REPEAT, "repeat"},
		{TC_ACT_REDIRECT, "redirect"},
		{TC_ACT_TRAP, "trap"},
	} {
		if got := c.c.String(); got != c.name {
			t.Errorf("Control(%d).String() = %q, want %q", c.c, got, c.name)
		}
		if got, err := ParseControl(c.name); err != nil || got != c.c {
			t.Errorf("ParseControl(%q) = %d, %v; want %d", c.name, got, err, c.c)
		}
	}
	if got, err := ParseControl("ok"); err != nil || got != TC_ACT_OK {
		t.Errorf(`ParseControl("ok") = %d, %v; want TC_ACT_OK`, got, err)
	}
	if got := Control(99).String(); got != "control 99" {
		t.Errorf("Control(99).String() = %q", got)
	}
	for _, s := range []string{"", "steal", "PIPE", "control 99"} {
		if _, err := ParseControl(s); err == nil || !strings.Contains(err.Error(), `"`+s+`"`) {
			t.Errorf("ParseControl(%q): error %v, want one naming it", s, err)
		}
	}
}

func TestEactionString(t *testing.T) {
	for e, want := range map[Eaction]string{
		TCA_EGRESS_REDIR: "egress redirect", TCA_EGRESS_MIRROR: "egress mirror",
		TCA_INGRESS_REDIR: "ingress redirect", TCA_INGRESS_MIRROR: "ingress mirror", 9: "eaction 9",
	} {
		if got := e.String(); got != want {
			t.Errorf("Eaction(%d).String() = %q, want %q", e, got, want)
		}
		if want == "eaction 9" {
			continue
		}
		if got, err := ParseEaction(want); err != nil || got != e {
			t.Errorf("ParseEaction(%q) = %d, %v; want %d", want, got, err, e)
		}
	}
	for e, want := range map[Eaction]Control{
		TCA_EGRESS_REDIR: TC_ACT_STOLEN, TCA_INGRESS_REDIR: TC_ACT_STOLEN,
		TCA_EGRESS_MIRROR: TC_ACT_PIPE, TCA_INGRESS_MIRROR: TC_ACT_PIPE,
	} {
		if got := DefaultControl(e); got != want {
			t.Errorf("DefaultControl(%s) = %s, want %s", e.String(), got.String(), want.String())
		}
	}
}
