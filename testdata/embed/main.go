// Command embed is an embedder's program: it wires DEV to TAP in a
// network namespace with package tcwire alone, prints what a VMM needs,
// then detaches. The test in package tcwire builds it as a module of its
// own (with a replace to this checkout) and checks what it links.
//
//	embed NETNS DEV TAP
//	embed -handle NETNS N   (ethI to tapI for I < N, on one Handle, checking
//	                        that the open files stay as many as after the first)
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/tcwire/tcwire"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "-handle" {
		handle(os.Args[2], os.Args[3])
		return
	}
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

// handle attaches n pairs one by one on one Handle, then detaches them
// all at once: the Handle keeps one socket and one thread however many
// pairs it wires, so the process's open files must not grow.
func handle(ns, count string) {
	n, err := strconv.Atoi(count)
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	h, err := tcwire.Open(ns)
	if err != nil {
		fail(err)
	}
	defer h.Close()
	var pairs []tcwire.Options
	first := 0
	for i := range n {
		o := tcwire.Options{Dev: fmt.Sprintf("eth%d", i), Tap: fmt.Sprintf("tap%d", i)}
		if _, err := h.Attach(ctx, o); err != nil {
			fail(err)
		}
		pairs = append(pairs, o)
		fds := openFiles()
		if i == 0 {
			first = fds
		} else if fds != first {
			fail(fmt.Errorf("%d open files after %d attaches, %d after the first", fds, i+1, first))
		}
	}
	rows, err := h.Redirects(ctx)
	if err != nil {
		fail(err)
	}
	if _, err := h.DetachAll(ctx, pairs); err != nil {
		fail(err)
	}
	fmt.Printf("attached and detached %d pairs on one handle (%d redirects, %d open files throughout)\n", n, len(rows), first)
}

func openFiles() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fail(err)
	}
	return len(fds)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "embed:", err)
	os.Exit(1)
}
