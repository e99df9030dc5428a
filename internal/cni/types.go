package cni

// The JSON of the CNI protocol (network configuration, results, errors,
// VERSION), decoded and built with encoding/json only, as pure functions:
// cni.go does the kernel work, through package tcwire.
//
// Spec versions tcwire speaks, and what differs between them for a chained
// plugin that adds interfaces and copies addresses:
//
//   - 0.3.0, 0.3.1: result = cniVersion, interfaces (name, mac, sandbox),
//     ips (version "4"|"6" — required —, interface index, address,
//     gateway), routes (dst, gw), dns. 0.3.1 only clarified 0.3.0: the
//     result shape is the same. No CHECK; DEL gets no prevResult.
//   - 0.4.0: same result shape as 0.3.x; adds CHECK, and DEL (and CHECK)
//     get the ADD's result as prevResult.
//   - 1.0.0: ips lose "version" (the address says it); the rest of the
//     result is unchanged. Interface "mtu"/"socketPath"/"pciID" and the
//     extra route fields do not exist yet.
//   - 1.1.0: interfaces gain mtu, socketPath and pciID; routes gain mtu,
//     advmss, priority, table and scope; STATUS and GC appear, with error
//     codes 50/51 for STATUS; configuration lists may carry cniVersions.
//
// tcwire answers in the netconf's cniVersion (what the runtime asked for,
// as tc-redirect-tap does): "version" is filled in on every ip for 0.x and
// dropped for 1.x, and the interfaces tcwire adds carry an mtu only for
// 1.1.0. What a previous plugin put in its result is passed through; routes
// and dns are copied byte for byte.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/tuntap"
)

// cniSupportedVersions are the spec versions tcwire speaks, oldest first.
var cniSupportedVersions = []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"}

// cniLatest is the newest version: the one errors and VERSION use when the
// input names none tcwire knows.
const cniLatest = "1.1.0"

// Error codes: 1-11 and 50-51 are the spec's well-known codes; 100+ are
// tcwire's own.
const (
	cniErrIncompatibleVersion = 1  // cniVersion tcwire does not speak
	cniErrUnknownContainer    = 3  // unused: tcwire never tells the runtime to skip cleanup
	cniErrInvalidEnv          = 4  // CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS
	cniErrIO                  = 5  // stdin could not be read
	cniErrDecode              = 6  // stdin is not JSON
	cniErrInvalidConfig       = 7  // a netconf or prevResult field has a bad type or value
	cniErrTryAgain            = 11 // EBUSY/EAGAIN from the kernel (a busy node): retry
	cniErrNotAvailable        = 50 // STATUS: ADD would fail on this kernel

	cniErrKernel        = 100 // a netlink or /dev/net/tun request failed
	cniErrMissingModule = 101 // the kernel lacks sch_ingress, cls_u32 or act_mirred
	cniErrConflict      = 102 // the veth redirects elsewhere, or the tap name is another device's
	cniErrNotFound      = 103 // the network namespace or the veth does not exist
	cniErrCheck         = 104 // CHECK: the wiring is not what ADD made
)

// cniError is the spec's error result, printed on stdout with a non-zero
// exit status.
type cniError struct {
	CNIVersion string `json:"cniVersion"`
	Code       uint   `json:"code"`
	Msg        string `json:"msg"`
	Details    string `json:"details,omitempty"`
}

func (e *cniError) Error() string {
	if e.Details != "" {
		return fmt.Sprintf("CNI error %d: %s: %s", e.Code, e.Msg, e.Details)
	}
	return fmt.Sprintf("CNI error %d: %s", e.Code, e.Msg)
}

func cniErrorf(code uint, format string, args ...any) *cniError {
	return &cniError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// cniVersionResult answers VERSION.
type cniVersionResult struct {
	CNIVersion        string   `json:"cniVersion"`
	SupportedVersions []string `json:"supportedVersions"`
}

// cniNetConf is the plugin configuration on stdin. Keys other than these
// (ipam, dns, runtimeConfig, capabilities …) are ignored.
//
// tcwire's own keys — tc-redirect-tap has CNI_ARGS only; these are the
// same knobs for a conflist (CNI_ARGS wins when both are given):
//
//	"tapName": "tap0"   the tap's name (default tap0; TC_REDIRECT_TAP_NAME)
//	"tapUID":  1000     the uid allowed to open it (TC_REDIRECT_TAP_UID;
//	                    default: the plugin's euid when tapGID is unset too)
//	"tapGID":  1000     the gid allowed to open it (TC_REDIRECT_TAP_GID)
//	"queues":  1        queues of a tap tcwire creates (1-256)
//	"mtu":     1500     the tap's MTU (default: the veth's)
//	"devAddrGenMode": "none"
//	                    silence the veth's own IPv6 (tcwire.Options.QuietDev):
//	                    no address generation, no link-local address; DEL
//	                    restores them. Its IPv4 addresses stay.
type cniNetConf struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	TapName    string `json:"tapName"`
	TapUID     *int64 `json:"tapUID"`
	TapGID     *int64 `json:"tapGID"`
	Queues     *int64 `json:"queues"`
	MTU        *int64 `json:"mtu"`
	DevGenMode string `json:"devAddrGenMode"`
	// Mode is tcwire's --mode; a CNI plugin wires with tc only.
	Mode    *string         `json:"mode"`
	RawPrev json.RawMessage `json:"prevResult"`

	// PrevResult is RawPrev decoded, nil when absent or null.
	PrevResult *cniResult `json:"-"`
}

// cniResult is a success result of any supported version: the union of
// their fields. Routes and dns are kept as they came.
type cniResult struct {
	CNIVersion string            `json:"cniVersion"`
	Interfaces []cniInterface    `json:"interfaces,omitempty"`
	IPs        []cniIP           `json:"ips,omitempty"`
	Routes     []json.RawMessage `json:"routes,omitempty"`
	DNS        json.RawMessage   `json:"dns,omitempty"`
}

type cniInterface struct {
	Name       string `json:"name"`
	MAC        string `json:"mac,omitempty"`
	MTU        int    `json:"mtu,omitempty"` // 1.1.0
	Sandbox    string `json:"sandbox,omitempty"`
	SocketPath string `json:"socketPath,omitempty"` // 1.1.0
	PciID      string `json:"pciID,omitempty"`      // 1.1.0
}

type cniIP struct {
	Version   string `json:"version,omitempty"` // 0.3.x and 0.4.0 only: "4" or "6"
	Interface *int   `json:"interface,omitempty"`
	Address   string `json:"address"`
	Gateway   string `json:"gateway,omitempty"`
}

// parseNetConf decodes and validates the configuration on stdin. Errors
// name the field: code 6 when the input is not JSON at all, 1 for a
// cniVersion tcwire does not speak, 7 for a field of the wrong type or
// value.
func parseNetConf(b []byte) (*cniNetConf, *cniError) {
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, cniErrorf(cniErrDecode, "network configuration on stdin is empty")
	}
	var conf cniNetConf
	if err := json.Unmarshal(b, &conf); err != nil {
		return nil, jsonError("network configuration", "", b, err)
	}
	if conf.CNIVersion == "" {
		return &conf, cniErrorf(cniErrInvalidConfig, `network configuration: "cniVersion" is missing`)
	}
	if !slices.Contains(cniSupportedVersions, conf.CNIVersion) {
		return &conf, &cniError{Code: cniErrIncompatibleVersion,
			Msg: fmt.Sprintf("cniVersion %q is not supported: tcwire speaks %s", conf.CNIVersion, strings.Join(cniSupportedVersions, ", "))}
	}
	if conf.TapName != "" {
		if err := checkTapName(conf.TapName); err != nil {
			return &conf, cniErrorf(cniErrInvalidConfig, `network configuration: "tapName": %v`, err)
		}
	}
	for _, f := range []struct {
		key      string
		v        *int64
		min, max int64
	}{
		{"tapUID", conf.TapUID, 0, math.MaxUint32 - 1},
		{"tapGID", conf.TapGID, 0, math.MaxUint32 - 1},
		{"queues", conf.Queues, 1, tuntap.MaxQueues},
		{"mtu", conf.MTU, 68, 65521},
	} {
		if f.v != nil && (*f.v < f.min || *f.v > f.max) {
			return &conf, cniErrorf(cniErrInvalidConfig, "network configuration: %q is %d: want %d to %d", f.key, *f.v, f.min, f.max)
		}
	}
	if conf.DevGenMode != "" && conf.DevGenMode != "none" {
		return &conf, cniErrorf(cniErrInvalidConfig, `network configuration: "devAddrGenMode" is %q: want "none" (or leave it out)`, conf.DevGenMode)
	}
	if conf.Mode != nil && *conf.Mode != string(tcwire.ModeTC) {
		// The runtime hands its VMM a tap by name (tc-redirect-tap's
		// contract): a macvtap's /dev/tapN or a bridge would not fit it.
		return &conf, cniErrorf(cniErrInvalidConfig, `network configuration: "mode" is %q: the CNI plugin wires with tc only (want "tc" or no "mode")`, *conf.Mode)
	}
	if len(conf.RawPrev) > 0 && string(conf.RawPrev) != "null" {
		prev, cerr := parseResult(conf.RawPrev, "prevResult.")
		if cerr != nil {
			return &conf, cerr
		}
		conf.PrevResult = prev
	}
	return &conf, nil
}

// checkTapName rejects what the kernel refuses as a device name, and
// kernel-chosen names ("tap%d"): DEL and CHECK find the tap by its name.
func checkTapName(name string) error {
	if err := link.CheckName(name); err != nil {
		return err
	}
	if strings.ContainsRune(name, '%') {
		return fmt.Errorf("%q: a fixed name is needed, not a kernel-chosen one", name)
	}
	return nil
}

// parseResult decodes and validates a result (a prevResult); prefix names
// it in errors.
func parseResult(b []byte, prefix string) (*cniResult, *cniError) {
	var r cniResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, jsonError("network configuration", prefix, b, err)
	}
	for i, in := range r.Interfaces {
		if in.Name == "" {
			return nil, cniErrorf(cniErrInvalidConfig, "%sinterfaces[%d]: \"name\" is empty", prefix, i)
		}
		if in.MAC != "" {
			if _, err := net.ParseMAC(in.MAC); err != nil {
				return nil, cniErrorf(cniErrInvalidConfig, "%sinterfaces[%d].mac: %q is not a MAC address", prefix, i, in.MAC)
			}
		}
	}
	for i, ip := range r.IPs {
		addr, _, err := net.ParseCIDR(ip.Address)
		if err != nil {
			return nil, cniErrorf(cniErrInvalidConfig, "%sips[%d].address: %q is not an address in CIDR notation", prefix, i, ip.Address)
		}
		if ip.Gateway != "" && net.ParseIP(ip.Gateway) == nil {
			return nil, cniErrorf(cniErrInvalidConfig, "%sips[%d].gateway: %q is not an IP address", prefix, i, ip.Gateway)
		}
		if ip.Interface != nil && (*ip.Interface < 0 || *ip.Interface >= len(r.Interfaces)) {
			return nil, cniErrorf(cniErrInvalidConfig, "%sips[%d].interface: %d is not an index of %sinterfaces (%d entries)", prefix, i, *ip.Interface, prefix, len(r.Interfaces))
		}
		if v := ip.Version; v != "" && v != "4" && v != "6" {
			return nil, cniErrorf(cniErrInvalidConfig, "%sips[%d].version: %q: want \"4\" or \"6\"", prefix, i, v)
		}
		if v := ip.Version; v != "" && v != ipVersion(addr) {
			return nil, cniErrorf(cniErrInvalidConfig, "%sips[%d].version: %q, but %s is an IPv%s address", prefix, i, v, ip.Address, ipVersion(addr))
		}
	}
	return &r, nil
}

// jsonError turns an encoding/json error into a CNI error naming the field
// (or the byte offset of a syntax error).
func jsonError(what, prefix string, b []byte, err error) *cniError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &cniError{Code: cniErrDecode, Msg: fmt.Sprintf("%s is not valid JSON: %v at byte %d", what, syn, syn.Offset)}
	case errors.As(err, &typ):
		field := prefix + typ.Field
		if typ.Field == "" {
			field = strings.TrimSuffix(prefix, ".")
		}
		if field == "" {
			field = "(top level)"
		}
		got := "a JSON " + typ.Value
		if typ.Value != "array" && typ.Value != "object" {
			got = excerpt(b, typ.Offset) + " is " + got
		}
		return cniErrorf(cniErrInvalidConfig, "%s: field %q: %s, want %s", what, field, got, jsonKind(typ.Type.Kind().String()))
	}
	return &cniError{Code: cniErrDecode, Msg: fmt.Sprintf("%s: %v", what, err)}
}

// excerpt quotes the JSON value that ends at offset, shortened.
func excerpt(b []byte, offset int64) string {
	end := int(offset)
	if end > len(b) || end < 0 {
		return "the value"
	}
	start := end
	for start > 0 && b[start-1] != ':' && b[start-1] != '[' && b[start-1] != ',' {
		start--
	}
	s := strings.TrimSpace(string(b[start:end]))
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	if s == "" {
		return "the value"
	}
	return s
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "int32", "uint", "uint32", "uint64":
		return "an integer"
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return goKind
}

// ipVersion is "4" or "6".
func ipVersion(ip net.IP) string {
	if ip.To4() != nil {
		return "4"
	}
	return "6"
}

// parseCNIArgs splits CNI_ARGS ("K1=V1;K2=V2"). Keys tcwire does not know
// are ignored, as runtimes pass their own (K8S_POD_NAME, IgnoreUnknown …).
func parseCNIArgs(s string) (map[string]string, *cniError) {
	args := map[string]string{}
	for pair := range strings.SplitSeq(s, ";") {
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return nil, cniErrorf(cniErrInvalidEnv, "CNI_ARGS: %q is not KEY=VALUE", pair)
		}
		args[k] = v
	}
	return args, nil
}

// CNI_ARGS keys, tc-redirect-tap's.
const (
	argTapName = "TC_REDIRECT_TAP_NAME"
	argTapUID  = "TC_REDIRECT_TAP_UID"
	argTapGID  = "TC_REDIRECT_TAP_GID"
)

// defaultTapName is the tap's name when neither CNI_ARGS nor the netconf
// gives one: fixed, so that DEL, CHECK and a repeated ADD find it.
const defaultTapName = "tap0"

// resolveKnobs merges the netconf's keys and CNI_ARGS (which wins) into
// the options of tcwire.Attach, without the namespace and the veth.
func resolveKnobs(conf *cniNetConf, args map[string]string) (tcwire.Options, *cniError) {
	o := tcwire.Options{Tap: defaultTapName}
	if conf.TapName != "" {
		o.Tap = conf.TapName
	}
	if conf.TapUID != nil {
		o.Owner = new(int(*conf.TapUID))
	}
	if conf.TapGID != nil {
		o.Group = new(int(*conf.TapGID))
	}
	if conf.Queues != nil {
		o.Queues = int(*conf.Queues)
	}
	if conf.MTU != nil {
		o.MTU = uint32(*conf.MTU)
	}
	o.QuietDev = conf.DevGenMode == "none"
	if v, ok := args[argTapName]; ok {
		if err := checkTapName(v); err != nil {
			return o, cniErrorf(cniErrInvalidEnv, "CNI_ARGS %s: %v", argTapName, err)
		}
		o.Tap = v
	}
	for key, p := range map[string]**int{argTapUID: &o.Owner, argTapGID: &o.Group} {
		v, ok := args[key]
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == math.MaxUint32 {
			return o, cniErrorf(cniErrInvalidEnv, "CNI_ARGS %s=%q: not a uid/gid", key, v)
		}
		*p = new(int(n))
	}
	return o, nil
}

// findVeth picks the container's veth out of prevResult: the interface in
// the container's namespace (sameNetNS says which sandboxes are), the one
// named ifname when there are several, never the tap itself. It returns
// its index and name, or -1 and "".
func findVeth(prev *cniResult, sameNetNS func(string) bool, ifname, tapName string) (int, string) {
	if prev == nil {
		return -1, ""
	}
	found := -1
	for i, in := range prev.Interfaces {
		if in.Sandbox == "" || in.Name == tapName || !sameNetNS(in.Sandbox) {
			continue
		}
		if in.Name == ifname {
			return i, in.Name
		}
		if found < 0 {
			found = i
		}
	}
	if found < 0 {
		return -1, ""
	}
	return found, prev.Interfaces[found].Name
}

// cniAdd is what ADD did, for the result.
type cniAdd struct {
	ContainerID string // CNI_CONTAINERID: the VM interface's sandbox
	NetNS       string // CNI_NETNS: the tap's sandbox
	VethIndex   int    // the veth's index in prevResult.interfaces, or -1
	VethMAC     string // the VM's NIC must use it
	TapName     string
	TapMAC      string
	TapMTU      int
}

// buildResult is prevResult plus the tap (in the container's namespace)
// and the VM's interface (the tap's name, the veth's MAC, the container ID
// as sandbox) with the veth's addresses copied to it — the shape
// firecracker-go-sdk reads. Addresses without an interface index (Cilium's)
// are copied too. Calling it on its own output changes nothing, so a
// repeated ADD answers the same.
func buildResult(prev *cniResult, version string, a cniAdd, sameNetNS func(string) bool) *cniResult {
	r := &cniResult{}
	if prev != nil {
		r.Interfaces = slices.Clone(prev.Interfaces)
		r.IPs = slices.Clone(prev.IPs)
		r.Routes = prev.Routes
		r.DNS = prev.DNS
	}
	mtu := 0
	if version == "1.1.0" {
		mtu = a.TapMTU
	}
	upsert := func(match func(cniInterface) bool, in cniInterface) int {
		for i, old := range r.Interfaces {
			if match(old) {
				r.Interfaces[i] = in
				return i
			}
		}
		r.Interfaces = append(r.Interfaces, in)
		return len(r.Interfaces) - 1
	}
	upsert(func(in cniInterface) bool { return in.Name == a.TapName && in.Sandbox != "" && sameNetNS(in.Sandbox) },
		cniInterface{Name: a.TapName, MAC: a.TapMAC, MTU: mtu, Sandbox: a.NetNS})
	vm := upsert(func(in cniInterface) bool { return in.Name == a.TapName && in.Sandbox == a.ContainerID },
		cniInterface{Name: a.TapName, MAC: a.VethMAC, MTU: mtu, Sandbox: a.ContainerID})
	n := len(r.IPs)
	for _, ip := range r.IPs[:n] {
		if ip.Interface != nil && (a.VethIndex < 0 || *ip.Interface != a.VethIndex) {
			continue
		}
		if slices.ContainsFunc(r.IPs, func(o cniIP) bool { return o.Interface != nil && *o.Interface == vm && o.Address == ip.Address }) {
			continue
		}
		ip.Interface = &vm
		r.IPs = append(r.IPs, ip)
	}
	r.setVersion(version)
	return r
}

// setVersion stamps r with version and gives its ips the "version" field
// that 0.x requires and 1.x does not have.
func (r *cniResult) setVersion(version string) {
	r.CNIVersion = version
	v1 := strings.HasPrefix(version, "1.")
	for i := range r.IPs {
		ip := &r.IPs[i]
		// Copy the index, so that results never share it.
		if ip.Interface != nil {
			ip.Interface = new(*ip.Interface)
		}
		if v1 {
			ip.Version = ""
		} else if addr, _, err := net.ParseCIDR(ip.Address); err == nil {
			ip.Version = ipVersion(addr)
		}
	}
}
