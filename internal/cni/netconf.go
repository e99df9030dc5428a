package cni

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
)

// Decoding and checking what the runtime passes: the network configuration
// and its prevResult on stdin, CNI_ARGS, and the knobs they give.

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
	if cerr := from020(&r, b, prefix); cerr != nil {
		return nil, cerr
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

// ipConfig020 is a 0.1.0/0.2.0 result's "ip4" or "ip6".
type ipConfig020 struct {
	IP      string `json:"ip"`
	Gateway string `json:"gateway,omitempty"`
	Routes  []struct {
		Dst string `json:"dst"`
		GW  string `json:"gw,omitempty"`
	} `json:"routes,omitempty"`
}

// from020 converts the addresses of a 0.1.0/0.2.0 result ("ip4", "ip6")
// into r's ips and routes, as libcni converts them: a runtime may hand an
// old plugin's result to a newer netconf, and the addresses must reach the
// VM, not vanish with the unknown keys. A result with both shapes is
// refused: which one is right cannot be told.
func from020(r *cniResult, b []byte, prefix string) *cniError {
	var old struct {
		IP4 *ipConfig020 `json:"ip4"`
		IP6 *ipConfig020 `json:"ip6"`
	}
	if err := json.Unmarshal(b, &old); err != nil {
		return jsonError("network configuration", prefix, b, err)
	}
	if old.IP4 == nil && old.IP6 == nil {
		return nil
	}
	if len(r.IPs) > 0 {
		return cniErrorf(cniErrInvalidConfig, "%sips and %sip4/ip6 (a 0.2.0 result's) are both given: want one of them", prefix, prefix)
	}
	for _, c := range []struct {
		key     string
		version string
		ip      *ipConfig020
	}{{"ip4", "4", old.IP4}, {"ip6", "6", old.IP6}} {
		if c.ip == nil {
			continue
		}
		if c.ip.IP == "" {
			return cniErrorf(cniErrInvalidConfig, "%s%s.ip is missing", prefix, c.key)
		}
		r.IPs = append(r.IPs, cniIP{Version: c.version, Address: c.ip.IP, Gateway: c.ip.Gateway})
		for _, rt := range c.ip.Routes {
			if rt.GW == "" {
				rt.GW = c.ip.Gateway
			}
			raw, err := json.Marshal(rt)
			if err != nil {
				return cniErrorf(cniErrInvalidConfig, "%s%s.routes: %v", prefix, c.key, err)
			}
			r.Routes = append(r.Routes, raw)
		}
	}
	return nil
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
	// The values are the library's to check (Options.Validate): out of
	// range they stay out of range here, never wrapped into it.
	if conf.TapUID != nil {
		o.Owner = new(int(*conf.TapUID))
	}
	if conf.TapGID != nil {
		o.Group = new(int(*conf.TapGID))
	}
	if conf.Queues != nil {
		o.Queues = int(*conf.Queues) // 0 means 1, as in tcwire.Options
	}
	if conf.MTU != nil {
		o.MTU = uint32(max(min(*conf.MTU, math.MaxUint32), 1))
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
	to := tcwire.TapOptions{Name: o.Tap, Queues: o.Queues, Owner: o.Owner, Group: o.Group, MTU: o.MTU}
	if err := to.Validate(); err != nil {
		return o, kernelError("network configuration", err)
	}
	return o, nil
}
