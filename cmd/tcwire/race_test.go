//go:build race

package main

// The binary under test is built with -race when the tests are.
func init() { buildFlags = append(buildFlags, "-race") }
