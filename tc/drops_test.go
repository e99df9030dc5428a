package tc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/uapi"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
)

// tcActionStats is the "stats" object of the one action on dev's ingress
// hook, as `tc -s -j filter show` prints it.
type tcActionStats struct {
	Bytes      uint64 `json:"bytes"`
	Packets    uint64 `json:"packets"`
	Drops      uint64 `json:"drops"`
	Overlimits uint64 `json:"overlimits"`
}

func tcStats(t *testing.T, ns *nstest.NS, dev string) tcActionStats {
	t.Helper()
	var filters []struct {
		Options struct {
			Actions []struct {
				Stats tcActionStats `json:"stats"`
			} `json:"actions"`
		} `json:"options"`
	}
	out := ns.Run("tc", "-s", "-j", "filter", "show", "dev", dev, "ingress")
	if err := json.Unmarshal([]byte(out), &filters); err != nil {
		t.Fatalf("tc -s -j filter show dev %s: %v: %s", dev, err, out)
	}
	var found []tcActionStats
	for _, f := range filters {
		for _, a := range f.Options.Actions {
			found = append(found, a.Stats)
		}
	}
	if len(found) != 1 {
		t.Fatalf("tc shows %d actions on %s, want 1: %s", len(found), dev, out)
	}
	return found[0]
}

// TestRedirectUndeliverable: a redirect to a tap that cannot take frames
// delivers nothing, and the decoded counters say what tc -s says. In each
// case mirred counts the frames as sent and as overlimits, never as drops:
//   - tap0 down, then up but held by no process (persistent, NO-CARRIER):
//     the ingress qdisc counts the frames as its drops (TC_ACT_SHOT);
//   - tap0 deleted (the target shows as ifindex 0): the frames are
//     consumed without a qdisc drop.
func TestRedirectUndeliverable(t *testing.T) {
	ns := newWireNS(t)                                          // tap0 made by ip tuntap: persistent, no fd
	ns.Run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1") // no stray frames
	for _, d := range []string{"eth0", "peer0"} {
		ns.Run("ip", "link", "set", d, "up")
	}
	c := dial(t, ns)
	eth0, tap0 := dev(t, ns, "eth0"), dev(t, ns, "tap0")
	if err := Wire(c, eth0, tap0, WireOptions{}); err != nil {
		t.Fatal(err)
	}
	peer := packetSocket(t, ns, ns.Ifindex("peer0"))
	const n = 5
	sent := uint64(0)
	for _, step := range []struct {
		name       string
		do         func()
		qdiscDrops uint64 // added by this step
	}{
		{"tap0 down", func() {}, n},
		{"tap0 up without carrier", func() { ns.Run("ip", "link", "set", "tap0", "up") }, n},
		{"tap0 deleted", func() { ns.Run("ip", "link", "del", "tap0") }, 0},
	} {
		step.do()
		before := qdiscDrops(t, ns, "eth0")
		for i := range n {
			if _, err := unix.Write(peer, testFrame(0xbb, fmt.Sprintf("tcwire %s %d", step.name, i))); err != nil {
				t.Fatal(err)
			}
		}
		sent += n
		// The frames reach eth0's ingress through the backlog; wait for them.
		var r Redirect
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			rs := readHook(t, c, eth0).Redirects()
			if len(rs) != 1 {
				t.Fatalf("%s: eth0: %d redirects", step.name, len(rs))
			}
			r = rs[0]
			if r.Packets >= sent || time.Now().After(deadline) {
				break
			}
		}
		want := tcStats(t, ns, "eth0")
		got := tcActionStats{Bytes: r.Bytes, Packets: r.Packets, Drops: r.Drops, Overlimits: r.Overlimits}
		if got != want {
			t.Errorf("%s: decoded %+v, tc -s says %+v", step.name, got, want)
		}
		if r.Packets != sent || r.Overlimits != sent || r.Drops != 0 {
			t.Errorf("%s: %d packets, %d overlimits, %d drops; want %d, %d, 0", step.name, r.Packets, r.Overlimits, r.Drops, sent, sent)
		}
		if d := qdiscDrops(t, ns, "eth0") - before; d != step.qdiscDrops {
			t.Errorf("%s: eth0's ingress qdisc dropped %d frames, want %d", step.name, d, step.qdiscDrops)
		}
		if step.name != "tap0 deleted" {
			if tx := ns.Run("cat", "/sys/class/net/tap0/statistics/tx_packets"); tx != "0\n" {
				t.Errorf("%s: tap0 transmitted %q packets, want 0", step.name, tx)
			}
		} else if r.TargetIfindex != 0 {
			t.Errorf("%s: target ifindex %d, want 0", step.name, r.TargetIfindex)
		}
	}
}

// qdiscDrops is the drop count of dev's ingress qdisc, as tc -s -j says.
func qdiscDrops(t *testing.T, ns *nstest.NS, dev string) uint64 {
	t.Helper()
	var qdiscs []struct {
		Drops uint64 `json:"drops"`
	}
	out := ns.Run("tc", "-s", "-j", "qdisc", "show", "dev", dev, "ingress")
	if err := json.Unmarshal([]byte(out), &qdiscs); err != nil || len(qdiscs) != 1 {
		t.Fatalf("tc -s -j qdisc show dev %s ingress: %v: %s", dev, err, out)
	}
	return qdiscs[0].Drops
}

// TestActionStats decodes TCA_ACT_STATS as the kernel writes it: basic
// counters, the 64-bit packet count when present, and the queue counters.
func TestActionStats(t *testing.T) {
	stats := func(pkt64 bool, queue []byte) []byte {
		e := nl.NewEncoder(nil)
		e.String(uapi.TCA_ACT_KIND, KindMirred)
		e.Nest(uapi.TCA_ACT_STATS|nl.NLA_F_NESTED, func(e *nl.Encoder) {
			basic := nl.AppendUint64(nil, 1500)
			basic = nl.AppendUint32(basic, 7)
			e.Attr(uapi.TCA_STATS_BASIC, append(basic, 0, 0, 0, 0))
			if pkt64 {
				e.Attr(uapi.TCA_STATS_PKT64, nl.AppendUint64(nil, 1<<33))
			}
			e.Attr(uapi.TCA_STATS_QUEUE, queue)
		})
		return e.Bytes()
	}
	var q []byte
	for _, v := range []uint32{1, 2, 3, 4, 5} { // qlen backlog drops requeues overlimits
		q = nl.AppendUint32(q, v)
	}
	var a Action
	if err := a.UnmarshalBinary(stats(false, q)); err != nil || a.Bytes != 1500 || a.Packets != 7 || a.Drops != 3 || a.Overlimits != 5 {
		t.Errorf("decoded %+v, %v; want 1500 bytes, 7 packets, 3 drops, 5 overlimits", a, err)
	}
	if err := a.UnmarshalBinary(stats(true, q)); err != nil || a.Packets != 1<<33 {
		t.Errorf("with TCA_STATS_PKT64: %d packets, %v; want %d", a.Packets, err, uint64(1)<<33)
	}
	if err := a.UnmarshalBinary(stats(false, q[:16])); !errors.Is(err, nl.ErrTruncated) || !strings.Contains(err.Error(), "gnet_stats_queue") {
		t.Errorf("short gnet_stats_queue: %v", err)
	}
}
