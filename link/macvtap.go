package link

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/tcwire/tcwire/internal/enum"
	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// MacvlanMode is IFLA_MACVLAN_MODE (MACVLAN_MODE_*): how a macvlan or
// macvtap reaches its siblings on the same lower device.
type MacvlanMode uint32

// The modes, by their `ip link add … type macvtap mode MODE` names.
const (
	ModePrivate  MacvlanMode = MACVLAN_MODE_PRIVATE
	ModeVEPA     MacvlanMode = MACVLAN_MODE_VEPA
	ModeBridge   MacvlanMode = MACVLAN_MODE_BRIDGE
	ModePassthru MacvlanMode = MACVLAN_MODE_PASSTHRU
	ModeSource   MacvlanMode = MACVLAN_MODE_SOURCE
)

var macvlanModeNames = map[MacvlanMode]string{
	ModePrivate:  "private",
	ModeVEPA:     "vepa",
	ModeBridge:   "bridge",
	ModePassthru: "passthru",
	ModeSource:   "source",
}

// String returns the mode as `ip` spells it.
func (m MacvlanMode) String() string { return enum.Name(macvlanModeNames, m, "MacvlanMode(%d)") }

// ParseMacvlanMode parses a mode name as `ip` spells it ("bridge" …).
func ParseMacvlanMode(s string) (MacvlanMode, error) {
	return enum.Parse(macvlanModeNames, s, "link: unknown macvlan mode %q (want private, vepa, bridge, passthru or source)")
}

// MacvlanInfo is the part of a macvlan's or macvtap's IFLA_INFO_DATA tcwire
// reads.
type MacvlanInfo struct {
	Mode  MacvlanMode // IFLA_MACVLAN_MODE
	Flags uint16      // IFLA_MACVLAN_FLAGS (MACVLAN_FLAG_NOPROMISC = 1 …)
}

// UnmarshalBinary decodes the attributes of a macvlan's IFLA_INFO_DATA,
// skipping those it does not know.
func (mi *MacvlanInfo) UnmarshalBinary(b []byte) error {
	attrs, err := nl.ParseAttrs(b)
	if err != nil {
		return err
	}
	*mi = MacvlanInfo{}
	for _, a := range attrs {
		switch a.Type {
		case uapi.IFLA_MACVLAN_MODE:
			var v uint32
			v, err = a.Uint32()
			mi.Mode = MacvlanMode(v)
		case uapi.IFLA_MACVLAN_FLAGS:
			mi.Flags, err = uint16Attr(a)
		}
		if err != nil {
			return fmt.Errorf("IFLA_MACVLAN attribute %d: %w", a.Type, err)
		}
	}
	return nil
}

// Macvlan describes a macvlan or macvtap to create on a lower device.
type Macvlan struct {
	// Name is the new device's name.
	Name string
	// Parent is the lower device (IFLA_LINK), in the same namespace.
	Parent string
	// Mode is the macvlan mode; zero sends none and leaves the kernel's
	// default (vepa).
	Mode MacvlanMode
	// Tap makes a macvtap (kind "macvtap", with a character device a VMM
	// opens) instead of a macvlan.
	Tap bool
}

func (m Macvlan) kind() string {
	if m.Tap {
		return KindMacvtap
	}
	return KindMacvlan
}

// AddMacvlanRequest creates a macvlan or macvtap on the lower device
// parentIndex (m.Parent names it), as `ip link add NAME link PARENT type macvtap [mode MODE]`:
//
//	IFLA_LINK parentIndex
//	IFLA_IFNAME NAME
//	IFLA_LINKINFO
//		IFLA_INFO_KIND "macvtap" (or "macvlan")
//		[IFLA_INFO_DATA
//			IFLA_MACVLAN_MODE MODE (u32)]
func AddMacvlanRequest(parentIndex int32, m Macvlan) nl.Request {
	cmd := fmt.Sprintf("ip link add %s link %s type %s", m.Name, m.Parent, m.kind())
	if m.Mode != 0 {
		cmd += " mode " + m.Mode.String()
	}
	return createRequest(cmd, func(e *nl.Encoder) {
		e.Uint32(uapi.IFLA_LINK, uint32(parentIndex))
		e.String(uapi.IFLA_IFNAME, m.Name)
		e.Nest(uapi.IFLA_LINKINFO, func(e *nl.Encoder) {
			e.Attr(uapi.IFLA_INFO_KIND, []byte(m.kind()))
			if m.Mode != 0 {
				e.Nest(uapi.IFLA_INFO_DATA, func(e *nl.Encoder) {
					e.Uint32(uapi.IFLA_MACVLAN_MODE, uint32(m.Mode))
				})
			}
		})
	})
}

// AddMacvlan creates the macvlan or macvtap m. For a macvtap, see
// MakeMacvtapDev for its character device.
func AddMacvlan(c *nl.Conn, m Macvlan) error {
	p, err := Lookup(c, m.Parent)
	if err != nil {
		return fmt.Errorf("link %s: lower device: %w", m.Name, err)
	}
	if err := c.Exec(AddMacvlanRequest(p.Index, m)); err != nil {
		return fmt.Errorf("link %s: %w", m.Name, err)
	}
	return nil
}

// MacvtapDevPath returns the path of a macvtap's character device,
// "/dev/tap<ifindex>", the name the kernel gives it.
//
// /dev is shared by every network namespace while ifindexes are per
// namespace, so two macvtaps with the same index in different namespaces
// want the same path; MakeMacvtapDev refuses that case.
func MacvtapDevPath(ifindex int32) string { return fmt.Sprintf("/dev/tap%d", ifindex) }

// sysDevChar and procDevices are variables for tests.
var (
	sysDevChar  = "/sys/dev/char"
	procDevices = "/proc/devices"
)

// ErrAmbiguousMacvtap reports that macvtaps in several network namespaces
// have the same name and index, so their character devices would share one
// /dev path.
var ErrAmbiguousMacvtap = errors.New("macvtaps with this name and index exist in several network namespaces")

// MacvtapDevNum returns the device number (major, minor) of the character
// device of the macvtap called name with index ifindex.
//
// The macvtap may live in any network namespace: the number is found in
// /sys/dev/char, which, unlike /sys/class/net, is not per namespace. Its
// entries MAJOR:MINOR are symbolic links to
// …/net/NAME/macvtap/tapIFINDEX; the major is the "macvtap" line of
// /proc/devices. A macvtap that is not there gives an error satisfying
// errors.Is(err, unix.ENODEV).
func MacvtapDevNum(ifindex int32, name string) (major, minor uint32, err error) {
	major, err = macvtapMajor()
	if err != nil {
		return 0, 0, err
	}
	ents, err := os.ReadDir(sysDevChar)
	if err != nil {
		return 0, 0, fmt.Errorf("link %s: macvtap device: %w", name, err)
	}
	suffix := fmt.Sprintf("/net/%s/macvtap/tap%d", name, ifindex)
	prefix := fmt.Sprintf("%d:", major)
	found := 0
	for _, ent := range ents {
		if !strings.HasPrefix(ent.Name(), prefix) {
			continue
		}
		target, err := os.Readlink(sysDevChar + "/" + ent.Name())
		if err != nil || !strings.HasSuffix(target, suffix) {
			continue
		}
		m, err := strconv.ParseUint(strings.TrimPrefix(ent.Name(), prefix), 10, 32)
		if err != nil {
			continue
		}
		minor = uint32(m)
		found++
	}
	switch found {
	case 0:
		return 0, 0, fmt.Errorf("link %s: no macvtap character device tap%d in %s: %w", name, ifindex, sysDevChar, syscall.ENODEV)
	case 1:
		return major, minor, nil
	}
	return 0, 0, fmt.Errorf("link %s: character device tap%d: %w", name, ifindex, ErrAmbiguousMacvtap)
}

// macvtapMajor reads the dynamic major of the macvtap driver from
// /proc/devices ("Character devices:" section, line "NNN macvtap").
func macvtapMajor() (uint32, error) {
	b, err := os.ReadFile(procDevices)
	if err != nil {
		return 0, fmt.Errorf("link: macvtap major: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "Block" && f[1] == "devices:" {
			break
		}
		if len(f) == 2 && f[1] == "macvtap" {
			if major, err := strconv.ParseUint(f[0], 10, 32); err == nil {
				return uint32(major), nil
			}
		}
	}
	return 0, fmt.Errorf("link: no macvtap character major in %s (module macvtap not loaded?): %w", procDevices, syscall.ENODEV)
}
