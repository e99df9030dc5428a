package tuntap

import "github.com/tcwire/tcwire/internal/netns"

// validateNetNS rejects values that cannot name a namespace; "" means the
// caller's own namespace.
func validateNetNS(ns string) error {
	if ns == "" {
		return nil
	}
	_, err := netns.Path(ns)
	return err
}
