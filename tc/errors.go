package tc

import (
	"errors"
	"fmt"
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

// ErrRedirected is returned (wrapped) when a device already redirects its
// frames to a device other than the one asked for.
var ErrRedirected = errors.New("already redirected to another device")

// ErrTargetGone is the ErrRedirected of a redirect whose target was deleted:
// the kernel then reports the target as ifindex 0, and the redirect drops
// every frame until it is removed: PlanUnwire with, as the other hook, one
// whose Dev has index 0 plans its removal.
var ErrTargetGone = fmt.Errorf("%w, one that no longer exists", ErrRedirected)

// ErrMirrored is the refusal to wire a device that mirrors its frames
// (tcwire's mirror): the wire would run first and the mirror never.
var ErrMirrored = errors.New("already mirrored to a device")

// ErrForeign is the refusal to wire a device whose hook has a foreign
// filter that can end the classification before the wire runs (a
// *BlockedError names them).
var ErrForeign = errors.New("a foreign filter runs first")

// RedirectedError is the refusal of PlanWire to wire a device that already
// redirects its frames elsewhere, or mirrors them. errors.Is(err,
// ErrRedirected) holds for a redirect, errors.Is(err, ErrTargetGone) too
// when the target no longer exists, and errors.Is(err, ErrMirrored) for a
// mirror.
type RedirectedError struct {
	Dev      Dev
	Redirect Redirect // the redirect found on Dev's ingress hook
}

// IsMirror reports whether the filter in the way is a mirror.
func (e *RedirectedError) IsMirror() bool {
	return e.Redirect.Eaction == TCA_EGRESS_MIRROR || e.Redirect.Eaction == TCA_INGRESS_MIRROR
}

func (e *RedirectedError) Error() string {
	r := e.Redirect
	if e.IsMirror() {
		return fmt.Sprintf("tc: %s: %v (ifindex %d, pref %d, handle %s)", e.Dev, ErrMirrored, r.TargetIfindex, r.Pref, U32HandleString(r.Handle))
	}
	if r.TargetIfindex == 0 {
		return fmt.Sprintf("tc: %s: %v (pref %d, handle %s)", e.Dev, ErrTargetGone, r.Pref, U32HandleString(r.Handle))
	}
	return fmt.Sprintf("tc: %s: %v (ifindex %d, pref %d, handle %s)", e.Dev, ErrRedirected, r.TargetIfindex, r.Pref, U32HandleString(r.Handle))
}

// Unwrap returns ErrMirrored, ErrTargetGone or ErrRedirected.
func (e *RedirectedError) Unwrap() error {
	if e.IsMirror() {
		return ErrMirrored
	}
	if e.Redirect.TargetIfindex == 0 {
		return ErrTargetGone
	}
	return ErrRedirected
}
