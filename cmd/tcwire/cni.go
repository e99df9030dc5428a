package main

// CNI plugin mode: with CNI_COMMAND in the environment, tcwire is a chained
// CNI plugin, a drop-in for tc-redirect-tap (netconf "type": "tcwire", or
// the binary installed under tc-redirect-tap's name). The JSON is in
// cni_types.go; the wiring is attach.go's, the one `tcwire attach` uses.
//
//	ADD     finds the veth in CNI_NETNS (prevResult's interface whose sandbox
//	        is CNI_NETNS; else the namespace's only device besides lo and
//	        taps; else CNI_IFNAME), creates the tap (tap0 unless told) or
//	        reuses it, wires both ways, returns prevResult + the tap + the
//	        VM's interface. A repeated ADD converges.
//	DEL     removes what ADD made — its filters, the ingress qdisc when that
//	        leaves it empty (never a clsact), the tap only if it carries
//	        tcwire's alias — and succeeds when it is already gone, when
//	        CNI_NETNS is empty or when the namespace no longer exists.
//	CHECK   verifies the tap (exists, is a tap, is tcwire's, is up, MTU,
//	        owner and group), the qdiscs and both redirects, and the VM's
//	        interface in prevResult.
//	STATUS  wires lo to itself in a throwaway network namespace: success
//	        when the kernel has (or loads) sch_ingress, cls_u32 and
//	        act_mirred, error 50 naming the missing module otherwise.
//	GC      succeeds and removes nothing: tcwire's taps and filters live in
//	        the containers' namespaces and go with them, and GC names no
//	        namespace, so there is nothing tcwire could attribute to a
//	        stale attachment.
//	VERSION 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// cniEnv is what the CNI protocol passes in environment variables.
type cniEnv struct {
	Command, ContainerID, NetNS, IfName, Args string
}

func cniEnvFrom(getenv func(string) string) cniEnv {
	return cniEnv{
		Command:     getenv("CNI_COMMAND"),
		ContainerID: getenv("CNI_CONTAINERID"),
		NetNS:       getenv("CNI_NETNS"),
		IfName:      getenv("CNI_IFNAME"),
		Args:        getenv("CNI_ARGS"),
	}
}

// cniMain runs one CNI command: the result (or nothing) on stdout and exit
// status 0, or a CNI error object on stdout, its message on stderr and exit
// status 1.
func cniMain(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := cniEnvFrom(getenv)
	b, err := io.ReadAll(stdin)
	var out any
	var cerr *cniError
	if err != nil {
		cerr = cniErrorf(cniErrIO, "reading the network configuration from stdin: %v", err)
	} else {
		out, cerr = cniRun(env, b)
	}
	if cerr != nil {
		if cerr.CNIVersion == "" {
			cerr.CNIVersion = replyVersion(b)
		}
		json.NewEncoder(stdout).Encode(cerr)
		fmt.Fprintf(stderr, "tcwire: CNI %s: %s\n", env.Command, cerr.Error())
		return 1
	}
	if out != nil {
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			fmt.Fprintf(stderr, "tcwire: CNI %s: writing the result: %v\n", env.Command, err)
			return 1
		}
	}
	return 0
}

// replyVersion is the cniVersion of the input when tcwire speaks it, else
// the newest one.
func replyVersion(stdin []byte) string {
	var v struct {
		CNIVersion string `json:"cniVersion"`
	}
	if json.Unmarshal(stdin, &v) == nil && slices.Contains(cniSupportedVersions, v.CNIVersion) {
		return v.CNIVersion
	}
	return cniLatest
}

// containerIDPattern is the spec's rule for CNI_CONTAINERID.
var containerIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

// cniRun dispatches on CNI_COMMAND. The output is nil for commands that
// print nothing on success.
func cniRun(env cniEnv, stdin []byte) (any, *cniError) {
	if env.Command == "VERSION" {
		var v struct {
			CNIVersion string `json:"cniVersion"`
		}
		json.Unmarshal(stdin, &v) // VERSION answers whatever it is given
		if v.CNIVersion == "" {
			v.CNIVersion = cniLatest
		}
		return &cniVersionResult{CNIVersion: v.CNIVersion, SupportedVersions: cniSupportedVersions}, nil
	}
	var need []string
	switch env.Command {
	case "ADD", "CHECK":
		need = []string{"CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"}
	case "DEL":
		need = []string{"CNI_CONTAINERID", "CNI_IFNAME"}
	case "STATUS", "GC":
	default:
		return nil, cniErrorf(cniErrInvalidEnv, "CNI_COMMAND=%q: want ADD, DEL, CHECK, STATUS, GC or VERSION", env.Command)
	}
	if cerr := checkEnv(env, need); cerr != nil {
		return nil, cerr
	}
	conf, cerr := parseNetConf(stdin)
	if cerr != nil {
		if conf != nil && slices.Contains(cniSupportedVersions, conf.CNIVersion) {
			cerr.CNIVersion = conf.CNIVersion
		}
		return nil, cerr
	}
	args, cerr := parseCNIArgs(env.Args)
	if cerr != nil {
		return nil, cerr
	}
	knobs, cerr := resolveKnobs(conf, args)
	if cerr == nil {
		switch env.Command {
		case "ADD":
			var r *cniResult
			if r, cerr = cniAddCmd(env, conf, knobs); cerr == nil {
				return r, nil
			}
		case "DEL":
			cerr = cniDelCmd(env, conf, knobs)
		case "CHECK":
			cerr = cniCheckCmd(env, conf, knobs)
		case "STATUS":
			cerr = cniStatusCmd()
		case "GC":
			// Nothing to do: see the comment at the top of this file.
		}
	}
	if cerr != nil {
		cerr.CNIVersion = conf.CNIVersion
	}
	return nil, cerr
}

// checkEnv reports the required variables that are missing or malformed.
func checkEnv(env cniEnv, need []string) *cniError {
	values := map[string]string{"CNI_CONTAINERID": env.ContainerID, "CNI_NETNS": env.NetNS, "CNI_IFNAME": env.IfName}
	var bad []string
	for _, n := range need {
		if values[n] == "" {
			bad = append(bad, n+" is missing")
		}
	}
	if env.ContainerID != "" && !containerIDPattern.MatchString(env.ContainerID) {
		bad = append(bad, fmt.Sprintf("CNI_CONTAINERID=%q is not a container ID (alphanumerics, then also _ . -)", env.ContainerID))
	}
	if env.IfName != "" {
		if err := link.CheckName(env.IfName); err != nil {
			bad = append(bad, fmt.Sprintf("CNI_IFNAME: %v", err))
		}
	}
	if len(bad) > 0 {
		return cniErrorf(cniErrInvalidEnv, "%s", strings.Join(bad, "; "))
	}
	return nil
}

// sameNetNS returns a matcher for sandboxes that name the namespace at
// netns: the same path, or another path to the same namespace
// (/var/run/netns/x and /run/netns/x).
func sameNetNS(netns string) func(string) bool {
	want, werr := os.Stat(netns)
	return func(sandbox string) bool {
		if filepath.Clean(sandbox) == filepath.Clean(netns) {
			return true
		}
		if werr != nil || !strings.HasPrefix(sandbox, "/") {
			return false
		}
		got, err := os.Stat(sandbox)
		return err == nil && os.SameFile(got, want)
	}
}

// netnsGone reports whether path no longer names a network namespace: it
// does not exist, or is the empty file `ip netns` leaves when the
// namespace's mount is gone.
func netnsGone(path string) bool {
	var st unix.Statfs_t
	err := unix.Statfs(path, &st)
	if errors.Is(err, unix.ENOENT) {
		return true
	}
	return err == nil && st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC
}

// cniDial opens a netlink socket in the container's namespace.
func cniDial(netns string) (*nl.Conn, *cniError) {
	if netnsGone(netns) {
		return nil, cniErrorf(cniErrNotFound, "CNI_NETNS %s: no such network namespace", netns)
	}
	c, err := nl.Dial(&nl.Config{NetNS: netns})
	if err != nil {
		return nil, &cniError{Code: cniErrKernel, Msg: "cannot enter CNI_NETNS " + netns, Details: err.Error()}
	}
	return c, nil
}

// resolveVeth finds the device to wire the tap to, and its index in
// prevResult (-1 when prevResult does not list it).
func resolveVeth(c *nl.Conn, env cniEnv, prev *cniResult, tapName string) (string, int, *cniError) {
	if i, name := findVeth(prev, sameNetNS(env.NetNS), env.IfName, tapName); name != "" {
		return name, i, nil
	}
	links, err := link.List(c)
	if err != nil {
		return "", -1, &cniError{Code: cniErrKernel, Msg: "cannot list the devices of " + env.NetNS, Details: err.Error()}
	}
	var names []string
	for _, l := range links {
		if l.Flags&unix.IFF_LOOPBACK != 0 || l.Kind == link.KindTun || l.Name == tapName {
			continue
		}
		names = append(names, l.Name)
	}
	if len(names) == 1 {
		return names[0], -1, nil
	}
	if slices.Contains(names, env.IfName) {
		return env.IfName, -1, nil
	}
	return "", -1, &cniError{Code: cniErrNotFound,
		Msg: fmt.Sprintf("no veth to wire in %s", env.NetNS),
		Details: fmt.Sprintf("prevResult lists no interface with sandbox %s, the namespace has %d devices besides lo and taps (%s) and none is CNI_IFNAME %s",
			env.NetNS, len(names), strings.Join(names, ", "), env.IfName)}
}

func cniAddCmd(env cniEnv, conf *cniNetConf, k cniKnobs) (*cniResult, *cniError) {
	if conf.PrevResult == nil {
		return nil, cniErrorf(cniErrInvalidConfig, "prevResult is missing: tcwire is a chained plugin and goes after the plugin that creates the veth (ptp, bridge, Cilium …)")
	}
	c, cerr := cniDial(env.NetNS)
	if cerr != nil {
		return nil, cerr
	}
	defer c.Close()
	devName, vethIndex, cerr := resolveVeth(c, env, conf.PrevResult, k.tapName)
	if cerr != nil {
		return nil, cerr
	}
	w, err := wire(c, env.NetNS, devName, k.tapName, k.opts, true)
	if err != nil {
		return nil, kernelError(fmt.Sprintf("cannot wire %s to %s", devName, k.tapName), err)
	}
	return buildResult(conf.PrevResult, conf.CNIVersion, cniAdd{
		ContainerID: env.ContainerID,
		NetNS:       env.NetNS,
		VethIndex:   vethIndex,
		VethMAC:     w.dev.MAC.String(),
		TapName:     w.tap.Name,
		TapMAC:      w.tap.MAC.String(),
		TapMTU:      int(w.tap.MTU),
	}, sameNetNS(env.NetNS)), nil
}

func cniDelCmd(env cniEnv, conf *cniNetConf, k cniKnobs) *cniError {
	if env.NetNS == "" || netnsGone(env.NetNS) {
		return nil // the namespace took the tap and the filters with it
	}
	c, err := nl.Dial(&nl.Config{NetNS: env.NetNS})
	if err != nil {
		if errors.Is(err, unix.ENOENT) || netnsGone(env.NetNS) {
			return nil // deleted meanwhile
		}
		return &cniError{Code: cniErrKernel, Msg: "cannot enter CNI_NETNS " + env.NetNS, Details: err.Error()}
	}
	defer c.Close()
	devName := ""
	tap, err := link.Lookup(c, k.tapName)
	switch {
	case err == nil:
		// The tap's own redirect names the veth best.
		devName = wiredPeer(c, tap)
	case !link.IsNotFound(err):
		return kernelError("cannot look "+k.tapName+" up", err)
	}
	if devName == "" {
		// No tap, or it redirects nowhere: the veth as ADD found it, to
		// clear a redirect into a tap that is gone. Not finding one is
		// fine: there is nothing to clear then.
		devName, _, _ = resolveVeth(c, env, conf.PrevResult, k.tapName)
	}
	if err := detach(c, devName, k.tapName); err != nil {
		return kernelError(fmt.Sprintf("cannot unwire %s from %s", orDash(devName), k.tapName), err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// wiredPeer is the name of the existing device tap's wire redirects to, or
// "".
func wiredPeer(c *nl.Conn, tap *link.Link) string {
	h, err := tc.ReadHook(c, tc.Dev{Name: tap.Name, Index: tap.Index})
	if err != nil {
		return ""
	}
	for _, r := range h.Redirects() {
		if !r.IsWire() {
			continue
		}
		if l, err := link.LookupIndex(c, r.TargetIfindex); err == nil {
			return l.Name
		}
	}
	return ""
}

func cniCheckCmd(env cniEnv, conf *cniNetConf, k cniKnobs) *cniError {
	if conf.PrevResult == nil {
		return cniErrorf(cniErrInvalidConfig, "prevResult is missing: CHECK needs the result of ADD")
	}
	c, cerr := cniDial(env.NetNS)
	if cerr != nil {
		return cerr
	}
	defer c.Close()
	devName, _, cerr := resolveVeth(c, env, conf.PrevResult, k.tapName)
	if cerr != nil {
		return cerr
	}
	dev, err := link.Lookup(c, devName)
	if err != nil {
		return kernelError("cannot look "+devName+" up", err)
	}
	tap, err := link.Lookup(c, k.tapName)
	if link.IsNotFound(err) {
		return cniErrorf(cniErrCheck, "tap %s does not exist in %s", k.tapName, env.NetNS)
	} else if err != nil {
		return kernelError("cannot look "+k.tapName+" up", err)
	}
	problems, err := checkWiring(c, dev, tap, k.opts, os.Geteuid())
	if err != nil {
		return kernelError("cannot read the wiring of "+devName+" and "+k.tapName, err)
	}
	problems = append(problems, checkResult(conf.PrevResult, env, dev, tap)...)
	if len(problems) > 0 {
		return &cniError{Code: cniErrCheck, Msg: fmt.Sprintf("%s and %s are not as ADD left them", dev.Name, tap.Name),
			Details: strings.Join(problems, "; ")}
	}
	return nil
}

// checkWiring lists what differs from what ADD makes: a tap tcwire owns,
// up, with the expected MTU, owner and group, and a wire redirect both ways
// on an ingress (or clsact) qdisc.
func checkWiring(c *nl.Conn, dev, tap *link.Link, o tapOptions, euid int) ([]string, error) {
	var p []string
	if tap.Kind != link.KindTun || tap.Tun == nil || !tap.Tun.Tap() {
		return []string{fmt.Sprintf("%s is a %s device, not a tap", tap.Name, orNone(tap.Kind))}, nil
	}
	if !tap.Owned() {
		p = append(p, fmt.Sprintf("%s has alias %q, not tcwire's", tap.Name, tap.Alias))
	}
	if !tap.Up() {
		p = append(p, tap.Name+" is down")
	}
	wantMTU := dev.MTU
	if o.mtu != 0 {
		wantMTU = o.mtu
	}
	if tap.MTU != wantMTU {
		p = append(p, fmt.Sprintf("%s has MTU %d, want %d", tap.Name, tap.MTU, wantMTU))
	}
	owner, group := o.expectedOwner(euid)
	if tap.Tun.Owner != owner {
		p = append(p, fmt.Sprintf("%s has owner %d, want %d", tap.Name, tap.Tun.Owner, owner))
	}
	if tap.Tun.Group != group {
		p = append(p, fmt.Sprintf("%s has group %d, want %d", tap.Name, tap.Tun.Group, group))
	}
	for _, dir := range [2][2]*link.Link{{dev, tap}, {tap, dev}} {
		from, to := dir[0], dir[1]
		h, err := tc.ReadHook(c, tc.Dev{Name: from.Name, Index: from.Index})
		if err != nil {
			return nil, err
		}
		if h.Qdisc == "" {
			p = append(p, from.Name+" has no ingress qdisc")
			continue
		}
		if !slices.ContainsFunc(h.Redirects(), func(r tc.Redirect) bool { return r.IsWire() && r.TargetIfindex == to.Index }) {
			p = append(p, fmt.Sprintf("%s does not redirect to %s", from.Name, to.Name))
		}
	}
	return p, nil
}

// checkResult lists what prevResult lacks of what ADD returned: the tap in
// the namespace and the VM's interface with the veth's MAC.
func checkResult(prev *cniResult, env cniEnv, dev, tap *link.Link) []string {
	same := sameNetNS(env.NetNS)
	var p []string
	if !slices.ContainsFunc(prev.Interfaces, func(in cniInterface) bool { return in.Name == tap.Name && in.Sandbox != "" && same(in.Sandbox) }) {
		p = append(p, fmt.Sprintf("prevResult lacks the tap %s with sandbox %s", tap.Name, env.NetNS))
	}
	i := slices.IndexFunc(prev.Interfaces, func(in cniInterface) bool { return in.Name == tap.Name && in.Sandbox == env.ContainerID })
	switch {
	case i < 0:
		p = append(p, fmt.Sprintf("prevResult lacks the VM's interface %s with sandbox %s", tap.Name, env.ContainerID))
	case !strings.EqualFold(prev.Interfaces[i].MAC, dev.MAC.String()):
		p = append(p, fmt.Sprintf("prevResult gives the VM's interface MAC %s, but %s has %s", prev.Interfaces[i].MAC, dev.Name, dev.MAC))
	}
	return p
}

// kernelError turns a failure of the wiring into a CNI error: 101 naming
// the module for a kernel without sch_ingress/cls_u32/act_mirred, 102 for
// a conflict with another redirect or device, 103 for a missing device, 11
// for EBUSY/EAGAIN (a busy node: retry), 100 otherwise.
func kernelError(msg string, err error) *cniError {
	e := &cniError{Code: cniErrKernel, Msg: msg, Details: err.Error()}
	switch mod := missingModule(err); {
	case mod != "":
		e.Code = cniErrMissingModule
		e.Msg = fmt.Sprintf("%s: the kernel lacks %s (modprobe %s)", msg, mod, strings.ReplaceAll(mod, " or ", " / "))
	case errors.Is(err, tc.ErrRedirected), errors.Is(err, errNotTap):
		e.Code = cniErrConflict
	case link.IsNotFound(err):
		e.Code = cniErrNotFound
	case errors.Is(err, unix.EBUSY), errors.Is(err, unix.EAGAIN):
		e.Code = cniErrTryAgain
	}
	return e
}

// missingModule names the kernel module whose absence err reports, or "".
// The kernel answers ENOENT with "Specified qdisc kind is unknown" (no
// sch_ingress: ingress and clsact live there), "TC classifier not found"
// (no cls_u32) or "Failed to load TC action module" (no act_mirred).
func missingModule(err error) string {
	if !errors.Is(err, unix.ENOENT) {
		return ""
	}
	var ne *nl.Error
	if !errors.As(err, &ne) {
		return ""
	}
	switch {
	case strings.Contains(ne.Message, "qdisc kind is unknown"):
		return "sch_ingress"
	case strings.Contains(ne.Message, "TC classifier not found"):
		return "cls_u32"
	case strings.Contains(ne.Message, "Failed to load TC action module"):
		return "act_mirred"
	case ne.Message != "":
		return ""
	// A kernel without extended acks says only ENOENT.
	case strings.HasPrefix(ne.Cmd, "tc qdisc add"):
		return "sch_ingress"
	case strings.HasPrefix(ne.Cmd, "tc filter add"):
		return "cls_u32 or act_mirred"
	}
	return ""
}

// cniStatusCmd answers STATUS by doing what ADD does to the kernel, in a
// network namespace of its own that dies with the probe: an ingress qdisc
// on lo and a u32 catch-all redirecting lo to itself. The kernel loads
// sch_ingress, cls_u32 and act_mirred on demand if they are modules.
func cniStatusCmd() *cniError {
	if err := probeKernel(); err != nil {
		e := kernelError("tcwire cannot wire devices on this kernel", err)
		e.Code = cniErrNotAvailable
		return e
	}
	return nil
}

func probeKernel() error {
	done := make(chan error, 1)
	go func() {
		// The thread never unlocks: it ends with this goroutine, taking
		// the throwaway namespace with it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("unshare(CLONE_NEWNET) for the probe: %w (tcwire needs CAP_NET_ADMIN and CAP_SYS_ADMIN)", err)
			return
		}
		c, err := nl.Dial(&nl.Config{NetNS: fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())})
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		lo, err := link.Lookup(c, "lo")
		if err != nil {
			done <- err
			return
		}
		d := tc.Dev{Name: lo.Name, Index: lo.Index}
		if err := c.Exec(tc.AddQdiscRequest(tc.Ingress(d.Name, d.Index))); err != nil {
			done <- err
			return
		}
		req, err := tc.AddFilterRequest(tc.WireFilter(d, d, tc.IngressHandle, tc.WireOptions{}))
		if err == nil {
			err = c.Exec(req)
		}
		done <- err
	}()
	return <-done
}
