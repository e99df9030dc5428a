package tc

import (
	"errors"
	"syscall"

	"github.com/tcwire/tcwire/nl"
)

// isGone reports an error with which the kernel refuses a delete because
// the object is already absent (net/sched/sch_api.c, cls_api.c):
//
//   - ENOENT: no qdisc ("Cannot find specified qdisc on specified device"),
//     no such filter, or no chain left ("Cannot find specified filter chain").
//   - EINVAL "Invalid handle": a qdisc delete after an earlier one (the
//     ingress queue is left with the noop qdisc, handle 0).
//   - EINVAL "Parent Qdisc doesn't exists": a filter delete after its qdisc
//     went.
//
// Any other EINVAL is an error: "Invalid qdisc name: must match existing
// qdisc", say, is an ingress delete meeting a clsact that took its place.
func isGone(err error) bool {
	if errors.Is(err, syscall.ENOENT) {
		return true
	}
	var e *nl.Error
	return errors.Is(err, syscall.EINVAL) && errors.As(err, &e) &&
		(e.Message == "Invalid handle" || e.Message == "Parent Qdisc doesn't exists")
}
