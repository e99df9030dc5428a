// Package fuzzcheck holds the invariants that the fuzz targets of several
// packages check, so each has one home.
package fuzzcheck

import (
	"bytes"
	"testing"

	"github.com/tcwire/tcwire/nl/annotate"
)

// Annotate annotates b with s, as `tcwire explain` and the golden tests'
// diffs do, and checks the rows with Lines. It must never panic, whatever
// b holds.
func Annotate(t testing.TB, b []byte, s annotate.Schema) {
	t.Helper()
	lines := annotate.Lines(b, s)
	Lines(t, b, lines)
	_ = annotate.Format(lines)
}

// Lines checks what every annotation must satisfy: each row's bytes are
// the input's bytes at its offset, rows move forward through the input
// without overlapping, and none holds more than 16 bytes.
func Lines(t testing.TB, b []byte, lines []annotate.Line) {
	t.Helper()
	end := 0
	for i, l := range lines {
		if l.Offset < 0 || l.Offset+len(l.Bytes) > len(b) {
			t.Fatalf("line %d (%q) at %d+%d is outside the %d-byte input", i, l.Name, l.Offset, len(l.Bytes), len(b))
		}
		if !bytes.Equal(l.Bytes, b[l.Offset:l.Offset+len(l.Bytes)]) {
			t.Fatalf("line %d (%q): bytes % x are not the input's at %d", i, l.Name, l.Bytes, l.Offset)
		}
		if l.Offset < end {
			t.Fatalf("line %d (%q) at %d goes back before %d:\n%s", i, l.Name, l.Offset, end, annotate.Format(lines))
		}
		if len(l.Bytes) > 16 {
			t.Fatalf("line %d has %d bytes", i, len(l.Bytes))
		}
		end = l.Offset + len(l.Bytes)
	}
}
