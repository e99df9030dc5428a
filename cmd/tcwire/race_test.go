//go:build race

package main

import "os"

// The binary under test is built with -race when the tests are. A race
// report makes it exit 66, which no test expects. atexit_sleep_ms=0 drops
// the race runtime's one-second pause at every exit.
func init() {
	buildFlags = append(buildFlags, "-race")
	os.Setenv("GORACE", "atexit_sleep_ms=0 "+os.Getenv("GORACE"))
}
