package cni

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire"
	"github.com/tcwire/tcwire/internal/netns"
	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
)

// The commands that touch the wiring: ADD, DEL and CHECK, each through
// package tcwire as `tcwire attach`, `detach` and `check` do.

func cniAddCmd(env cniEnv, conf *cniNetConf, o tcwire.Options) (*cniResult, *cniError) {
	if conf.PrevResult == nil {
		return nil, cniErrorf(cniErrInvalidConfig, "prevResult is missing: tcwire is a chained plugin and goes after the plugin that creates the veth (ptp, bridge, Cilium …)")
	}
	if cerr := usableNetNS(env.NetNS); cerr != nil {
		return nil, cerr
	}
	devName, vethIndex, cerr := resolveVeth(env, conf.PrevResult, o.Tap)
	if cerr != nil {
		return nil, cerr
	}
	o.NetNS, o.Dev = env.NetNS, devName
	a, err := tcwire.Attach(context.Background(), o)
	if err != nil {
		return nil, kernelError(fmt.Sprintf("cannot wire %s to %s", devName, o.Tap), err)
	}
	return buildResult(conf.PrevResult, conf.CNIVersion, cniAdd{
		ContainerID: env.ContainerID,
		NetNS:       env.NetNS,
		VethIndex:   vethIndex,
		VethMAC:     a.MAC.String(),
		TapName:     a.Tap,
		TapMAC:      a.TapMAC.String(),
		TapMTU:      int(a.MTU),
	}, sameNetNS(env.NetNS)), nil
}

func cniDelCmd(env cniEnv, conf *cniNetConf, o tcwire.Options) *cniError {
	if env.NetNS == "" || netns.Gone(env.NetNS) {
		return nil // the namespace took the tap and the filters with it
	}
	if cerr := usableNetNS(env.NetNS); cerr != nil {
		return cerr
	}
	ctx := context.Background()
	o.NetNS = env.NetNS
	// The tap's own redirect names the veth best; else the veth as ADD
	// found it, to clear a redirect into a tap that is gone; else
	// CNI_IFNAME, to delete a tap that is wired to nothing.
	rows, err := tcwire.ReadRedirects(ctx, env.NetNS, o.Tap)
	switch {
	case errors.Is(err, tcwire.ErrNotFound):
	case errors.Is(err, unix.ENOENT) && netns.Gone(env.NetNS):
		return nil // deleted meanwhile
	case err != nil:
		return kernelError("cannot read "+o.Tap+"'s redirects", err)
	}
	for _, r := range rows {
		if r.Wire && r.TargetIndex != 0 {
			o.Dev = r.Target
			break
		}
	}
	if o.Dev == "" {
		o.Dev, _, _ = resolveVeth(env, conf.PrevResult, o.Tap)
	}
	if o.Dev == "" {
		o.Dev = env.IfName
	}
	if err := tcwire.Detach(ctx, o); err != nil && !errors.Is(err, tcwire.ErrNotFound) {
		return kernelError(fmt.Sprintf("cannot unwire %s from %s", o.Dev, o.Tap), err)
	}
	return nil
}

func cniCheckCmd(env cniEnv, conf *cniNetConf, o tcwire.Options) *cniError {
	if conf.PrevResult == nil {
		return cniErrorf(cniErrInvalidConfig, "prevResult is missing: CHECK needs the result of ADD")
	}
	if cerr := usableNetNS(env.NetNS); cerr != nil {
		return cerr
	}
	devName, _, cerr := resolveVeth(env, conf.PrevResult, o.Tap)
	if cerr != nil {
		return cerr
	}
	o.NetNS, o.Dev = env.NetNS, devName
	problems, err := tcwire.Check(context.Background(), o)
	if err != nil {
		return kernelError("cannot read the wiring of "+devName+" and "+o.Tap, err)
	}
	var p []string
	for _, pr := range problems {
		p = append(p, pr.What)
	}
	if len(p) == 0 {
		// The wiring is right: then the result must say what ADD did.
		mac, err := devMAC(env.NetNS, devName)
		if err != nil {
			return kernelError("cannot look "+devName+" up", err)
		}
		p = checkResult(conf.PrevResult, env, mac, o.Tap)
	}
	if len(p) > 0 {
		return &cniError{Code: cniErrCheck, Msg: fmt.Sprintf("%s and %s are not as ADD left them", devName, o.Tap),
			Details: strings.Join(p, "; ")}
	}
	return nil
}

func devMAC(ns, name string) (net.HardwareAddr, error) {
	c, err := nl.Dial(&nl.Config{NetNS: ns})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	l, err := link.Lookup(c, name)
	if err != nil {
		return nil, err
	}
	return l.MAC, nil
}

// checkResult lists what prevResult lacks of what ADD returned: the tap in
// the namespace and the VM's interface with the veth's MAC.
func checkResult(prev *cniResult, env cniEnv, mac net.HardwareAddr, tap string) []string {
	same := sameNetNS(env.NetNS)
	var p []string
	if !slices.ContainsFunc(prev.Interfaces, func(in cniInterface) bool { return in.Name == tap && in.Sandbox != "" && same(in.Sandbox) }) {
		p = append(p, fmt.Sprintf("prevResult lacks the tap %s with sandbox %s", tap, env.NetNS))
	}
	i := slices.IndexFunc(prev.Interfaces, func(in cniInterface) bool { return in.Name == tap && in.Sandbox == env.ContainerID })
	switch {
	case i < 0:
		p = append(p, fmt.Sprintf("prevResult lacks the VM's interface %s with sandbox %s", tap, env.ContainerID))
	case !strings.EqualFold(prev.Interfaces[i].MAC, mac.String()):
		p = append(p, fmt.Sprintf("prevResult gives the VM's interface MAC %s, but the veth has %s", prev.Interfaces[i].MAC, mac))
	}
	return p
}
