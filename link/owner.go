package link

import (
	"strings"

	"github.com/tcwire/tcwire/nl"
)

// OwnerAlias is the alias (IFLA_IFALIAS) tcwire gives the devices it
// creates, so that teardown (tcwire.Detach) and tcwire.Check can tell them
// from devices that belong to someone else. `ip link show` prints it ("alias tcwire").
// An alias "tcwire:<anything>" (a sandbox or VM id) marks a device as
// tcwire's too.
const OwnerAlias = "tcwire"

// OwnedBy reports whether alias marks a device as tcwire's: OwnerAlias
// itself or OwnerAlias followed by ':' and a suffix.
func OwnedBy(alias string) bool {
	return alias == OwnerAlias || strings.HasPrefix(alias, OwnerAlias+":")
}

// Owned reports whether l carries tcwire's alias.
func (l *Link) Owned() bool { return OwnedBy(l.Alias) }

// MarkRequest marks a device as tcwire's: SetAliasRequest with OwnerAlias,
// as `ip link set dev NAME alias tcwire`.
func MarkRequest(ifindex int32, name string) nl.Request {
	return SetAliasRequest(ifindex, name, OwnerAlias)
}

// Mark gives the device called name tcwire's alias.
func Mark(c *nl.Conn, name string) error { return SetAlias(c, name, OwnerAlias) }

// IsOwned looks the device called name up and reports whether it carries
// tcwire's alias. A missing device is an error satisfying IsNotFound.
func IsOwned(c *nl.Conn, name string) (bool, error) {
	l, err := Lookup(c, name)
	if err != nil {
		return false, err
	}
	return l.Owned(), nil
}
