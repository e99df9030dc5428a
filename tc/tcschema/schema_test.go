package tcschema

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/fixture"
	"github.com/tcwire/tcwire/internal/fuzzcheck"
	"github.com/tcwire/tcwire/nl"
)

// FuzzDumpSchema: the annotated dump of any bytes never panics, and every
// row points into the input. Seeds: the tc messages, acks, errors and dump
// ends of the tc fixtures (not tc's RTM_GETLINK name lookups, kilobytes
// each), and several of them in one buffer, as a dump reply carries them.
func FuzzDumpSchema(f *testing.F) {
	fs, err := fixture.Glob(filepath.Join("..", "..", "testdata", "tc"), "*.fixture")
	if err != nil {
		f.Fatal(err)
	}
	var all []byte
	n := 0
	for _, fx := range fs {
		for _, sent := range []bool{true, false} {
			ms, err := fx.Messages(sent)
			if err != nil {
				f.Fatal(err)
			}
			for _, m := range ms {
				if _, ok := Schema[nl.HeaderType(m.Type)]; !ok && m.Type != unix.NLMSG_ERROR && m.Type != unix.NLMSG_DONE {
					continue
				}
				f.Add(m.Raw)
				if n++; n <= 8 {
					all = append(all, m.Raw...)
					for len(all)%4 != 0 {
						all = append(all, 0)
					}
				}
			}
		}
	}
	if n == 0 {
		f.Fatal("no seeds in the fixtures")
	}
	f.Add(all)
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcheck.Annotate(t, b, Schema)
	})
}
