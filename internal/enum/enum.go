// Package enum names the values of a kernel enumeration as ip and tc spell
// them, from a table of names, and reads the names back: the one home of
// the String and Parse methods of link's and tc's enum types.
package enum

import "fmt"

// Name returns the name names gives v, or v formatted with unnamed (a
// format with one integer verb: "control %d", "0x%04x") when it has none.
func Name[T ~uint8 | ~uint16 | ~uint32 | ~int32](names map[T]string, v T, unnamed string) string {
	if s, ok := names[v]; ok {
		return s
	}
	return fmt.Sprintf(unnamed, int64(v)) // int64: no String method to recurse into
}

// Value returns the value names calls s, and whether there is one.
func Value[T comparable](names map[T]string, s string) (T, bool) {
	for v, name := range names {
		if name == s {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// Parse returns the value names calls s, or an error made by formatting
// unknown with s ("tc: unknown mirred eaction %q").
func Parse[T comparable](names map[T]string, s, unknown string) (T, error) {
	if v, ok := Value(names, s); ok {
		return v, nil
	}
	var zero T
	return zero, fmt.Errorf(unknown, s)
}
