package main

// Helpers of vm_test.go: a kernel with its virtio modules, a busybox
// initramfs written as a newc cpio archive, and a bounded qemu run.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/nstest"
)

// vmRequire fails or skips t when something the VM tests need is missing,
// with nstest's rule: TCWIRE_REQUIRE_PRIVILEGED=1 turns a skip into a failure.
func vmRequire(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(nstest.EnvRequire) == "1" {
		t.Fatalf("%s (%s=1 forbids skipping)", msg, nstest.EnvRequire)
	}
	t.Skip(msg)
}

// vmBuildBinary builds this command into dir, once per TestVM.
func vmBuildBinary(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go tool not in PATH, cannot build tcwire: %v", err)
	}
	bin := filepath.Join(dir, "tcwire")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// vmKernel finds a bootable kernel with a module tree: the newest
// /boot/vmlinuz-V that has /lib/modules/V/modules.dep.
func vmKernel(t *testing.T) (vmlinuz, modDir string) {
	t.Helper()
	if k := os.Getenv("TCWIRE_VM_KERNEL"); k != "" {
		v := strings.TrimPrefix(filepath.Base(k), "vmlinuz-")
		return k, filepath.Join("/lib/modules", v)
	}
	paths, _ := filepath.Glob("/boot/vmlinuz-*")
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	for _, p := range paths {
		v := strings.TrimPrefix(filepath.Base(p), "vmlinuz-")
		dir := filepath.Join("/lib/modules", v)
		if _, err := os.Stat(filepath.Join(dir, "modules.dep")); err == nil {
			return p, dir
		}
	}
	vmRequire(t, "no /boot/vmlinuz-V with /lib/modules/V/modules.dep (apt-get install linux-image-amd64)")
	return "", ""
}

// vmModules returns the module files (paths under modDir) that load mods,
// dependencies first. A module built into the kernel yields nothing.
func vmModules(t *testing.T, modDir string, mods ...string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(modDir, "modules.dep"))
	if err != nil {
		t.Fatalf("%v", err)
	}
	deps := map[string][]string{} // relative path -> its dependencies
	byName := map[string]string{} // module name -> relative path
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		file, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		deps[file] = strings.Fields(rest)
		byName[vmModName(file)] = file
	}
	builtin, _ := os.ReadFile(filepath.Join(modDir, "modules.builtin"))
	var order []string
	seen := map[string]bool{}
	var visit func(file string)
	visit = func(file string) {
		if seen[file] {
			return
		}
		seen[file] = true
		for _, d := range deps[file] {
			visit(d)
		}
		order = append(order, file)
	}
	for _, m := range mods {
		file, ok := byName[m]
		if !ok {
			if bytes.Contains(builtin, []byte("/"+m+".ko\n")) {
				continue
			}
			t.Fatalf("module %s is neither in %s/modules.dep nor built in", m, modDir)
		}
		visit(file)
	}
	return order
}

// vmModName is the module name of a path such as kernel/x/virtio_net.ko.xz.
func vmModName(file string) string {
	base := filepath.Base(file)
	base, _, _ = strings.Cut(base, ".ko")
	return strings.ReplaceAll(base, "-", "_")
}

// vmReadModule reads a module file, decompressing it: busybox insmod takes
// plain ELF only.
func vmReadModule(t *testing.T, path string) []byte {
	t.Helper()
	var data []byte
	var err error
	switch {
	case strings.HasSuffix(path, ".ko"):
		data, err = os.ReadFile(path)
	case strings.HasSuffix(path, ".ko.gz"):
		var f *os.File
		if f, err = os.Open(path); err == nil {
			defer f.Close()
			var zr *gzip.Reader
			if zr, err = gzip.NewReader(f); err == nil {
				data, err = io.ReadAll(zr)
			}
		}
	case strings.HasSuffix(path, ".ko.xz"):
		data, err = exec.Command("xz", "-dc", path).Output()
	case strings.HasSuffix(path, ".ko.zst"):
		data, err = exec.Command("zstd", "-dc", path).Output()
	default:
		err = errors.New("unknown module compression")
	}
	if err != nil {
		t.Fatalf("read module %s: %v", path, err)
	}
	return data
}

// vmBusybox returns a statically linked busybox: the initramfs has no libc.
func vmBusybox(t *testing.T) string {
	t.Helper()
	nstest.RequireTool(t, "busybox")
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if _, err := os.Stat(p); err == nil && vmStatic(p) {
			return p
		}
	}
	p, _ := exec.LookPath("busybox")
	if !vmStatic(p) {
		vmRequire(t, "%s is dynamically linked: install busybox-static", p)
	}
	return p
}

func vmStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// cpioWriter writes a newc ("070701") archive, the format the kernel
// unpacks as an initramfs.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

const (
	cpioDir  = 0o040000
	cpioReg  = 0o100000
	cpioLink = 0o120000
	cpioChr  = 0o020000
)

func (c *cpioWriter) entry(name string, mode uint32, rdevMajor, rdevMinor uint32, data []byte) {
	if c.err != nil {
		return
	}
	c.ino++
	nlink := uint32(1)
	if mode&0o170000 == cpioDir {
		nlink = 2
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	b.WriteString(name)
	b.WriteByte(0)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(data)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	_, c.err = c.w.Write(b.Bytes())
}

func (c *cpioWriter) Dir(name string)                      { c.entry(name, cpioDir|0o755, 0, 0, nil) }
func (c *cpioWriter) File(name string, m uint32, d []byte) { c.entry(name, cpioReg|m, 0, 0, d) }
func (c *cpioWriter) Symlink(name, target string) {
	c.entry(name, cpioLink|0o777, 0, 0, []byte(target))
}
func (c *cpioWriter) CharDev(name string, maj, min uint32) {
	c.entry(name, cpioChr|0o600, maj, min, nil)
}

// Close writes the trailer.
func (c *cpioWriter) Close() error {
	c.ino = 0
	c.entry("TRAILER!!!", 0, 0, 0, nil)
	return c.err
}

// vmInitramfs writes a gzipped busybox initramfs whose /init loads mods,
// runs script and powers the VM off.
func vmInitramfs(t *testing.T, path, busybox string, modules []string, script string) {
	t.Helper()
	vmInitramfsFiles(t, path, busybox, modules, nil, script)
}

// vmInitramfsFiles is vmInitramfs with extra files (path in the initramfs,
// mode 0755, contents) for the script to use.
func vmInitramfsFiles(t *testing.T, path, busybox string, modules []string, files map[string][]byte, script string) {
	t.Helper()
	bb, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatalf("%v", err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	c := &cpioWriter{w: zw}
	for _, d := range []string{"bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"} {
		c.Dir(d)
	}
	c.CharDev("dev/console", 5, 1)
	c.File("bin/busybox", 0o755, bb)
	c.Symlink("bin/sh", "busybox")
	var init strings.Builder
	init.WriteString("#!/bin/sh\nexport PATH=/bin\n/bin/busybox --install -s /bin\n" +
		"mount -t proc proc /proc\nmount -t sysfs sys /sys\nmount -t devtmpfs dev /dev\n")
	for _, m := range modules {
		name := vmModName(m) + ".ko"
		c.File("lib/modules/"+name, 0o644, vmReadModule(t, m))
		fmt.Fprintf(&init, "insmod /lib/modules/%s || echo 'insmod %s failed'\n", name, name)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c.File(name, 0o755, files[name])
	}
	init.WriteString(script)
	init.WriteString("\npoweroff -f\n")
	c.File("init", 0o755, []byte(init.String()))
	if err := errors.Join(c.Close(), zw.Close()); err != nil {
		t.Fatalf("initramfs: %v", err)
	}
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatalf("%v", err)
	}
}

// vmRun boots kernel and initrd under qemu (TCG) inside the namespace ns
// with the extra arguments, bounded by timeout, and returns the serial
// console's output. qemu is killed on timeout.
func vmRun(t *testing.T, ns *nstest.NS, kernel, initrd string, timeout time.Duration, extra ...string) (string, error) {
	t.Helper()
	return vmRunFiles(t, ns, kernel, initrd, timeout, nil, extra...)
}

// vmRunFiles is vmRun with files qemu inherits as descriptors 3, 4 …
// (-netdev tap,fd=3).
func vmRunFiles(t *testing.T, ns *nstest.NS, kernel, initrd string, timeout time.Duration, files []*os.File, extra ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := vmCommand(ctx, ns, kernel, initrd, extra...)
	cmd.ExtraFiles = files
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("qemu ran %v", time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		err = fmt.Errorf("qemu killed after %v: %w", timeout, ctx.Err())
	}
	return out.String(), err
}

// vmCommand is qemu (TCG) booting kernel and initrd inside the namespace
// ns with the extra arguments, its serial console on standard output,
// killed when ctx ends.
func vmCommand(ctx context.Context, ns *nstest.NS, kernel, initrd string, extra ...string) *exec.Cmd {
	args := []string{"netns", "exec", ns.Name, "qemu-system-x86_64",
		"-machine", "pc", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "256",
		"-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyS0 loglevel=4 panic=-1",
	}
	// ip netns exec execs qemu itself, so the context's kill reaches qemu.
	cmd := exec.CommandContext(ctx, "ip", append(args, extra...)...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}
