package tcwire

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/internal/nstest"
)

// quietWindow is how long a quiet link must stay silent: the host's IPv6
// sends its first router solicitation, DAD and MLD reports within about a
// second of a device's carrier coming up.
const quietWindow = 4 * time.Second

// quietCase is one attach whose two ends are watched for frames of the
// host's own: on the tap (what the VM would receive) and on the far end of
// the veth (what eth0's own stack sends with the VM's MAC).
type quietCase struct {
	name     string
	o        Options
	userTap  bool // tap0 made by ip tuntap, not by tcwire
	quietTap bool // the tap must stay silent
	quietDev bool // eth0 must stay silent
	ns, far  *nstest.NS
	mac      net.HardwareAddr
	tapFile  int
	farSock  int
	toVM     [][]byte
	fromDev  [][]byte
	err      error
}

// TestQuietLink: after the veth's carrier comes up with the far end silent
// (IPv6 off in its namespace), a tap tcwire created sends the VM nothing of
// the host's own, and with QuietDev eth0 sends nothing of its own either;
// the controls (a tap made by ip tuntap, eth0 left as it is) do speak, so
// the windows can see frames.
func TestQuietLink(t *testing.T) {
	cases := []*quietCase{
		{name: "created tap", quietTap: true},
		{name: "created tap, QuietDev", o: Options{QuietDev: true}, quietTap: true, quietDev: true},
		{name: "user's tap, QuietTap", o: Options{QuietTap: true}, userTap: true, quietTap: true},
		{name: "control: user's tap as it is", userTap: true},
	}
	for _, c := range cases {
		c.setUp(t)
	}
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The far end goes up: eth0 gets its carrier now.
			if _, err := c.far.Try("ip", "link", "set", "peer0", "up"); err != nil {
				c.err = err
				return
			}
			// The socket was bound while peer0 was down: the kernel
			// left ENETDOWN pending on it, which reading SO_ERROR clears.
			if _, err := unix.GetsockoptInt(c.farSock, unix.SOL_SOCKET, unix.SO_ERROR); err != nil {
				c.err = err
				return
			}
			var fromFar [][]byte
			var err2 error
			done := make(chan struct{})
			go func() {
				fromFar, err2 = nstest.ReadFrames(c.farSock, quietWindow)
				close(done)
			}()
			c.toVM, c.err = nstest.ReadFrames(c.tapFile, quietWindow)
			<-done
			if c.err == nil {
				c.err = err2
			}
			for _, f := range fromFar {
				if len(f) >= 12 && bytes.Equal(f[6:12], c.mac) {
					c.fromDev = append(c.fromDev, f)
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err != nil {
				t.Fatal(c.err)
			}
			t.Logf("%d frames to the VM, %d from eth0's own stack in %s", len(c.toVM), len(c.fromDev), quietWindow)
			for _, f := range c.fromDev {
				t.Logf("from eth0: %s", nstest.FrameSummary(f))
			}
			if got := len(c.toVM) == 0; got != c.quietTap {
				t.Errorf("the VM received %d frames of the host's; want none: %v", len(c.toVM), c.quietTap)
			}
			if got := len(c.fromDev) == 0; got != c.quietDev {
				t.Errorf("eth0 sent %d frames of its own; want none: %v", len(c.fromDev), c.quietDev)
			}
			if c.quietDev && !strings.Contains(c.ns.Run("ip", "-d", "link", "show", "eth0"), "addrgenmode none") {
				t.Errorf("eth0 is not addrgenmode none")
			}
		})
	}
}

func (c *quietCase) setUp(t *testing.T) {
	t.Helper()
	c.ns, c.far = nstest.New(t), nstest.New(t)
	for _, k := range []string{"all", "default"} {
		c.far.Run("sysctl", "-qw", "net.ipv6.conf."+k+".disable_ipv6=1")
	}
	c.ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0", "netns", c.far.Name)
	c.ns.Run("ip", "link", "set", "eth0", "up")
	if c.userTap {
		c.ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "vnet_hdr", "user", "0")
	}
	o := c.o
	o.NetNS, o.Dev, o.Tap, o.Files = c.ns.Name, "eth0", "tap0", true
	a, err := Attach(context.Background(), o)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	t.Cleanup(func() { closeAll(a) })
	c.mac, c.tapFile = a.MAC, int(a.Files[0].Fd())
	// A packet socket on the far end sees what eth0 sends.
	err = netns.Do(c.far.Name, func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		peer, err := net.InterfaceByName("peer0")
		if err == nil {
			err = unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: peer.Index})
		}
		if err != nil {
			unix.Close(fd)
			return err
		}
		c.farSock = fd
		return nil
	})
	if err != nil {
		t.Fatalf("%s: packet socket on peer0: %v", c.name, err)
	}
	t.Cleanup(func() { unix.Close(c.farSock) })
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// TestQuietDevRestored: QuietDev takes eth0's link-local address and
// address generation away; Detach puts both back as they were.
func TestQuietDevRestored(t *testing.T) {
	ns := vethNS(t)
	for _, k := range []string{"accept_dad=0"} {
		ns.Run("sysctl", "-qw", "net.ipv6.conf.eth0."+k)
	}
	ns.Run("ip", "link", "set", "peer0", "up")
	ns.Run("ip", "link", "set", "eth0", "up")
	v6 := func() string {
		out := ns.Run("ip", "-6", "-o", "addr", "show", "dev", "eth0")
		var addrs []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(l); len(f) > 3 {
				addrs = append(addrs, f[3])
			}
		}
		mode := "?"
		if f := strings.Fields(ns.Run("ip", "-d", "link", "show", "eth0")); len(f) > 0 {
			for i, w := range f {
				if w == "addrgenmode" && i+1 < len(f) {
					mode = f[i+1]
				}
			}
		}
		return mode + " " + strings.Join(addrs, " ")
	}
	deadline := time.Now().Add(3 * time.Second)
	before := v6()
	for !strings.Contains(before, "fe80::") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		before = v6()
	}
	if !strings.HasPrefix(before, "eui64 fe80::") {
		t.Fatalf("eth0 before attach: %q, want eui64 and a link-local address", before)
	}
	o := Options{NetNS: ns.Name, Dev: "eth0", Tap: "tap0", QuietDev: true}
	if _, err := Attach(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := v6(); got != "none " {
		t.Errorf("eth0 after attach with QuietDev: %q, want addrgenmode none and no IPv6 address", got)
	}
	if ps, err := Check(context.Background(), o); err != nil || len(ps) != 0 {
		t.Errorf("Check after attach: %v, %v", ps, err)
	}
	if err := Detach(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := v6(); got != before {
		t.Errorf("eth0 after detach: %q, want %q as before attach", got, before)
	}
}
