package link_test

import (
	"fmt"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
)

// Look devices up by name in the caller's network namespace (no privileges
// needed): every namespace has its loopback "lo" at index 1; a name that
// does not exist gives an error satisfying link.IsNotFound.
func ExampleLookup() {
	c, err := nl.Dial(nil)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	lo, err := link.Lookup(c, "lo")
	if err != nil {
		panic(err)
	}
	fmt.Println(lo.Name, lo.Index)
	_, err = link.Lookup(c, "no-such-dev0")
	fmt.Println(err)
	fmt.Println(link.IsNotFound(err))
	// Output:
	// lo 1
	// link no-such-dev0: ip link show dev no-such-dev0: no such device
	// true
}
