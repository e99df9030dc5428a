package qmp_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tcwire/tcwire/internal/qmp"
	"github.com/tcwire/tcwire/internal/qmp/qmptest"
)

func TestSetLink(t *testing.T) {
	s := qmptest.New(t, "net0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := qmp.Dial(ctx, s.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Each answer comes after an event, which the client skips.
	for _, up := range []bool{false, true} {
		if err := c.SetLink(ctx, "net0", up); err != nil {
			t.Fatal(err)
		}
	}
	want := []qmptest.SetLink{{Name: "net0", Up: false}, {Name: "net0", Up: true}}
	if got := s.SetLinks(); !slices.Equal(got, want) {
		t.Errorf("server saw %v, want %v", got, want)
	}

	err = c.SetLink(ctx, "nope", false)
	var qe *qmp.Error
	if !errors.As(err, &qe) || qe.Class != "DeviceNotFound" || qe.Command != "set_link" {
		t.Fatalf("set_link of an unknown netdev = %v; want a DeviceNotFound *qmp.Error", err)
	}
	// The connection stays usable after a refusal.
	if err := c.Execute(ctx, "query-nothing", nil); !errors.As(err, &qe) || qe.Class != "CommandNotFound" {
		t.Fatalf("unknown command = %v; want CommandNotFound", err)
	}
}

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := qmp.Dial(ctx, t.TempDir()+"/none.sock"); err == nil {
		t.Error("Dial of a missing socket: no error")
	}
	// A context that ends interrupts a wait for an answer.
	s := qmptest.New(t, "net0")
	c, err := qmp.Dial(ctx, s.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.SetLink(done, "net0", true); !errors.Is(err, context.Canceled) {
		t.Errorf("SetLink with a done context = %v; want context.Canceled", err)
	}
}
