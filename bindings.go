package tcwire

import (
	"context"
	"slices"

	"github.com/tcwire/tcwire/link"
)

// Binding is a VM's device of the macvtap or bridge mode found in place: a
// row of `tcwire show` (tc mode's are its Redirects).
type Binding struct {
	Mode Mode   `json:"mode"`
	Dev  string `json:"dev"` // the macvtap's lower device, or the DEV the bridge holds
	Tap  string `json:"tap"` // the macvtap, or the tap the bridge holds
	// DevNode is the macvtap's /dev/tapN.
	DevNode string `json:"dev_node,omitempty"`
	// Bridge is tcwire's bridge.
	Bridge string `json:"bridge,omitempty"`
	// Owned: tcwire made the macvtap or the bridge (Detach deletes it).
	Owned bool `json:"owned"`
}

// ReadBindings reads the macvtaps and the bridges of bridge mode in netns
// ("" for the caller's): those on, holding or being the devices named, or
// all when none is.
func ReadBindings(ctx context.Context, ns string, devs ...string) ([]Binding, error) {
	c, links, err := listLinks(ns, devs)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	byIndex := map[int32]*link.Link{}
	names := map[string]bool{}
	for _, l := range links {
		byIndex[l.Index] = l
		names[l.Name] = true
	}
	for _, d := range devs {
		if !names[d] {
			return nil, &notFoundError{name: d}
		}
	}
	rows := []Binding{}
	for _, l := range links {
		var b Binding
		switch {
		case l.Kind == link.KindMacvtap:
			b = Binding{Mode: ModeMacvtap, Tap: l.Name, DevNode: link.MacvtapDevPath(l.Index), Owned: l.Owned()}
			if lower, ok := byIndex[l.ParentIndex]; ok && l.NetNSID < 0 {
				b.Dev = lower.Name
			}
		case l.Kind == link.KindBridge:
			r, ok := parseBridgeAlias(l.Alias)
			if !ok {
				continue
			}
			b = Binding{Mode: ModeBridge, Dev: r.Dev, Tap: r.Tap, Bridge: l.Name, Owned: true}
		default:
			continue
		}
		if len(devs) == 0 || slices.Contains(devs, b.Dev) || slices.Contains(devs, b.Tap) || (b.Bridge != "" && slices.Contains(devs, b.Bridge)) {
			rows = append(rows, b)
		}
	}
	return rows, nil
}
