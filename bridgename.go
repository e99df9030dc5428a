package tcwire

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/link"
)

// The bridge bridge mode makes: its name, and the record its alias
// keeps of the devices it was made for and of what DEV was before.

// BridgeName is the name of the bridge bridge mode makes for the VM's tap
// called tap: "br-" and tap when that fits in 15 bytes (IFNAMSIZ-1); else
// "br-", tap's first 6 bytes (cut before a multi-byte character that
// would not fit whole) and 6 hex digits of a hash of the whole name
// (FNV-1a, 24 bits), so that taps sharing a prefix get bridges of their
// own, and every name is valid UTF-8 when tap is.
func BridgeName(tap string) string {
	const prefix = "br-"
	if len(prefix)+len(tap) <= unix.IFNAMSIZ-1 {
		return prefix + tap
	}
	head := tap[:6]
	for len(head) > 0 && !utf8.ValidString(head) {
		head = head[:len(head)-1]
	}
	h := fnv.New32a()
	h.Write([]byte(tap))
	return fmt.Sprintf("%s%s%06x", prefix, head, h.Sum32()&0xffffff)
}

// bridgeRecord is what tcwire's bridge's alias records: the devices it was
// made for, and DEV's state before it joined, which Detach restores.
type bridgeRecord struct {
	Dev, Tap string
	DevMTU   uint32
	DevUp    bool
}

const bridgeAliasPrefix = link.OwnerAlias + ":bridge "

func (r bridgeRecord) alias() string {
	up := 0
	if r.DevUp {
		up = 1
	}
	return fmt.Sprintf("%sdev=%s tap=%s mtu=%d up=%d", bridgeAliasPrefix, r.Dev, r.Tap, r.DevMTU, up)
}

// parseBridgeAlias reads a bridgeRecord from a bridge's alias; ok is false
// for an alias that is not one.
func parseBridgeAlias(alias string) (r bridgeRecord, ok bool) {
	rest, ok := strings.CutPrefix(alias, bridgeAliasPrefix)
	if !ok {
		return r, false
	}
	seen := 0
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "dev":
			r.Dev = v
		case "tap":
			r.Tap = v
		case "mtu":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return r, false
			}
			r.DevMTU = uint32(n)
		case "up":
			r.DevUp = v == "1"
		default:
			continue
		}
		seen++
	}
	return r, seen == 4 && r.Dev != "" && r.Tap != ""
}
