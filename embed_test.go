package tcwire

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tcwire/tcwire/internal/nstest"
)

// TestEmbed: an external module that imports github.com/tcwire/tcwire
// (testdata/embed, with a replace to this checkout) builds, links nothing
// but tcwire's three dependencies and what they bring in, links none of the
// annotated-dump code, and attaches and detaches a veth/tap pair in a
// namespace.
func TestEmbed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(root, "testdata/embed/main.go"))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "testdata/embed/go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod = []byte(strings.Replace(string(mod), "=> ../..", "=> "+root, 1))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"main.go": src, "go.mod": mod, "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := filepath.Join(dir, "embed")
	build := exec.Command(gobin, "build", "-o", bin, ".")
	build.Dir = dir
	// Offline: the main module's downloads and go.sum are all it needs.
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the embedding module: %v\n%s", err, out)
	}
	out, err := exec.Command(gobin, "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	// The three dependencies, and what mdlayher/netlink brings in.
	allowed := []string{"github.com/tcwire/tcwire", "github.com/mdlayher/netlink", "github.com/josharian/native",
		"golang.org/x/sys", "github.com/mdlayher/socket", "golang.org/x/net", "golang.org/x/sync"}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "dep" || f[0] == "=>") && !slices.Contains(allowed, f[1]) && !strings.HasPrefix(f[1], "/") {
			t.Errorf("the embedder links %s", f[1])
		}
	}
	// An embedder pays for what it calls: annotated dumps (nl/annotate and
	// the schemas that feed it) serve `tcwire explain` and the tests, and
	// nothing Attach or Detach reaches may link them.
	if syms := linked(t, gobin, bin, "nl/annotate.", "tc/tcschema.", "link/linkschema."); len(syms) > 0 {
		t.Errorf("the embedder links %d annotated-dump symbols, such as %q", len(syms), syms[:min(len(syms), 5)])
	}
	ns := nstest.New(t)
	ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
	before := state(t, ns)
	run, err := exec.Command(bin, ns.Name, "eth0", "tap0").CombinedOutput()
	if err != nil {
		t.Fatalf("embed: %v\n%s", err, run)
	}
	for _, w := range []string{"attached tap0 to eth0", "eth0 -> tap0 wire=true", "tap0 -> eth0 wire=true", "detached"} {
		if !strings.Contains(string(run), w) {
			t.Errorf("embed printed no %q:\n%s", w, run)
		}
	}
	if after := state(t, ns); after != before {
		t.Errorf("attach and detach by the embedder left state:\n--- before\n%s\n--- after\n%s", before, after)
	}

	// One Handle for 60 pairs: its open files stay constant.
	for i := range 60 {
		ns.Run("ip", "link", "add", fmt.Sprintf("eth%d", i+1), "type", "veth", "peer", "name", fmt.Sprintf("peer%d", i+1))
	}
	ns.Run("ip", "link", "set", "eth0", "name", "ethx")
	for i := range 60 {
		ns.Run("ip", "link", "set", fmt.Sprintf("eth%d", i+1), "name", fmt.Sprintf("eth%d", i))
	}
	before = state(t, ns)
	run, err = exec.Command(bin, "-handle", ns.Name, "60").CombinedOutput()
	if err != nil {
		t.Fatalf("embed -handle: %v\n%s", err, run)
	}
	if !strings.Contains(string(run), "attached and detached 60 pairs on one handle (120 redirects") {
		t.Errorf("embed -handle printed:\n%s", run)
	}
	if after := state(t, ns); after != before {
		t.Errorf("the Handle's 60 attaches and DetachAll left state:\n--- before\n%s\n--- after\n%s", before, after)
	}
}

// linked returns the symbols of binary bin that belong to the packages
// pkgs (paths under the module, each ending in "."), as `go tool nm` lists
// them.
func linked(t *testing.T, gobin, bin string, pkgs ...string) []string {
	t.Helper()
	out, err := exec.Command(gobin, "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	var syms []string
	for _, line := range strings.Split(string(out), "\n") {
		for _, p := range pkgs {
			if strings.Contains(line, "github.com/tcwire/tcwire/"+p) {
				syms = append(syms, strings.TrimSpace(line))
			}
		}
	}
	return syms
}
