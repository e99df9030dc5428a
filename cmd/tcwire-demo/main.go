// Command tcwire-demo shows tcwire at work, as root, without touching the
// host's devices: it makes two throwaway network namespaces joined by a veth
// pair — "vm" (eth0, where a VM's sandbox would be) and "peer" (the other
// end, with an IP address) — runs `tcwire --netns VM attach eth0 tap0`,
// opens the tap the way a VMM does, and proves that frames cross both ways
// between the tap's file descriptor and the peer, then that the peer's own
// IP stack can talk UDP to a tiny "VM" answering from the tap fd. It prints
// `tcwire show`, removes everything (also on Ctrl-C) and ends with a
// PASS/FAIL summary; the exit status is 0 only when everything passed.
//
//	sudo make demo
//	sudo tcwire-demo -tcwire bin/tcwire
//
// It builds nothing: `make demo` builds bin/tcwire and passes its path.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg := Config{Out: os.Stdout}
	flag.StringVar(&cfg.Tcwire, "tcwire", "bin/tcwire", "the tcwire binary to run")
	flag.DurationVar(&cfg.Timeout, "timeout", 5*time.Second, "how long to wait for each frame")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: tcwire-demo [-tcwire PATH] [-timeout D]")
		os.Exit(2)
	}
	// Ctrl-C or SIGTERM cancels the context: the demo stops waiting and its
	// deferred clean-up removes the namespaces.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := Run(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "tcwire-demo: %v\n", err)
		stop()
		os.Exit(1)
	}
}
