package main

// The real VM under `tcwire watch --link-state --qmp` (issue 21): the far
// end of the container's veth going down takes the guest's link down, as
// the guest itself reads it, and coming back up brings it back.

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// vmCarrierScript prints eth0's carrier each time it changes, and powers
// the VM off once it has read 1, 0 and 1 again (or after two minutes).
const vmCarrierScript = `
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
ip link set eth0 up
seen=""
last=""
i=0
while [ $i -lt 1200 ]; do
	c=$(cat /sys/class/net/eth0/carrier 2>/dev/null)
	if [ "$c" != "$last" ]; then
		echo "TCWIRE-CARRIER $c"
		last=$c
		seen="$seen$c"
		case "$seen" in *101) break ;; esac
	fi
	sleep 0.1
	i=$((i+1))
done
`

func vmWatchLinkState(t *testing.T, bin, kernel, dir, busybox string, mods []string) {
	initrd := filepath.Join(dir, "initramfs-carrier.gz")
	vmInitramfs(t, initrd, busybox, mods, vmCarrierScript)
	host, peer := vmNetwork(t, "eth0", "peer0")
	mac := strings.TrimSpace(host.Run("cat", "/sys/class/net/eth0/address"))
	qmpPath := filepath.Join(t.TempDir(), "qmp.sock")

	// watch first: it waits for qemu's tap.
	watch := exec.Command(bin, "--netns", host.Name, "--json", "watch", "--link-state", "--qmp", qmpPath, "--qmp-netdev", "n0", "eth0", "tap0")
	wout, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var werr strings.Builder
	watch.Stderr = &werr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer watch.Process.Kill()
	events := make(chan string, 100) // "vm up", "vm down" …
	var log strings.Builder          // everything, for a failure
	logs := make(chan string, 1000)
	go func() {
		s := bufio.NewScanner(wout)
		for s.Scan() {
			logs <- "watch: " + s.Text()
			var e struct{ Event, Link string }
			if json.Unmarshal(s.Bytes(), &e) == nil && e.Event == "link" {
				events <- e.Link
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), vmTimeout)
	defer cancel()
	qemu := vmCommand(ctx, host, kernel, initrd,
		"-qmp", "unix:"+qmpPath+",server=on,wait=off",
		"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off",
		"-device", "virtio-net-pci,netdev=n0,mac="+mac)
	serial, err := qemu.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	qemu.Stderr = qemu.Stdout
	start := time.Now()
	if err := qemu.Start(); err != nil {
		t.Fatal(err)
	}
	carrier := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(serial)
		for s.Scan() {
			logs <- "guest: " + s.Text()
			if v, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "TCWIRE-CARRIER "); ok {
				carrier <- v
			}
		}
		close(carrier)
	}()
	fail := func(format string, args ...any) {
		t.Helper()
		cancel()
		qemu.Wait()
		for len(logs) > 0 {
			log.WriteString(<-logs + "\n")
		}
		t.Fatalf(format+"\n--- watch and guest ---\n%s%s", append(args, log.String(), werr.String())...)
	}
	// want waits for the guest to read carrier v.
	want := func(v string) {
		t.Helper()
		for {
			select {
			case got, ok := <-carrier:
				if !ok {
					fail("the guest stopped before reading carrier %s", v)
				}
				if got == v {
					t.Logf("guest carrier %s after %v", v, time.Since(start).Round(time.Millisecond))
					return
				}
				fail("the guest read carrier %s, want %s", got, v)
			case <-ctx.Done():
				fail("no carrier %s in the guest", v)
			}
		}
	}
	// told waits for watch to have told the VM (set_link).
	told := func(what string) {
		t.Helper()
		for {
			select {
			case e := <-events:
				if e == what {
					return
				}
			case <-ctx.Done():
				fail("watch did not tell the VM %q", what)
			}
		}
	}
	want("1")
	told("vm up") // the first state: the guest's link stays up
	peer.Run("ip", "link", "set", "peer0", "down")
	told("vm down")
	want("0")
	peer.Run("ip", "link", "set", "peer0", "up")
	told("vm up")
	want("1")
	if err := qemu.Wait(); err != nil {
		fail("qemu: %v", err)
	}
	watch.Process.Signal(syscall.SIGTERM)
	if err := watch.Wait(); err != nil {
		fail("tcwire watch after SIGTERM: %v", err)
	}
}
