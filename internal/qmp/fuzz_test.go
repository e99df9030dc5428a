package qmp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// FuzzReplies feeds the client whatever a server might send — the
// greeting, then the answers and events to qmp_capabilities and one
// set_link — and checks it never panics or hangs, and succeeds only on a
// greeting and two answers, refusing with an *Error only on an error
// object.
func FuzzReplies(f *testing.F) {
	for _, s := range []string{
		`{"QMP": {"version": {}, "capabilities": []}}` + "\n" + `{"return": {}}` + "\n" + `{"return": {}}`,
		`{"QMP": {}}{"return": {}}{"event": "NIC_RX_FILTER_CHANGED", "data": {}}{"error": {"class": "GenericError", "desc": "Device 'x' not found"}}`,
		`{"QMP": {}} {"return": {}} {"timestamp": {"seconds": 1}, "event": "X"} {"return": null}`,
		`{"not": "a greeting"}`,
		`{"QMP": {}}{"return": {}}{"return"`,
		`{"QMP": {}}{"error": 7}`,
		`[1, 2]`,
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		defer client.Close()
		go io.Copy(io.Discard, server) // the client's commands
		go func() {
			server.Write(data)
			server.Close()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := handshake(ctx, client)
		if err == nil {
			err = c.SetLink(ctx, "net0", false)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the client hung on %q", data)
		}
		var qe *Error
		if errors.As(err, &qe) && !bytes.Contains(data, []byte(`"error"`)) {
			t.Fatalf("a refusal (%v) from %q, which has no error object", err, data)
		}
		if err == nil && bytes.Count(data, []byte(`"return"`)) < 2 {
			t.Fatalf("success from %q, which has fewer than two answers", data)
		}
	})
}
