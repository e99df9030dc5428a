package main

// A real VM on a tcwire wire (issue 4): qemu boots a Linux kernel with a
// busybox initramfs whose virtio-net NIC is a tap wired to a veth; the guest
// pings the far end of the veth, in a second namespace. Once with a tap made
// by `tcwire attach`, once with qemu's own tap wired by its script=
// tcwire-ifup. qemu runs with TCG, so no KVM is needed.

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
)

const (
	vmMarkerOK   = "TCWIRE-VM-PING-OK"
	vmMarkerFail = "TCWIRE-VM-PING-FAIL"
	vmGuestIP    = "10.99.0.2"
	vmPeerIP     = "10.99.0.1"
	// The second NIC of the guest with two (macvtap and bridge modes).
	vmBridgeGuestIP = "10.99.1.2"
	vmBridgePeerIP  = "10.99.1.1"
	vmTimeout       = 180 * time.Second
)

// vmGuestScript is the guest's part of /init, after the modules: bring the
// NIC up, ping the peer, report with a marker the test looks for.
const vmGuestScript = `
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
ip link set eth0 up
ip addr add ` + vmGuestIP + `/24 dev eth0
ip link show eth0
if ping -c 3 -w 60 ` + vmPeerIP + `; then
	echo "` + vmMarkerOK + `"
else
	echo "` + vmMarkerFail + `"
fi
`

// vmModesScript is vmGuestScript for the guest with two NICs: eth0 on
// the macvtap, eth1 on the bridge's tap, each pinging its peer.
const vmModesScript = `
i=0
while [ ! -e /sys/class/net/eth1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
ip link set eth0 up
ip addr add ` + vmGuestIP + `/24 dev eth0
ip link set eth1 up
ip addr add ` + vmBridgeGuestIP + `/24 dev eth1
ip link show
if ping -c 3 -w 60 ` + vmPeerIP + ` && ping -c 3 -w 60 ` + vmBridgePeerIP + `; then
	echo "` + vmMarkerOK + `"
else
	echo "` + vmMarkerFail + `"
fi
`

func TestVM(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip")
	nstest.RequireTool(t, "qemu-system-x86_64")
	kernel, modDir := vmKernel(t)
	busybox := vmBusybox(t)

	dir := t.TempDir()
	start := time.Now()
	bin := vmBuildBinary(t, dir)
	// virtio_pci is the transport, virtio_net the NIC.
	mods := vmModules(t, modDir, "virtio_pci", "virtio_net")
	for i, m := range mods {
		mods[i] = filepath.Join(modDir, m)
	}
	initrd := filepath.Join(dir, "initramfs.gz")
	vmInitramfs(t, initrd, busybox, mods, vmGuestScript)
	t.Logf("kernel %s, modules %v; build and initramfs took %v", kernel, mods, time.Since(start).Round(time.Millisecond))

	t.Run("attach", func(t *testing.T) {
		t.Parallel()
		host, _ := vmNetwork(t, "eth0", "peer0")
		out, err := vmTcwire(bin, "--netns", host.Name, "attach", "eth0", "tap0")
		if err != nil {
			t.Fatalf("tcwire attach eth0 tap0: %v\n%s", err, out)
		}
		mac := strings.TrimSpace(out)
		if _, err := net.ParseMAC(mac); err != nil {
			t.Fatalf("attach printed %q, not eth0's MAC", out)
		}
		if want := strings.TrimSpace(host.Run("cat", "/sys/class/net/eth0/address")); mac != want {
			t.Fatalf("attach printed MAC %s, eth0 has %s", mac, want)
		}
		vmBootAndPing(t, bin, host, kernel, initrd,
			"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off",
			"-device", "virtio-net-pci,netdev=n0,mac="+mac)
	})

	// One guest, two NICs: a macvtap's /dev/tapN handed to qemu as fd 3,
	// and a tap in tcwire's bridge; it pings a peer through each.
	modesInitrd := filepath.Join(dir, "initramfs-modes.gz")
	vmInitramfs(t, modesInitrd, busybox, mods, vmModesScript)
	t.Run("macvtap and bridge", func(t *testing.T) {
		t.Parallel()
		host, peer := vmNetwork(t, "eth2", "peer2")
		host.Run("ip", "link", "add", "eth3", "type", "veth", "peer", "name", "peer3", "netns", peer.Name)
		host.Run("ip", "link", "set", "eth3", "up")
		peer.Run("ip", "addr", "add", vmBridgePeerIP+"/24", "dev", "peer3")
		peer.Run("ip", "link", "set", "peer3", "up")
		var mv, br attachResult
		for _, a := range []struct {
			res  *attachResult
			args []string
		}{
			{&mv, []string{"eth2", "mvtap2", "--mode", "macvtap"}},
			{&br, []string{"eth3", "tap3", "--mode", "bridge"}},
		} {
			out, err := vmTcwire(bin, append([]string{"--netns", host.Name, "--json", "attach"}, a.args...)...)
			if err != nil {
				t.Fatalf("tcwire attach %v: %v\n%s", a.args, err, out)
			}
			if err := json.Unmarshal([]byte(out), a.res); err != nil {
				t.Fatalf("attach --json: %v: %s", err, out)
			}
		}
		f, err := os.OpenFile(mv.DevNode, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		vmBootAndPingFiles(t, bin, host, kernel, modesInitrd, []*os.File{f},
			"-netdev", "tap,id=n0,fd=3,vhost=off",
			"-device", "virtio-net-pci,netdev=n0,mac="+mv.MAC,
			"-netdev", "tap,id=n1,ifname="+br.Tap+",script=no,downscript=no,vhost=off",
			"-device", "virtio-net-pci,netdev=n1,mac="+br.MAC)
	})

	t.Run("watch link state", func(t *testing.T) {
		t.Parallel()
		vmWatchLinkState(t, bin, kernel, dir, busybox, mods)
	})

	t.Run("ifup", func(t *testing.T) {
		t.Parallel()
		host, _ := vmNetwork(t, "eth1", "peer1")
		if _, err := host.Try("cat", "/sys/class/net/tap1/ifindex"); err == nil {
			t.Fatal("tap1 exists before qemu starts")
		}
		script := filepath.Join(t.TempDir(), "tcwire-ifup")
		if err := os.Symlink(bin, script); err != nil {
			t.Fatal(err)
		}
		mac := strings.TrimSpace(host.Run("cat", "/sys/class/net/eth1/address"))
		// qemu creates tap1 itself and runs `tcwire-ifup tap1` in its own
		// namespace, which wires tap1 to eth1.
		vmBootAndPing(t, bin, host, kernel, initrd,
			"-netdev", "tap,id=n0,ifname=tap1,script="+script+",downscript=no,vhost=off",
			"-device", "virtio-net-pci,netdev=n0,mac="+mac)
	})
}

// vmNetwork makes namespaces host and peer with a veth dev <-> peerDev
// between them: dev up without an address in host, peerDev up with
// vmPeerIP in peer.
func vmNetwork(t *testing.T, dev, peerDev string) (host, peer *nstest.NS) {
	t.Helper()
	host, peer = nstest.New(t), nstest.New(t)
	host.Run("ip", "link", "add", dev, "type", "veth", "peer", "name", peerDev, "netns", peer.Name)
	host.Run("ip", "link", "set", dev, "up")
	peer.Run("ip", "addr", "add", vmPeerIP+"/24", "dev", peerDev)
	peer.Run("ip", "link", "set", peerDev, "up")
	return host, peer
}

// vmTcwire runs the built tcwire and returns its combined output.
func vmTcwire(bin string, args ...string) (string, error) {
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

// vmBootAndPing boots the VM in host with the NIC arguments and checks the
// guest's ping got through; on failure it shows the serial console and the
// wire's state.
func vmBootAndPing(t *testing.T, bin string, host *nstest.NS, kernel, initrd string, nic ...string) {
	t.Helper()
	vmBootAndPingFiles(t, bin, host, kernel, initrd, nil, nic...)
}

// vmBootAndPingFiles is vmBootAndPing with files for qemu (fd=3 …).
func vmBootAndPingFiles(t *testing.T, bin string, host *nstest.NS, kernel, initrd string, files []*os.File, nic ...string) {
	t.Helper()
	serial, err := vmRunFiles(t, host, kernel, initrd, vmTimeout, files, nic...)
	ok := strings.Contains(serial, vmMarkerOK)
	if err != nil || !ok {
		show, _ := vmTcwire(bin, "--netns", host.Name, "show")
		links, _ := host.Try("ip", "-s", "link")
		t.Fatalf("guest ping failed (qemu: %v, marker %s seen: %v)\n--- serial console ---\n%s\n--- tcwire show ---\n%s\n--- ip -s link ---\n%s",
			err, vmMarkerOK, ok, serial, show, links)
	}
	for _, line := range strings.Split(serial, "\n") {
		if strings.Contains(line, "packets transmitted") {
			t.Logf("guest: %s", strings.TrimSpace(line))
		}
	}
}
