package annotate

import "golang.org/x/sys/unix"

// errnoText names a kernel errno: "ENOENT: no such file or directory".
func errnoText(n uint32) string {
	e := unix.Errno(n)
	return unix.ErrnoName(e) + ": " + e.Error()
}
