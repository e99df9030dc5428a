package nl

import (
	"fmt"
	"reflect"
)

// diff returns "" when want and got are deeply equal, else both, so tests
// need no comparison library.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("want: %#v\n got: %#v", want, got)
}
