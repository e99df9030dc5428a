package tc

import (
	"errors"

	"golang.org/x/sys/unix"
)

// isGone reports an error that means the object is already absent: a qdisc
// delete gets ENOENT ("Cannot find specified qdisc"), or EINVAL ("Invalid
// handle") after an earlier delete; a filter delete gets ENOENT.
func isGone(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL)
}
