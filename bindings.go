package tcwire

import (
	"slices"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
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

// readBindings is ReadBindings on c.
func readBindings(c *nl.Conn, devs []string) ([]Binding, error) {
	var links []*link.Link
	var err error
	if len(devs) == 0 {
		links, err = link.List(c)
	} else {
		links, err = namedLinks(c, devs)
	}
	if err != nil {
		return nil, err
	}
	byIndex := map[int32]*link.Link{}
	for _, l := range links {
		byIndex[l.Index] = l
	}
	rows := []Binding{}
	for _, l := range links {
		var b Binding
		switch {
		case l.Kind == link.KindMacvtap:
			b = Binding{Mode: ModeMacvtap, Tap: l.Name, DevNode: link.MacvtapDevPath(l.Index), Owned: l.Owned()}
			lower, ok := byIndex[l.ParentIndex]
			if !ok && l.NetNSID < 0 && len(devs) > 0 {
				if lower, err = link.LookupIndex(c, l.ParentIndex); err == nil {
					ok = true
				}
			}
			if ok && l.NetNSID < 0 {
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

// namedLinks is what ReadBindings reads for the devices named: those
// devices (one sendmsg), the masters of those that have one, and every
// macvtap (the kernel's filtered dump), without duplicates.
func namedLinks(c *nl.Conn, devs []string) ([]*link.Link, error) {
	fail := func(err error) ([]*link.Link, error) { return nil, err }
	ls, errs := link.LookupNames(c, devs...)
	seen := map[int32]bool{}
	var out []*link.Link
	add := func(l *link.Link) {
		if !seen[l.Index] {
			seen[l.Index] = true
			out = append(out, l)
		}
	}
	for i, l := range ls {
		if errs[i] != nil {
			if link.IsNotFound(errs[i]) {
				return fail(&notFoundError{name: devs[i], err: errs[i]})
			}
			return fail(errs[i])
		}
		add(l)
	}
	for _, l := range ls {
		if l.Master != 0 && !seen[l.Master] {
			m, err := link.LookupIndex(c, l.Master)
			if err != nil {
				return fail(err)
			}
			add(m)
		}
	}
	mvs, err := link.ListKind(c, link.KindMacvtap)
	if err != nil {
		return fail(err)
	}
	for _, l := range mvs {
		add(l)
	}
	return out, nil
}
