package main

// CNI plugin mode end to end: the real cnitool runs conflists chaining the
// real ptp or bridge plugin, host-local and tcwire (issue 5). The plugins
// are built from source at pinned versions by `make cni-plugins` (into
// bin/cni; TCWIRE_CNI_BIN points elsewhere).
//
// The host is played by a namespace: cnitool runs under `ip netns exec
// HOST`, so ptp's and bridge's host-side veth, cni0, addresses, routes and
// ip_forward sysctl land there, never in the root namespace (ipMasq is
// off: no iptables). `ip netns exec` gives the command a mount namespace of
// its own, in which a temporary directory is bind-mounted over /var/lib:
// libcni's result cache (/var/lib/cni) and host-local's leases (dataDir)
// stay in the test's temporary directory.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tuntap"
)

// cniTools are the programs of bin/cni the tests need.
var cniTools = []string{"cnitool", "ptp", "bridge", "host-local"}

// cniBin returns the directory holding cnitool and the plugins, running
// `make cni-plugins` when they are not there yet.
func cniBin(t *testing.T) string {
	t.Helper()
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip")
	dir := os.Getenv("TCWIRE_CNI_BIN")
	if dir == "" {
		root, err := filepath.Abs("../..")
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "bin", "cni")
		if missingTool(dir) != "" {
			cmd := exec.Command("make", "-C", root, "cni-plugins", "GO="+goTool())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Logf("make cni-plugins: %v\n%s", err, out)
			}
		}
	}
	if m := missingTool(dir); m != "" {
		if os.Getenv(nstest.EnvRequire) == "1" {
			t.Fatalf("%s not found (`make cni-plugins` builds it; %s=1 forbids skipping)", m, nstest.EnvRequire)
		}
		t.Skipf("%s not found: `make cni-plugins` builds it", m)
	}
	return dir
}

func missingTool(dir string) string {
	for _, tool := range cniTools {
		if _, err := os.Stat(filepath.Join(dir, tool)); err != nil {
			return filepath.Join(dir, tool)
		}
	}
	return ""
}

// cniHost is a namespace playing the host, with a conflist directory and a
// private /var/lib for cnitool.
type cniHost struct {
	*nstest.NS
	t       *testing.T
	path    string // CNI_PATH: bin/cni, then the tcwire under test
	confDir string
	libDir  string
}

func newCNIHost(t *testing.T, conflist string) *cniHost {
	t.Helper()
	bin := cniBin(t)
	dir := t.TempDir()
	h := &cniHost{NS: nstest.New(t), t: t, path: bin + ":" + filepath.Dir(tcwireBin),
		confDir: filepath.Join(dir, "net.d"), libDir: filepath.Join(dir, "lib")}
	for _, d := range []string{h.confDir, h.libDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conflist = strings.ReplaceAll(conflist, "@IPAMDIR@", filepath.Join(dir, "ipam"))
	if err := os.WriteFile(filepath.Join(h.confDir, "test.conflist"), []byte(conflist), 0o644); err != nil {
		t.Fatal(err)
	}
	return h
}

// cnitool runs `cnitool VERB test NETNS` in the host namespace.
func (h *cniHost) cnitool(verb string, netns string, env ...string) result {
	h.t.Helper()
	script := `mount --bind "$LIBDIR" /var/lib && exec cnitool "$@"`
	argv := []string{"ip", "netns", "exec", h.Name, "env", "PATH=" + h.path + ":" + os.Getenv("PATH"),
		"CNI_PATH=" + h.path, "NETCONFPATH=" + h.confDir, "LIBDIR=" + h.libDir}
	argv = append(argv, env...)
	argv = append(argv, "sh", "-c", script, "sh", verb, "test", netns)
	start := time.Now()
	r := execute(h.t, argv...)
	h.t.Logf("cnitool %s: exit %d in %v", verb, r.code, time.Since(start).Round(time.Millisecond))
	return r
}

func (h *cniHost) mustCnitool(verb, netns string, env ...string) string {
	h.t.Helper()
	r := h.cnitool(verb, netns, env...)
	if r.code != 0 {
		h.t.Fatalf("cnitool %s: %s", verb, r)
	}
	return r.stdout
}

// cniOut is a result as the tests read it.
type cniOut struct {
	CNIVersion string `json:"cniVersion"`
	Interfaces []struct {
		Name    string `json:"name"`
		MAC     string `json:"mac"`
		MTU     int    `json:"mtu"`
		Sandbox string `json:"sandbox"`
	} `json:"interfaces"`
	IPs []struct {
		Version   string `json:"version"`
		Interface *int   `json:"interface"`
		Address   string `json:"address"`
		Gateway   string `json:"gateway"`
	} `json:"ips"`
}

func parseOut(t *testing.T, s string) cniOut {
	t.Helper()
	var r cniOut
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("result is not JSON: %v\n%s", err, s)
	}
	return r
}

// addressesOf lists the addresses whose interface index is i.
func (r cniOut) addressesOf(i int) []string {
	var out []string
	for _, ip := range r.IPs {
		if ip.Interface != nil && *ip.Interface == i {
			out = append(out, ip.Address+" gw "+ip.Gateway+" v"+ip.Version)
		}
	}
	return out
}

func conflist(version, main string) string {
	return fmt.Sprintf(`{"cniVersion": %q, "name": "test", "plugins": [%s, {"type": "tcwire"}]}`, version, main)
}

const (
	ptpConf    = `{"type": "ptp", "ipMasq": false, "mtu": 1400, "ipam": {"type": "host-local", "subnet": "10.99.0.0/24", "dataDir": "@IPAMDIR@"}}`
	bridgeConf = `{"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "ipam": {"type": "host-local", "subnet": "10.98.0.0/24", "dataDir": "@IPAMDIR@"}}`
)

// TestCNIChains: for ptp and bridge chains in several spec versions, ADD
// gives prevResult + the tap + the VM's interface, the redirect is in place
// both ways and carries frames between the tap's fd and the host's veth,
// CHECK passes (and fails once the wiring is broken), DEL removes the tap
// and is safe to repeat, and DEL succeeds after the namespace is gone.
func TestCNIChains(t *testing.T) {
	for _, tc := range []struct {
		name, version, main string
		hostIfaces          int // interfaces before the container's eth0
	}{
		{"ptp-1.1.0", "1.1.0", ptpConf, 1},
		{"bridge-1.0.0", "1.0.0", bridgeConf, 2},
		{"ptp-0.4.0", "0.4.0", ptpConf, 1},
		{"bridge-0.3.1", "0.3.1", bridgeConf, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			defer func() { t.Logf("%s took %v", tc.name, time.Since(start).Round(time.Millisecond)) }()
			host := newCNIHost(t, conflist(tc.version, tc.main))
			ctr := nstest.New(t)

			// ADD
			out := host.mustCnitool("add", ctr.Path())
			r := parseOut(t, out)
			if r.CNIVersion != tc.version {
				t.Errorf("cniVersion %q, want the conflist's %q", r.CNIVersion, tc.version)
			}
			eth := tc.hostIfaces
			if len(r.Interfaces) != eth+3 {
				t.Fatalf("%d interfaces, want %d (host side, eth0, tap, VM):\n%s", len(r.Interfaces), eth+3, out)
			}
			ethIf, tapIf, vmIf := r.Interfaces[eth], r.Interfaces[eth+1], r.Interfaces[eth+2]
			ethMAC := mustLink(t, ctr, "eth0").Address
			tapLink := mustLink(t, ctr, "tap0")
			if ethIf.Name != "eth0" || ethIf.Sandbox != ctr.Path() {
				t.Errorf("interfaces[%d] = %+v, want eth0 in %s", eth, ethIf, ctr.Path())
			}
			if tapIf.Name != "tap0" || tapIf.Sandbox != ctr.Path() || tapIf.MAC != tapLink.Address {
				t.Errorf("tap interface %+v, want tap0 with MAC %s in %s", tapIf, tapLink.Address, ctr.Path())
			}
			if vmIf.Name != "tap0" || vmIf.MAC != ethMAC || !strings.HasPrefix(vmIf.Sandbox, "cnitool-") {
				t.Errorf("VM interface %+v, want tap0 with eth0's MAC %s and the container ID as sandbox", vmIf, ethMAC)
			}
			if got, want := r.addressesOf(eth+2), r.addressesOf(eth); len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("VM interface addresses %v, want eth0's %v", got, want)
			}
			for i, ip := range r.IPs {
				if wantV := !strings.HasPrefix(tc.version, "1."); (ip.Version != "") != wantV {
					t.Errorf("ips[%d] version %q in a %s result", i, ip.Version, tc.version)
				}
			}
			// The tap as tc-redirect-tap makes it, the MTU of the veth
			// (ptp sets 1400).
			if tapLink.MTU != mustLink(t, ctr, "eth0").MTU || tapLink.Alias != "tcwire" || !tapLink.up() {
				t.Errorf("tap0: MTU %d (eth0 %d), alias %q, up %v", tapLink.MTU, mustLink(t, ctr, "eth0").MTU, tapLink.Alias, tapLink.up())
			}
			if u := tapLink.LinkInfo.Data.User; u == nil || (*u != "root" && *u != "0") {
				t.Errorf("tap0 owner %v, want the plugin's euid 0", u)
			}

			// The redirect, both ways, as `tcwire show` sees it.
			rows := showJSON(t, ctr)
			wires := map[string]bool{}
			for _, row := range rows {
				if row.Wire {
					wires[row.Dev+">"+row.Target] = true
				}
			}
			if !wires["eth0>tap0"] || !wires["tap0>eth0"] || len(rows) != 2 {
				t.Errorf("tcwire show: %+v, want eth0 and tap0 wired both ways", rows)
			}

			// Frames: tap fd -> eth0 -> the host's veth, and back.
			hostVeth := ""
			for _, in := range r.Interfaces[:eth] {
				if l := linkOf(t, host.NS, in.Name); l != nil && l.LinkInfo.Kind == "veth" {
					hostVeth = in.Name
				}
			}
			if hostVeth == "" {
				t.Fatalf("no host-side veth among %+v", r.Interfaces[:eth])
			}
			framesThrough(t, host.NS, hostVeth, ctr, "tap0")

			// CHECK (0.4.0 on), then broken wiring fails it.
			if tc.version != "0.3.1" {
				host.mustCnitool("check", ctr.Path())
				ctr.Run("tc", "qdisc", "del", "dev", "tap0", "ingress")
				cr := host.cnitool("check", ctr.Path())
				if cr.code == 0 || !strings.Contains(cr.stderr, "tap0 has no ingress qdisc") {
					t.Errorf("CHECK after deleting tap0's qdisc: %s", cr)
				}
				// A repeated ADD (the plugin alone, with the same
				// prevResult) repairs it and answers the same.
				again := pluginAdd(t, host, ctr, tc.version, out, vmIf.Sandbox)
				if a := parseOut(t, again); !slices.Equal(a.Interfaces, r.Interfaces) || len(a.IPs) != len(r.IPs) {
					t.Errorf("repeated ADD answered\n%s\nwant\n%s", again, out)
				}
				host.mustCnitool("check", ctr.Path())
			}

			// DEL, DEL again.
			host.mustCnitool("del", ctr.Path())
			if l := linkOf(t, ctr, "tap0"); l != nil {
				t.Errorf("tap0 survived DEL")
			}
			host.mustCnitool("del", ctr.Path())

			// ADD again, then the container's namespace goes away before DEL.
			host.mustCnitool("add", ctr.Path())
			mustLink(t, ctr, "tap0")
			ctr.Delete()
			host.mustCnitool("del", ctr.Path())

			if tc.version == "1.1.0" {
				host.mustCnitool("status", ctr.Path())
				host.mustCnitool("gc", ctr.Path())
			}
		})
	}
}

// pluginAdd runs tcwire's ADD alone, as the last plugin of the chain, with
// prevResult and the environment cnitool gave it.
func pluginAdd(t *testing.T, host *cniHost, ctr *nstest.NS, version, prevResult, containerID string) string {
	t.Helper()
	conf := fmt.Sprintf(`{"cniVersion":%q,"name":"test","type":"tcwire","prevResult":%s}`, version, prevResult)
	cmd := exec.Command("ip", "netns", "exec", host.Name, tcwireBin)
	cmd.Env = append(os.Environ(), "CNI_COMMAND=ADD", "CNI_CONTAINERID="+containerID, "CNI_NETNS="+ctr.Path(), "CNI_IFNAME=eth0", "CNI_PATH="+host.path)
	cmd.Stdin = strings.NewReader(conf)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tcwire ADD: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// framesThrough writes a frame to the tap's fd and expects it on hostDev
// in host, then sends one out of hostDev and expects it on the tap's fd.
func framesThrough(t *testing.T, host *nstest.NS, hostDev string, ctr *nstest.NS, tapName string) {
	t.Helper()
	tap, err := tuntap.Open(tuntap.OpenConfig{Name: tapName, NetNS: ctr.Path()})
	if err != nil {
		t.Fatalf("open %s: %v", tapName, err)
	}
	defer tap.Close()
	f := tap.Files()[0]
	// Opening the tap turns its carrier on at once, but the kernel
	// activates its qdisc (and sets operstate UP) later, from linkwatch:
	// until then frames to the tap are dropped, as on any NIC whose link
	// just came up. A VMM's guest sees the same. Wait for it: on a busy
	// machine it can take seconds.
	waitOperUp(t, ctr, tapName)
	hostIdx := host.Ifindex(hostDev)
	sock := hostPacketSocket(t, host, hostIdx)
	const etherType = 0x88b5 // IEEE 802 local experimental
	frame := func(marker string) []byte {
		b := make([]byte, 14, 14+len(marker))
		copy(b, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x42})
		binary.BigEndian.PutUint16(b[12:], etherType)
		return append(b, marker...)
	}
	const vnetHdr = 10 // the tap has IFF_VNET_HDR: an all-zero header, no offloads

	// Each direction gets up to three tries, 5 s each: a frame lost to a
	// busy machine is logged, a path that carries nothing fails.
	try := func(what string, send func() error, read func() ([]byte, error), want []byte) {
		t.Helper()
		var saw []string
		for i := 1; i <= 3; i++ {
			if err := send(); err != nil {
				t.Fatalf("%s: send: %v", what, err)
			}
			ok, s := waitForFrame(read, want)
			if ok {
				if i > 1 {
					t.Logf("%s: arrived on try %d (before: %s)", what, i, strings.Join(saw, "; "))
				}
				return
			}
			saw = append(saw, s)
		}
		show, _ := ctr.Try(tcwireBin, "show")
		stats, _ := ctr.Try("ip", "-s", "link")
		hostStats, _ := host.Try("ip", "-s", "link", "show", hostDev)
		t.Errorf("%s: nothing arrived in 3 tries (%s)\n%s\n%s\n%s", what, strings.Join(saw, "; "), show, stats, hostStats)
	}

	out := frame("tcwire cni: vm to host")
	try(fmt.Sprintf("%s fd -> %s in the host namespace", tapName, hostDev),
		func() error { _, err := f.Write(append(make([]byte, vnetHdr), out...)); return err },
		func() ([]byte, error) { return recvSock(sock) }, out)

	in := frame("tcwire cni: host to vm")
	readTap := func() ([]byte, error) {
		buf := make([]byte, 65536)
		f.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := f.Read(buf)
		if err != nil {
			return nil, err
		}
		if n < vnetHdr {
			return nil, nil
		}
		return buf[vnetHdr:n], nil
	}
	try(fmt.Sprintf("%s in the host namespace -> %s fd", hostDev, tapName),
		func() error { return unix.Sendto(sock, in, 0, &unix.SockaddrLinklayer{Ifindex: hostIdx, Halen: 6}) },
		readTap, in)
}

// waitOperUp waits up to 10 s for name's operstate to be UP.
func waitOperUp(t *testing.T, ns *nstest.NS, name string) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if kernelLink(t, ns, name).OperState == link.IF_OPER_UP {
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Logf("%s came up %v after it was opened", name, d.Round(time.Millisecond))
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s is not UP 10 s after it was opened: %s", name, ns.Run("ip", "link", "show", name))
}

// waitForFrame reads frames for up to 5 s until one equals want; when none
// does, it describes what it saw.
func waitForFrame(read func() ([]byte, error), want []byte) (bool, string) {
	seen := 0
	var last []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		got, err := read()
		if err != nil && !errors.Is(err, unix.EAGAIN) && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, unix.EINTR) {
			return false, fmt.Sprintf("read error %v after %d frames", err, seen)
		}
		if bytes.Equal(got, want) {
			return true, ""
		}
		if got != nil {
			seen++
			last = got
		}
	}
	return false, fmt.Sprintf("%d other frames, the last %x", seen, last)
}

func recvSock(fd int) ([]byte, error) {
	buf := make([]byte, 65536)
	n, from, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return nil, err
	}
	if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
		return nil, nil
	}
	return buf[:n], nil
}

// hostPacketSocket opens an AF_PACKET socket in ns bound to ifindex, with
// a short receive timeout.
func hostPacketSocket(t *testing.T, ns *nstest.NS, ifindex int) int {
	t.Helper()
	proto := int(htons(unix.ETH_P_ALL))
	fd := -1
	err := netns.Do(ns.Name, func() error {
		var err error
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifindex})
	})
	if fd >= 0 {
		t.Cleanup(func() { unix.Close(fd) })
	}
	if err != nil {
		t.Fatalf("AF_PACKET socket in %s: %v", ns.Name, err)
	}
	tv := unix.NsecToTimeval((200 * time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return fd
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// cniPlugin runs the tcwire binary as a CNI plugin: CNI_COMMAND cmd on
// CNI_NETNS ns, container ID ctr1, CNI_IFNAME eth0, plus env.
func cniPlugin(t *testing.T, cmd string, ns *nstest.NS, stdin string, env ...string) result {
	t.Helper()
	c := exec.Command(tcwireBin)
	c.Env = append(os.Environ(), "CNI_COMMAND="+cmd, "CNI_CONTAINERID=ctr1", "CNI_IFNAME=eth0")
	if ns != nil {
		c.Env = append(c.Env, "CNI_NETNS="+ns.Path())
	}
	c.Env = append(c.Env, env...)
	c.Stdin = strings.NewReader(stdin)
	return runCmd(t, c, "tcwire "+cmd)
}

func mustPlugin(t *testing.T, cmd string, ns *nstest.NS, stdin string, env ...string) string {
	t.Helper()
	r := cniPlugin(t, cmd, ns, stdin, env...)
	if r.code != 0 {
		t.Fatalf("tcwire CNI %s: %s", cmd, r)
	}
	return r.stdout
}

// cniError is the CNI error object, as the tests read it.
type cniError struct {
	Code    uint   `json:"code"`
	Msg     string `json:"msg"`
	Details string `json:"details"`
}

// The codes of internal/cni the tests check.
const (
	cniErrConflict = 102
	cniErrNotFound = 103
	cniErrCheck    = 104
)

// cniErr decodes the error object a failed plugin call printed.
func cniErr(t *testing.T, r result) cniError {
	t.Helper()
	var e cniError
	if r.code == 0 || json.Unmarshal([]byte(r.stdout), &e) != nil || e.Code == 0 {
		t.Fatalf("want a CNI error object and a non-zero exit: %s", r)
	}
	return e
}

// TestCNIPluginKnobs: the tap's name, owner, group, queues and MTU from the
// netconf and CNI_ARGS; a Cilium-style prevResult (no sandbox, no interface
// index) still finds the veth (CNI_IFNAME among several devices) and gives
// the VM the addresses; CHECK notices a changed MTU and owner.
func TestCNIPluginKnobs(t *testing.T) {
	ns := vethNS(t)
	ns.Run("ip", "link", "set", "eth0", "mtu", "9000")
	prev := `{"cniVersion":"1.0.0","interfaces":[{"name":"lxc12345"}],"ips":[{"address":"10.0.1.7/32","gateway":"10.0.1.1"}]}`
	conf := `{"cniVersion":"1.0.0","name":"n","type":"tcwire","tapName":"vm0","tapUID":1000,"queues":2,"mtu":1500,"prevResult":` + prev + `}`
	addArgs := "CNI_ARGS=IgnoreUnknown=1;TC_REDIRECT_TAP_NAME=vm1;TC_REDIRECT_TAP_GID=100"
	out := mustPlugin(t, "ADD", ns, conf, addArgs)
	// A runtime retrying ADD with the same prevResult gets the same answer.
	if again := mustPlugin(t, "ADD", ns, conf, addArgs); again != out {
		t.Errorf("repeated ADD answered\n%s\nthe first\n%s", again, out)
	}
	r := parseOut(t, out)
	if len(r.Interfaces) != 3 || r.Interfaces[2].Name != "vm1" || r.Interfaces[2].Sandbox != "ctr1" || r.Interfaces[2].MAC != mustLink(t, ns, "eth0").Address {
		t.Fatalf("result %s: want lxc12345, vm1 in the namespace, vm1 for the VM with eth0's MAC", out)
	}
	if got := r.addressesOf(2); len(got) != 1 || !strings.HasPrefix(got[0], "10.0.1.7/32 gw 10.0.1.1") {
		t.Errorf("VM addresses %v, want 10.0.1.7/32", got)
	}
	l := kernelLink(t, ns, "vm1")
	// A multiqueue tap has the kernel's maximum of queues; queues=2 shows
	// as IFF_MULTI_QUEUE.
	if l.MTU != 1500 || l.Tun == nil || !l.Tun.MultiQueue || l.Tun.Owner == nil || *l.Tun.Owner != 1000 || l.Tun.Group == nil || *l.Tun.Group != 100 {
		t.Errorf("vm1: MTU %d, tun %+v; want MTU 1500, multiqueue, owner 1000, group 100", l.MTU, l.Tun)
	}
	args := "CNI_ARGS=TC_REDIRECT_TAP_NAME=vm1;TC_REDIRECT_TAP_GID=100"
	checkConf := `{"cniVersion":"1.0.0","name":"n","type":"tcwire","tapUID":1000,"mtu":1500,"prevResult":` + out + `}`
	mustPlugin(t, "CHECK", ns, checkConf, args)

	ns.Run("ip", "link", "set", "vm1", "mtu", "1400")
	e := cniErr(t, cniPlugin(t, "CHECK", ns, checkConf, args))
	if e.Code != cniErrCheck || !strings.Contains(e.Details, "vm1 has MTU 1400, want 1500") {
		t.Errorf("CHECK with a changed MTU: %+v", e)
	}
	// Another owner than the one ADD gave it.
	e = cniErr(t, cniPlugin(t, "CHECK", ns, strings.Replace(checkConf, `"tapUID":1000`, `"tapUID":1001`, 1), args))
	if !strings.Contains(e.Details, "vm1 has owner 1000, want 1001") {
		t.Errorf("CHECK with another owner: %+v", e)
	}
	mustPlugin(t, "DEL", ns, checkConf, args)
	if linkOf(t, ns, "vm1") != nil {
		t.Error("vm1 survived DEL")
	}
	if f := ingressFilters(t, ns, "eth0"); strings.Contains(f, "mirred") {
		t.Errorf("eth0 still redirects after DEL:\n%s", f)
	}
}

// kernelLink is a device as tcwire's link package reads it (numeric owner
// and group, which ip prints as names).
func kernelLink(t *testing.T, ns *nstest.NS, name string) *link.Link {
	t.Helper()
	c, err := nl.Dial(&nl.Config{NetNS: ns.Path()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l, err := link.Lookup(c, name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestCNIPluginDelKeepsForeign: DEL removes tcwire's filters and tap only:
// a foreign filter keeps eth0's ingress qdisc, a clsact qdisc stays, a tap
// tcwire did not create stays (unwired). DEL without prevResult (0.3.x)
// finds the veth through the tap's redirect.
func TestCNIPluginDelKeepsForeign(t *testing.T) {
	ns := vethNS(t)
	prev := func(v string) string {
		return `{"cniVersion":"` + v + `","interfaces":[{"name":"eth0","sandbox":"` + ns.Path() + `"}],"ips":[{"interface":0,"address":"10.1.0.2/24"}]}`
	}
	conf := func(v string, withPrev bool) string {
		s := `{"cniVersion":"` + v + `","name":"n","type":"tcwire"`
		if withPrev {
			s += `,"prevResult":` + prev(v)
		}
		return s + "}"
	}

	// A foreign filter on eth0's ingress qdisc (a mirror: this kernel has
	// no gact for `action pass`).
	mustPlugin(t, "ADD", ns, conf("0.3.1", true))
	ns.Run("tc", "filter", "add", "dev", "eth0", "parent", "ffff:", "pref", "7", "protocol", "ip", "u32", "match", "u8", "0", "0", "action", "mirred", "egress", "mirror", "dev", "peer0")
	mustPlugin(t, "DEL", ns, conf("0.3.1", false))
	if linkOf(t, ns, "tap0") != nil {
		t.Error("tap0 survived DEL")
	}
	f := ingressFilters(t, ns, "eth0")
	if strings.Contains(f, "Redirect") || !strings.Contains(f, "pref 7") {
		t.Errorf("eth0 after DEL, want the foreign filter only:\n%s", f)
	}
	mustPlugin(t, "DEL", ns, conf("0.3.1", false))
	ns.Run("tc", "qdisc", "del", "dev", "eth0", "ingress")

	// clsact on eth0 stays; a tap made by someone else stays.
	ns.Run("tc", "qdisc", "add", "dev", "eth0", "clsact")
	ns.Run("ip", "tuntap", "add", "tap0", "mode", "tap", "user", "0")
	mustPlugin(t, "ADD", ns, conf("1.1.0", true))
	mustPlugin(t, "DEL", ns, conf("1.1.0", true))
	if !strings.Contains(ns.Run("tc", "qdisc", "show", "dev", "eth0"), "clsact") {
		t.Error("DEL removed eth0's clsact qdisc")
	}
	if linkOf(t, ns, "tap0") == nil {
		t.Error("DEL removed a tap tcwire did not create")
	}
	if s := tcState(t, ns, "eth0", "tap0"); strings.Contains(s, "mirred") {
		t.Errorf("redirects left after DEL:\n%s", s)
	}
	// CHECK of an unowned tap fails.
	out := mustPlugin(t, "ADD", ns, conf("1.1.0", true))
	e := cniErr(t, cniPlugin(t, "CHECK", ns, `{"cniVersion":"1.1.0","name":"n","type":"tcwire","prevResult":`+out+`}`))
	if !strings.Contains(e.Details, `tap0 has alias "", not tcwire's`) {
		t.Errorf("CHECK of a foreign tap: %+v", e)
	}
}

// TestCNIPluginErrors: a veth already redirected elsewhere, a tap name
// taken by a veth, no veth at all.
func TestCNIPluginErrors(t *testing.T) {
	ns := vethNS(t)
	conf := `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"` + ns.Path() + `"}]}}`
	e := cniErr(t, cniPlugin(t, "ADD", ns, conf, "CNI_ARGS=TC_REDIRECT_TAP_NAME=peer0"))
	if e.Code != cniErrConflict || !strings.Contains(e.Details, "not a tap") {
		t.Errorf("tap name of a veth: %+v", e)
	}
	ns.Run("ip", "tuntap", "add", "other", "mode", "tap", "user", "0")
	tcWire(ns, "eth0", "other")
	e = cniErr(t, cniPlugin(t, "ADD", ns, conf))
	if e.Code != cniErrConflict || !strings.Contains(e.Details, "is wired to") {
		t.Errorf("veth redirected elsewhere: %+v", e)
	}
	if linkOf(t, ns, "tap0") != nil {
		t.Error("a failed ADD left tap0 behind")
	}
	empty := nstest.New(t)
	e = cniErr(t, cniPlugin(t, "ADD", empty, `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":{}}`))
	if e.Code != cniErrNotFound || !strings.Contains(e.Msg, "no veth") {
		t.Errorf("no veth: %+v", e)
	}
}

// TestCNIPluginSandboxAlias: a prevResult naming the namespace by another
// path (/var/run/netns/X for CNI_NETNS /run/netns/X) still identifies the
// veth, so only its addresses go to the VM.
func TestCNIPluginSandboxAlias(t *testing.T) {
	ns := vethNS(t)
	alias := "/var/run/netns/" + ns.Name
	if fi, err := os.Lstat("/var/run"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Skip("/var/run is not a link to /run here")
	}
	prev := `{"cniVersion":"1.0.0","interfaces":[{"name":"peer0","sandbox":"/run/netns/elsewhere"},{"name":"eth0","sandbox":"` + alias + `"}],
		"ips":[{"interface":0,"address":"192.0.2.9/24"},{"interface":1,"address":"10.2.0.2/24"}]}`
	out := mustPlugin(t, "ADD", ns, `{"cniVersion":"1.0.0","name":"n","type":"tcwire","prevResult":`+prev+`}`)
	r := parseOut(t, out)
	if got := r.addressesOf(3); len(got) != 1 || !strings.HasPrefix(got[0], "10.2.0.2/24") {
		t.Errorf("VM addresses %v, want eth0's 10.2.0.2/24 only:\n%s", got, out)
	}
	if r.Interfaces[2].Sandbox != ns.Path() || r.Interfaces[3].MAC != mustLink(t, ns, "eth0").Address {
		t.Errorf("tap/VM interfaces %+v", r.Interfaces[2:])
	}
}
