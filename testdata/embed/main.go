// Command embed is an embedder's program: it wires DEV to TAP in a
// network namespace with package tcwire alone, prints what a VMM needs,
// then detaches. The test in package tcwire builds it as a module of its
// own (with a replace to this checkout) and checks what it links.
//
//	embed NETNS DEV TAP
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tcwire/tcwire"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: embed NETNS DEV TAP")
		os.Exit(2)
	}
	ctx := context.Background()
	o := tcwire.Options{NetNS: os.Args[1], Dev: os.Args[2], Tap: os.Args[3]}
	a, err := tcwire.Attach(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
	fmt.Printf("attached %s to %s (ifindex %d, mac %s, mtu %d, created %v)\n", a.Tap, a.Dev, a.TapIndex, a.MAC, a.MTU, a.Created)
	rows, err := tcwire.ReadRedirects(ctx, o.NetNS, o.Dev, o.Tap)
	if err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
	for _, r := range rows {
		fmt.Printf("%s -> %s wire=%v\n", r.Dev, r.Target, r.Wire)
	}
	if err := tcwire.Detach(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
	fmt.Println("detached")
}
