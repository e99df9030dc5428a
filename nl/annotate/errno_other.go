//go:build !linux

package annotate

import "strconv"

// errnoText names a kernel errno by number: elsewhere the host's errno
// names and numbers are not Linux's.
func errnoText(n uint32) string { return "errno " + strconv.FormatUint(uint64(n), 10) }
