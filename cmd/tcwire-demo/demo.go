package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/tcwire/tcwire/internal/netns"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/tuntap"
)

// Config is what Run needs.
type Config struct {
	Tcwire  string        // path of the tcwire binary
	Out     io.Writer     // progress, `tcwire show` and the summary
	Timeout time.Duration // wait for each expected frame (0: 5s)
}

// Addresses of the demo's little network.
var (
	peerIP = net.IPv4(10, 99, 0, 1).To4()
	vmIP   = net.IPv4(10, 99, 0, 2).To4()
)

const (
	udpPort   = 7777
	etherDemo = 0x88b5 // IEEE 802 local experimental ethertype
	vnetLen   = tuntap.VirtioNetHdrLen
)

// demo is one run: its namespaces, devices and results.
type demo struct {
	Config
	ctx      context.Context
	vm, peer string // namespace names
	nonce    string
	vmMAC    net.HardwareAddr // eth0's: the VM's NIC uses it
	peerMAC  net.HardwareAddr
	tapDev   *tuntap.Tap
	tap      *os.File // queue 0 of tap0, as a VMM holds it
	packet   *os.File // AF_PACKET socket on peer0
	results  []result
	cleaned  bool
}

// result is one line of the summary.
type result struct {
	name, detail string
	err          error
}

// Run runs the demo: it returns an error when setting up fails or any
// check fails, and cleans up in every case.
func Run(ctx context.Context, cfg Config) (err error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	d := &demo{Config: cfg, ctx: ctx}
	if os.Geteuid() != 0 {
		return errors.New("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces: sudo make demo")
	}
	if _, err := os.Stat(cfg.Tcwire); err != nil {
		return fmt.Errorf("tcwire binary: %w (make build-bin builds bin/tcwire)", err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	d.nonce = hex.EncodeToString(b[:])
	base := fmt.Sprintf("tcwire-demo-%d-%s", os.Getpid(), d.nonce)
	d.vm, d.peer = base+"-vm", base+"-peer"

	defer func() {
		if cerr := d.cleanup(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	if err := d.setup(); err != nil {
		return fmt.Errorf("set-up: %w", err)
	}

	d.check("vm → peer", d.vmToPeer)
	d.check("peer → vm", d.peerToVM)
	d.check("UDP echo", d.udpEcho)

	d.printf("\n$ tcwire --netns %s show\n", d.vm)
	if out, err := d.tcwire("show"); err != nil {
		d.results = append(d.results, result{name: "tcwire show", err: err})
	} else {
		d.printf("%s", out)
	}
	if err := d.cleanup(); err != nil {
		d.results = append(d.results, result{name: "clean-up", err: err})
	}
	return d.summary()
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.Out, format, args...) }

// run runs a command (ip …) and returns its output; a failure carries it.
// A cancelled context stops the demo before the next command, never in the
// middle of one (a killed `ip netns add` could leave a half-made namespace).
func (d *demo) run(name string, args ...string) (string, error) {
	if err := d.ctx.Err(); err != nil {
		return "", err
	}
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// tcwire runs the binary in the vm namespace.
func (d *demo) tcwire(args ...string) (string, error) {
	return d.run(d.Tcwire, append([]string{"--netns", d.vm}, args...)...)
}

func (d *demo) setup() error {
	d.printf("namespaces: %s (eth0, wired to tap0) and %s (peer0, %s/24)\n", d.vm, d.peer, peerIP)
	for _, ns := range []string{d.vm, d.peer} {
		if _, err := d.run("ip", "netns", "add", ns); err != nil {
			return err
		}
	}
	for _, argv := range [][]string{
		{"ip", "-n", d.vm, "link", "set", "lo", "up"},
		{"ip", "-n", d.peer, "link", "set", "lo", "up"},
		{"ip", "-n", d.vm, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0", "netns", d.peer},
		{"ip", "-n", d.peer, "addr", "add", peerIP.String() + "/24", "dev", "peer0"},
		{"ip", "-n", d.peer, "link", "set", "peer0", "up"},
		{"ip", "-n", d.vm, "link", "set", "eth0", "up"},
	} {
		if _, err := d.run(argv[0], argv[1:]...); err != nil {
			return err
		}
	}

	d.printf("\n$ tcwire --netns %s --json attach eth0 tap0\n", d.vm)
	out, err := d.tcwire("--json", "attach", "eth0", "tap0")
	if err != nil {
		return err
	}
	d.printf("%s", out)
	var res struct {
		MAC string `json:"mac"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return fmt.Errorf("tcwire --json attach: %w", err)
	}
	if d.vmMAC, err = net.ParseMAC(res.MAC); err != nil {
		return fmt.Errorf("tcwire --json attach: mac: %w", err)
	}

	// Open the tap as a VMM does: tap0 gets its carrier, so mirred
	// delivers to it from now on.
	tap, err := tuntap.Open(tuntap.OpenConfig{Name: "tap0", NetNS: d.vm})
	if err != nil {
		return err
	}
	d.tapDev, d.tap = tap, tap.Files()[0]
	if n, err := tap.VnetHdrSize(); err != nil || n != vnetLen {
		return fmt.Errorf("tap0: virtio-net header size %d (%v), want %d", n, err, vnetLen)
	}
	d.printf("opened tap0 in %s as a VMM does: 1 queue, %d-byte virtio-net header, VM MAC %s\n", d.vm, vnetLen, d.vmMAC)

	return netns.Do(d.peer, func() error {
		peer0, err := net.InterfaceByName("peer0")
		if err != nil {
			return err
		}
		d.peerMAC = peer0.HardwareAddr
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: peer0.Index}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind AF_PACKET to peer0: %w", err)
		}
		d.packet = os.NewFile(uintptr(fd), "packet:peer0")
		return nil
	})
}

// cleanup detaches and removes both namespaces (which takes the veth and
// tap with them). It runs even when the context is cancelled.
func (d *demo) cleanup() error {
	if d.cleaned {
		return nil
	}
	d.cleaned = true
	var errs []error
	if d.tapDev != nil {
		d.tapDev.Close()
	}
	if d.packet != nil {
		d.packet.Close()
	}
	run := func(name string, args ...string) error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if d.vmMAC != nil {
		d.printf("\n$ tcwire --netns %s detach eth0 tap0\n", d.vm)
		if err := run(d.Tcwire, "--netns", d.vm, "detach", "eth0", "tap0"); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ns := range []string{d.vm, d.peer} {
		if _, err := os.Stat("/run/netns/" + ns); err != nil {
			continue
		}
		if err := run("ip", "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		d.printf("removed namespaces %s and %s\n", d.vm, d.peer)
	}
	return errors.Join(errs...)
}

func (d *demo) check(name string, fn func() (string, error)) {
	if err := d.ctx.Err(); err != nil {
		d.results = append(d.results, result{name: name, err: err})
		return
	}
	detail, err := fn()
	d.results = append(d.results, result{name: name, detail: detail, err: err})
}

func (d *demo) summary() error {
	d.printf("\nsummary:\n")
	failed := 0
	for _, r := range d.results {
		if r.err != nil {
			failed++
			d.printf("  FAIL  %-11s %v\n", r.name, r.err)
		} else {
			d.printf("  PASS  %-11s %s\n", r.name, r.detail)
		}
	}
	if err := d.ctx.Err(); err != nil {
		d.printf("FAIL (interrupted)\n")
		return fmt.Errorf("interrupted: %w", err)
	}
	if failed > 0 {
		d.printf("FAIL\n")
		return fmt.Errorf("%d of %d checks failed", failed, len(d.results))
	}
	d.printf("PASS\n")
	return nil
}
