package tcwire

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/internal/qmp"
	"github.com/tcwire/tcwire/internal/qmp/qmptest"
	"github.com/tcwire/tcwire/tuntap"
)

// watchRun is a Watch running in the background for a test.
type watchRun struct {
	events chan WatchEvent
	done   chan error
	cancel context.CancelFunc
}

func startWatch(t *testing.T, pairs []Options, wo WatchOptions) *watchRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &watchRun{events: make(chan WatchEvent, 100000), done: make(chan error, 1), cancel: cancel}
	wo.Event = func(e WatchEvent) {
		t.Log(e)
		r.events <- e
	}
	go func() { r.done <- Watch(ctx, pairs, wo) }()
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	return r
}

// next waits for the next event of kind that match accepts (nil: any),
// skipping others.
func (r *watchRun) next(t *testing.T, kind string, match func(WatchEvent) bool) WatchEvent {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e := <-r.events:
			if e.Kind == kind && (match == nil || match(e)) {
				return e
			}
		case err := <-r.done:
			t.Fatalf("Watch returned %v while waiting for %s", err, kind)
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}

// wiredTo checks, with tc as the oracle, that dev and tap are wired both
// ways and that neither has another redirect (a stale half).
func wiredTo(t *testing.T, ns *nstest.NS, dev, tap string) {
	t.Helper()
	for _, d := range [][2]string{{dev, tap}, {tap, dev}} {
		out := ns.Run("tc", "filter", "show", "dev", d[0], "ingress")
		if n := strings.Count(out, "mirred"); n != 1 || !strings.Contains(out, "Redirect to device "+d[1]+")") {
			t.Fatalf("%s: %d redirects, want one to %s:\n%s", d[0], n, d[1], out)
		}
	}
}

func ifindexIs(ns *nstest.NS, tap string) func(WatchEvent) bool {
	return func(e WatchEvent) bool { return e.TapIndex == int32(ns.Ifindex(tap)) }
}

// The tap deleted and made again (a restarted VMM): wired again to the
// new one, no stale half; while it is gone DEV's redirect stays, a cable
// unplugged.
func TestWatchTapRecreated(t *testing.T) {
	nstest.RequireRoot(t)
	ns := vethNS(t)
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
	r := startWatch(t, []Options{{NetNS: ns.Name, Dev: "eth0", Tap: "tap0"}}, WatchOptions{})
	r.next(t, EventWired, nil)
	wiredTo(t, ns, "eth0", "tap0")
	for i := range 3 {
		ns.Run("ip", "link", "del", "tap0")
		r.next(t, EventUnwired, nil)
		if out := ns.Run("tc", "filter", "show", "dev", "eth0", "ingress"); strings.Count(out, "mirred") != 1 {
			t.Fatalf("eth0 with tap0 gone: want its redirect kept (frames dropped, not given to eth0):\n%s", out)
		}
		ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
		e := r.next(t, EventRewired, ifindexIs(ns, "tap0"))
		wiredTo(t, ns, "eth0", "tap0")
		t.Logf("round %d: rewired in %v", i, e.Latency)
	}
}

// The veth pair deleted and made again (a lab's node restarted).
func TestWatchVethRecreated(t *testing.T) {
	nstest.RequireRoot(t)
	ns := vethNS(t)
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
	r := startWatch(t, []Options{{NetNS: ns.Name, Dev: "eth0", Tap: "tap0"}}, WatchOptions{})
	r.next(t, EventWired, nil)
	ns.Run("ip", "link", "del", "eth0")
	r.next(t, EventUnwired, nil)
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	r.next(t, EventRewired, func(e WatchEvent) bool { return e.DevIndex == int32(ns.Ifindex("eth0")) })
	wiredTo(t, ns, "eth0", "tap0")
}

// Watch started before the VMM made its tap wires it when it appears.
func TestWatchBeforeTap(t *testing.T) {
	nstest.RequireRoot(t)
	ns := vethNS(t)
	r := startWatch(t, []Options{{NetNS: ns.Name, Dev: "eth0", Tap: "tap0"}}, WatchOptions{})
	time.Sleep(100 * time.Millisecond)
	if out := ns.Run("ip", "link", "show"); strings.Contains(out, "tap0") {
		t.Fatalf("Watch made tap0 itself:\n%s", out)
	}
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
	r.next(t, EventWired, nil)
	wiredTo(t, ns, "eth0", "tap0")
}

// --link-state: DEV up only while a reader (the VM) holds the tap; the
// VM told (over a stand-in QMP server) when the far end goes down and
// comes back.
func TestWatchLinkState(t *testing.T) {
	nstest.RequireRoot(t)
	ns := vethNS(t)
	ns.Run("ip", "link", "set", "peer0", "up")
	ns.Run("ip", "link", "set", "eth0", "up")
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
	s := qmptest.New(t, "net0")
	tell := func(ctx context.Context, up bool) error {
		c, err := qmp.Dial(ctx, s.Path)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.SetLink(ctx, "net0", up)
	}
	r := startWatch(t, []Options{{NetNS: ns.Name, Dev: "eth0", Tap: "tap0"}},
		WatchOptions{LinkState: []LinkState{{Carry: true, TellVM: tell}}})
	link := func(what string) func(WatchEvent) bool {
		return func(e WatchEvent) bool { return e.Link == what }
	}
	r.next(t, EventLink, link("dev down")) // no VMM yet
	isUp := func(dev string, want bool) {
		t.Helper()
		out := ns.Run("ip", "-o", "link", "show", dev)
		if up := strings.Contains(out, ",UP") || strings.Contains(out, "<UP"); up != want {
			t.Fatalf("%s up = %v, want %v: %s", dev, up, want, out)
		}
	}
	isUp("eth0", false)

	vm, err := tuntap.Open(tuntap.OpenConfig{Name: "tap0", NetNS: ns.Name})
	if err != nil {
		t.Fatal(err)
	}
	r.next(t, EventLink, link("dev up"))
	r.next(t, EventLink, link("vm up")) // the first state
	isUp("eth0", true)
	ns.Run("ip", "link", "set", "peer0", "down") // the far end
	r.next(t, EventLink, link("vm down"))
	ns.Run("ip", "link", "set", "peer0", "up")
	r.next(t, EventLink, link("vm up"))
	want := []qmptest.SetLink{{Name: "net0", Up: true}, {Name: "net0", Up: false}, {Name: "net0", Up: true}}
	if got := s.SetLinks(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("set_link %v, want %v", got, want)
	}
	vm.Close() // the VMM exits
	r.next(t, EventLink, link("dev down"))
	isUp("eth0", false)
}

// A flood of link changes — 1000, the tap deleted and made again
// hundreds of times among them — misses nothing: the wire ends whole, to
// the last tap.
func TestWatchFlood(t *testing.T) {
	nstest.RequireRoot(t)
	ns := vethNS(t)
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
	r := startWatch(t, []Options{{NetNS: ns.Name, Dev: "eth0", Tap: "tap0"}}, WatchOptions{})
	r.next(t, EventWired, nil)
	var b strings.Builder
	for i := range 250 {
		fmt.Fprintf(&b, "link del tap0\ntuntap add tap0 mode tap user 0\nlink set peer0 mtu %d\nlink set peer0 mtu 1500\n", 1400+i)
	}
	ns.Run("sh", "-c", "ip -force -batch - <<'EOF'\n"+b.String()+"EOF")
	r.next(t, EventRewired, ifindexIs(ns, "tap0"))
	// Let the last notifications in, then check the wiring holds.
	time.Sleep(200 * time.Millisecond)
	wiredTo(t, ns, "eth0", "tap0")
}
