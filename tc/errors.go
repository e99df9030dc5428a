package tc

import (
	"errors"
	"syscall"
)

// isGone reports an error that means the object is already absent: a qdisc
// delete gets ENOENT ("Cannot find specified qdisc"), or EINVAL ("Invalid
// handle") after an earlier delete; a filter delete gets ENOENT.
func isGone(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.EINVAL)
}
