package cni

import (
	"context"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire"
)

// STATUS: whether this process and this kernel can wire devices at all.

// cniStatusCmd answers STATUS with tcwire.Probe: what ADD does to the
// kernel, in a throwaway namespace. A plugin run without the capabilities
// ADD needs is told so, not the kernel blamed.
func cniStatusCmd() *cniError {
	if missing := missingCaps(); len(missing) > 0 {
		return cniErrorf(cniErrNotAvailable, "the plugin runs without %s (uid %d): it cannot wire devices; a container runtime runs it as root",
			strings.Join(missing, " and "), os.Geteuid())
	}
	if err := tcwire.Probe(context.Background()); err != nil {
		e := kernelError("tcwire cannot wire devices on this kernel", err)
		e.Code = cniErrNotAvailable
		return e
	}
	return nil
}

// missingCaps names the capabilities ADD needs that the process lacks in
// its effective set: CAP_NET_ADMIN for the wiring, CAP_SYS_ADMIN to enter
// CNI_NETNS.
func missingCaps() []string {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil // cannot tell: Probe will
	}
	var missing []string
	for _, c := range []struct {
		bit  uint
		name string
	}{{unix.CAP_NET_ADMIN, "CAP_NET_ADMIN"}, {unix.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}} {
		if data[c.bit/32].Effective&(1<<(c.bit%32)) == 0 {
			missing = append(missing, c.name)
		}
	}
	return missing
}
