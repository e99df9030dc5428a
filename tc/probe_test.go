package tc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/tcwire/tcwire/internal/uapi"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/nl"
)

// TestProbeIngressRequest pins the probe's bytes, as testdata/tc/README.md
// gives them.
func TestProbeIngressRequest(t *testing.T) {
	r := ProbeIngressRequest(3, "eth0")
	got, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString("24000000" + "2600" + "0d00" + "00000000" + "00000000" +
		"00000000" + "03000000" + "00000000" + "f1ffffff" + "00000000")
	if !bytes.Equal(got, want) {
		t.Fatalf("ProbeIngressRequest bytes\n got %x\nwant %x", got, want)
	}
	if r.Cmd != "tc qdisc show dev eth0 ingress" {
		t.Errorf("Cmd %q", r.Cmd)
	}
}

// TestProbeKind decodes the answers the kernel gives a probe.
func TestProbeKind(t *testing.T) {
	qdisc := func(ifindex int32, parent Handle, kind string) nl.Message {
		e := nl.NewEncoder(Tcmsg{Ifindex: ifindex, Handle: 0xffff0000, Parent: uint32(parent)}.Append(nil))
		e.String(uapi.TCA_KIND, kind)
		return nl.Message{Header: nl.Header{Type: unix.RTM_NEWQDISC}, Data: e.Bytes()}
	}
	enoent := &nl.Error{Err: unix.ENOENT}
	for _, tt := range []struct {
		name    string
		replies []nl.Message
		err     error
		want    string
		wantErr bool
	}{
		{"ingress", []nl.Message{qdisc(3, TC_H_INGRESS, KindIngress)}, nil, KindIngress, false},
		{"clsact", []nl.Message{qdisc(3, TC_H_INGRESS, KindClsact)}, nil, KindClsact, false},
		{"never had one: ENOENT", nil, enoent, "", false},
		{"deleted: a bare ack", nil, nil, "", false},
		{"device gone", nil, &nl.Error{Err: unix.ENODEV}, "", true},
		{"another device's", []nl.Message{qdisc(4, TC_H_INGRESS, KindIngress)}, nil, "", true},
		{"another parent", []nl.Message{qdisc(3, TC_H_ROOT, "noqueue")}, nil, "", true},
		{"two answers", []nl.Message{qdisc(3, TC_H_INGRESS, KindIngress), qdisc(3, TC_H_INGRESS, KindClsact)}, nil, "", true},
		{"truncated", []nl.Message{{Header: nl.Header{Type: unix.RTM_NEWQDISC}, Data: []byte{0, 0}}}, nil, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ProbeKind(3, tt.replies, tt.err)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ProbeKind = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			if tt.err != nil && tt.wantErr && !errors.Is(err, tt.err.(*nl.Error).Err) {
				t.Errorf("error %v does not wrap %v", err, tt.err)
			}
		})
	}
}

// TestProbeIngress proves the fact of testdata/tc/README.md against the
// kernel, with tc setting up each state: a probe is answered with the
// ingress or clsact qdisc, ENOENT when the device never had one, a bare
// ack once it was deleted; without NLM_F_ECHO nothing but the ack comes
// back; the probes of several devices share one sendmsg.
func TestProbeIngress(t *testing.T) {
	ns := newWireNS(t, "eth1")
	tcRun(t, ns, "tc qdisc add dev eth0 ingress")
	tcRun(t, ns, "tc qdisc add dev tap0 clsact")
	tcRun(t, ns, "tc qdisc add dev eth1 ingress")
	tcRun(t, ns, "tc qdisc del dev eth1 ingress")
	c := dial(t, ns)
	eth0, tap0, eth1, peer0 := dev(t, ns, "eth0"), dev(t, ns, "tap0"), dev(t, ns, "eth1"), dev(t, ns, "peer0")
	devs := []Dev{eth0, tap0, eth1, peer0}
	reqs := make([]nl.Request, len(devs))
	for i, d := range devs {
		reqs[i] = ProbeIngressRequest(d.Index, d.Name)
	}
	before := c.Sendmsgs()
	replies, errs := c.Query(reqs...)
	if n := c.Sendmsgs() - before; n != 1 {
		t.Errorf("%d probes took %d sendmsgs, want 1", len(reqs), n)
	}
	for i, want := range []struct {
		answers int
		kind    string
		errno   error
	}{{1, KindIngress, nil}, {1, KindClsact, nil}, {0, "", nil}, {0, "", unix.ENOENT}} {
		d := devs[i]
		if len(replies[i]) != want.answers {
			t.Errorf("%s: %d answers, want %d", d, len(replies[i]), want.answers)
		}
		if want.errno == nil && errs[i] != nil || want.errno != nil && !errors.Is(errs[i], want.errno) {
			t.Errorf("%s: error %v, want %v", d, errs[i], want.errno)
		}
		kind, err := ProbeKind(d.Index, replies[i], errs[i])
		if err != nil || kind != want.kind {
			t.Errorf("%s: ProbeKind = %q, %v; want %q", d, kind, err, want.kind)
		}
		t.Logf("%s: %d answers, %v", d, len(replies[i]), errs[i])
	}
	for _, m := range replies[0] {
		if m.Header.Type != unix.RTM_NEWQDISC {
			t.Errorf("eth0: answer of type %d, want RTM_NEWQDISC", m.Header.Type)
		}
	}

	// Without NLM_F_ECHO: the ack alone, for the device with ingress too.
	plain := ProbeIngressRequest(eth0.Index, eth0.Name)
	plain.Flags = nl.FlagsAck
	rs, es := c.Query(plain)
	if es[0] != nil || len(rs[0]) != 0 {
		t.Errorf("a GET without NLM_F_ECHO: %d answers, %v; want a bare ack", len(rs[0]), es[0])
	}

	// ReadHooks sees the same, and the oracle agrees.
	hs, err := ReadHooks(c, devs)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{KindIngress, KindClsact, "", ""} {
		if hs[i].Qdisc != want {
			t.Errorf("ReadHooks: %s qdisc %q, want %q", devs[i], hs[i].Qdisc, want)
		}
	}
	for d, want := range map[string]string{"eth0": "qdisc ingress ffff:", "tap0": "qdisc clsact ffff:", "eth1": "", "peer0": ""} {
		out := ns.Run("tc", "qdisc", "show", "dev", d, "ingress")
		if !bytes.Contains([]byte(out), []byte(want)) || want == "" && out != "" {
			t.Errorf("tc qdisc show dev %s ingress: %q, want %q", d, out, want)
		}
	}
}

// TestEachHook reads more devices than a chunk holds, in order, each hook
// as ReadHook reads it, and stops at fn's error.
func TestEachHook(t *testing.T) {
	ns, pairs := stressNS(t, HookChunk/2+10)
	c := dial(t, ns)
	var devs []Dev
	for i, p := range pairs {
		if i%3 == 0 {
			if err := Wire(c, p.veth, p.tap, WireOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		devs = append(devs, p.veth, p.tap)
	}
	var got []Hook
	if err := EachHook(c, devs, func(h Hook) error { got = append(got, h); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(devs) {
		t.Fatalf("%d hooks for %d devices", len(got), len(devs))
	}
	for i, h := range got {
		want := readHook(t, c, devs[i])
		if h.Dev != devs[i] || h.Qdisc != want.Qdisc || len(h.Filters) != len(want.Filters) {
			t.Errorf("hook %d: %s %q %d filters, ReadHook: %s %q %d filters", i, h.Dev, h.Qdisc, len(h.Filters), want.Dev, want.Qdisc, len(want.Filters))
		}
		if wired := i/2%3 == 0; wired != (h.Qdisc == KindIngress) {
			t.Errorf("%s: qdisc %q, wired %v", h.Dev, h.Qdisc, wired)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := EachHook(c, devs, func(Hook) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EachHook after fn's error: %v, %d calls", err, n)
	}
}

// TestWireRoundTrips pins the request sequence of Wire and Unwire: on
// fresh devices, both probes in one sendmsg and the four creates in
// another; again on wired devices, the probes and a filter dump per
// device, nothing sent; Unwire, the probes, a dump per device and one
// batch of deletes. The other devices of the namespace add nothing: no
// namespace-wide dump in any of them.
func TestWireRoundTrips(t *testing.T) {
	ns := newWireNS(t, "eth1", "eth2")
	c := dial(t, ns)
	eth0, tap0 := dev(t, ns, "eth0"), dev(t, ns, "tap0")
	for _, step := range []struct {
		name string
		do   func() error
		want uint64
	}{
		{"fresh Wire", func() error { return Wire(c, eth0, tap0, WireOptions{}) }, 2},
		{"repeated Wire", func() error { return Wire(c, eth0, tap0, WireOptions{}) }, 3},
		{"Unwire", func() error { return Unwire(c, eth0, tap0) }, 4},
		{"Unwire again", func() error { return Unwire(c, eth0, tap0) }, 1},
		{"Wire after Unwire", func() error { return Wire(c, eth0, tap0, WireOptions{}) }, 2},
	} {
		before := c.Sendmsgs()
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if n := c.Sendmsgs() - before; n != step.want {
			t.Errorf("%s: %d sendmsgs, want %d", step.name, n, step.want)
		}
	}
}
