package main

// CNI STATUS on a kernel that lacks the tc modules: a VM (qemu, TCG) boots
// the distribution kernel with a busybox initramfs holding a static tcwire
// and sch_ingress, cls_u32 and act_mirred as module files, not loaded, and
// no modprobe, so the kernel cannot load them on demand. The guest asks
// STATUS, loads one module, asks again: each answer must name the module
// still missing, and the last must succeed.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

const vmStatusScript = `
echo '{"cniVersion":"1.1.0","name":"n","type":"tcwire"}' > /tmp/conf
status() {
	out=$(CNI_COMMAND=STATUS /bin/tcwire < /tmp/conf 2>/dev/null)
	echo "TCWIRE-STATUS $1 rc=$? $out"
}
status none
insmod /lib/modules/sch_ingress.ko
status sch_ingress
insmod /lib/modules/cls_u32.ko
status cls_u32
insmod /lib/modules/act_mirred.ko
status act_mirred
`

func TestVMCNIStatusMissingModules(t *testing.T) {
	nstest.RequireRoot(t)
	nstest.RequireTool(t, "ip")
	nstest.RequireTool(t, "qemu-system-x86_64")
	t.Parallel()
	kernel, modDir := vmKernel(t)
	busybox := vmBusybox(t)
	dir := t.TempDir()

	// Static: the initramfs has no libc.
	bin := filepath.Join(dir, "tcwire")
	build := exec.Command(goTool(), "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tcwire, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"bin/tcwire": tcwire}
	for _, m := range []string{"sch_ingress", "cls_u32", "act_mirred"} {
		mods := vmModules(t, modDir, m)
		if len(mods) != 1 {
			vmRequire(t, "%s is built into %s or has dependencies (%v): this test needs it as a lone module", m, kernel, mods)
		}
		files["lib/modules/"+m+".ko"] = vmReadModule(t, filepath.Join(modDir, mods[0]))
	}
	initrd := filepath.Join(dir, "initramfs.gz")
	vmInitramfsFiles(t, initrd, busybox, nil, files, vmStatusScript)

	serial, err := vmRun(t, nstest.New(t), kernel, initrd, vmTimeout)
	if err != nil {
		t.Fatalf("qemu: %v\n%s", err, serial)
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`TCWIRE-STATUS (\S+) (rc=\d+.*)`).FindAllStringSubmatch(serial, -1) {
		got[m[1]] = strings.TrimSpace(m[2])
	}
	for _, step := range []struct{ after, want string }{
		{"none", "sch_ingress"},
		{"sch_ingress", "cls_u32"},
		{"cls_u32", "act_mirred"},
	} {
		line := got[step.after]
		if !strings.HasPrefix(line, "rc=1 ") || !strings.Contains(line, `"code":50`) ||
			!strings.Contains(line, "the kernel lacks "+step.want+" (modprobe "+step.want+")") {
			t.Errorf("STATUS with %s loaded: %q; want code 50 naming %s", step.after, line, step.want)
		} else {
			t.Logf("loaded %s: %s", step.after, line)
		}
	}
	if line := got["act_mirred"]; line != "rc=0" {
		t.Errorf("STATUS with all three loaded: %q, want success and no output", line)
	}
	if t.Failed() {
		t.Logf("serial console:\n%s", serial)
	}
}
