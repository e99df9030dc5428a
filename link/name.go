package link

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tcwire/tcwire/internal/uapi"
)

// asciiSpace is what C's isspace() matches in the C locale; the kernel's
// also matches 0xa0.
const asciiSpace = " \t\n\v\f\r"

// CheckName applies the kernel's rules for a device name (dev_valid_name in
// net/core/dev.c), so that a bad name is reported by name rather than as a
// bare EINVAL: not empty, at most IFNAMSIZ-1 (15) bytes, not "." or "..",
// and no '/', ':', NUL or byte the kernel's isspace() matches (\t \n \v \f
// \r, space, and 0xa0, the Latin-1 no-break space that UTF-8 text holds in
// "\u00a0", "à" …).
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("empty device name")
	case len(name) > uapi.IFNAMSIZ-1:
		return fmt.Errorf("device name %q is %d bytes, longer than IFNAMSIZ-1 (15)", name, len(name))
	case name == "." || name == "..":
		return fmt.Errorf("device name %q is not allowed", name)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("device name %q contains '/'", name)
	case strings.ContainsRune(name, ':'):
		return fmt.Errorf("device name %q contains ':'", name)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("device name %q contains a NUL byte", name)
	case strings.ContainsAny(name, asciiSpace), strings.IndexByte(name, 0xa0) >= 0:
		return fmt.Errorf("device name %q contains white space", name)
	}
	return nil
}
