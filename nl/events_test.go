package nl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/nstest"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/nl/nltest"
)

func note(typ uint16, data string) nl.Message {
	return nl.Message{Header: nl.Header{Type: nl.HeaderType(typ)}, Data: []byte(data)}
}

// types reads one datagram and returns the types of its messages.
func types(t *testing.T, ctx context.Context, e *nl.Events) ([]uint16, error) {
	t.Helper()
	var got []uint16
	err := e.Read(ctx, func(m nl.Message) error {
		got = append(got, uint16(m.Header.Type))
		return nil
	})
	return got, err
}

func TestEventsRead(t *testing.T) {
	e, f := nltest.Events()
	ctx := context.Background()
	f.Notify(note(unix.RTM_NEWLINK, "abcd"), note(unix.RTM_DELLINK, "efgh"))
	got, err := types(t, ctx, e)
	if err != nil || len(got) != 2 || got[0] != unix.RTM_NEWLINK || got[1] != unix.RTM_DELLINK {
		t.Fatalf("Read = %v, %v; want [NEWLINK DELLINK]", got, err)
	}

	// An overrun is its own error, and the socket reads on after it.
	f.Overrun()
	f.Notify(note(unix.RTM_NEWLINK, "ijkl"))
	if _, err := types(t, ctx, e); !errors.Is(err, unix.ENOBUFS) || !errors.Is(err, nl.ErrOverrun) {
		t.Fatalf("Read after an overrun = %v; want ENOBUFS and ErrOverrun", err)
	}
	if got, err := types(t, ctx, e); err != nil || len(got) != 1 {
		t.Fatalf("Read after the overrun = %v, %v; want one message", got, err)
	}

	// fn's error ends the walk.
	stop := errors.New("stop")
	f.Notify(note(unix.RTM_NEWLINK, "abcd"), note(unix.RTM_NEWLINK, "efgh"))
	n := 0
	if err := e.Read(ctx, func(nl.Message) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("Read with fn failing = %v after %d calls; want stop after 1", err, n)
	}
}

// A Read sleeps until its context ends, then returns its error; the next
// Read, with a live context, waits again and reads.
func TestEventsReadContext(t *testing.T) {
	e, f := nltest.Events()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := types(t, ctx, e)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Read returned %v with nothing queued", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after cancel = %v; want context.Canceled", err)
	}
	if _, err := types(t, ctx, e); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a done context = %v; want context.Canceled", err)
	}
	go func() {
		time.Sleep(20 * time.Millisecond)
		f.Notify(note(unix.RTM_NEWLINK, "abcd"))
	}()
	if got, err := types(t, context.Background(), e); err != nil || len(got) != 1 {
		t.Fatalf("Read after a cancelled one = %v, %v; want one message", got, err)
	}
	// Close ends a Read.
	go func() {
		time.Sleep(20 * time.Millisecond)
		e.Close()
	}()
	if _, err := types(t, context.Background(), e); err == nil {
		t.Fatal("Read on a closed socket: no error")
	}
}

// A live subscription sees a device come and go in its namespace.
func TestLiveDialEvents(t *testing.T) {
	nstest.RequireRoot(t)
	ns := nstest.New(t)
	e, err := nl.DialEvents(&nl.Config{NetNS: ns.Name}, unix.RTNLGRP_LINK)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ns.Run("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	ns.Run("ip", "link", "del", "d0")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen []uint16
	for len(seen) == 0 || seen[len(seen)-1] != unix.RTM_DELLINK {
		got, err := types(t, ctx, e)
		if err != nil {
			t.Fatalf("after %v: %v", seen, err)
		}
		seen = append(seen, got...)
	}
	if seen[0] != unix.RTM_NEWLINK {
		t.Errorf("notifications %v: want RTM_NEWLINK first", seen)
	}
}
