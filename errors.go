package tcwire

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// Errors to branch on with errors.Is. The errors tcwire returns also keep
// the kernel's errno (errors.Is(err, unix.EEXIST) …) and, in an *nl.Error,
// its extended-ack text.
var (
	// ErrInvalid: the options are wrong; nothing was sent.
	ErrInvalid = errors.New("invalid options")
	// ErrNotFound: a device does not exist.
	ErrNotFound = errors.New("no such device")
	// ErrNotTap: the tap's name belongs to a device of another kind.
	ErrNotTap = errors.New("not a tap")
	// ErrBusy: the kernel said EAGAIN, a transient refusal; the same call
	// may succeed if tried again. EBUSY is not: the kernel says it of a
	// device in use (a bridge port, a macvtap's lower device, a tap a VMM
	// holds), which trying again does not change.
	ErrBusy = errors.New("busy, try again")
	// ErrMissingModule: the kernel lacks sch_ingress, cls_u32 or
	// act_mirred (a *ModuleError names which).
	ErrMissingModule = errors.New("the kernel lacks a module tcwire needs")
	// ErrConflict: a device is wired to another device than the one asked
	// for (a *ConflictError names both).
	ErrConflict = errors.New("wired elsewhere")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ConflictError is a device wired to another device than the one asked for.
// errors.Is(err, ErrConflict) holds, and so does errors.Is(err,
// tc.ErrRedirected) for a redirect found on the device's ingress hook.
type ConflictError struct {
	// Dev redirects its frames to Target (by name; "" when the target no
	// longer exists).
	Dev, Target string
	// Want is the device the operation was asked to wire Dev to, or to
	// unwire it from.
	Want string
	// Pref and Handle locate the redirect's filter on Dev's ingress hook
	// (`tc filter show dev DEV ingress`).
	Pref   uint16
	Handle uint32
	// UndoDev and UndoTap are the pair whose Detach removes the wiring in
	// the way (a stale redirect's own pair when Target is gone).
	UndoDev, UndoTap string
	// Mirror: Dev mirrors its frames to Target (attach --mirror) rather
	// than redirecting them; a wire would run ahead of the mirror.
	Mirror bool
	// Err is the lower layer's error, if any.
	Err error
}

func (e *ConflictError) Error() string {
	if e.Handle == 0 && e.Err != nil {
		// Not a redirect: a device of another pair's.
		return fmt.Sprintf("%v, not %s", e.Err, e.Want)
	}
	where := fmt.Sprintf("pref %d, handle %s", e.Pref, tc.U32HandleString(e.Handle))
	if e.Mirror {
		return fmt.Sprintf("%s mirrors to %s (%s): a wire would take its frames ahead of the mirror, which would never run again", e.Dev, e.Target, where)
	}
	if e.Target == "" {
		return fmt.Sprintf("%s redirects to a device that no longer exists (%s), not to %s", e.Dev, where, e.Want)
	}
	return fmt.Sprintf("%s is wired to %s, not %s (%s)", e.Dev, e.Target, e.Want, where)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Unwrap returns the lower layer's error.
func (e *ConflictError) Unwrap() error { return e.Err }

// UnownedTapError is an existing persistent tap with neither owner nor
// group: any local user may attach to it, and read and inject the VM's
// traffic. Attach refuses it unless Options give an owner or a group,
// which it then sets on the tap. errors.Is(err, ErrInvalid) holds.
type UnownedTapError struct{ Tap string }

func (e *UnownedTapError) Error() string {
	return fmt.Sprintf("%s has neither owner nor group: any local user could open it and read and inject its traffic", e.Tap)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *UnownedTapError) Is(target error) bool { return target == ErrInvalid }

// ForeignError is a device whose ingress hook has filters tcwire did not
// make that would end the classification before tcwire's wire (or mirror)
// runs: the wire would install, show up, and carry nothing. tcwire leaves
// foreign filters alone, so it refuses. errors.Is(err, ErrConflict) and
// errors.Is(err, tc.ErrForeign) hold.
type ForeignError struct {
	Dev string
	// Pref is the pref tcwire's filter would get.
	Pref uint16
	// Filters are the foreign filters in the way (pref, kind, and why
	// each can end the classification).
	Filters []tc.Foreign
	Err     error
}

func (e *ForeignError) Error() string {
	var fs []string
	for _, f := range e.Filters {
		fs = append(fs, fmt.Sprintf("a %s filter at pref %d (%s)", f.Kind, f.Pref, f.Why))
	}
	return fmt.Sprintf("%s has foreign filters ahead of tcwire's at pref %d, which would carry nothing: %s", e.Dev, e.Pref, strings.Join(fs, "; "))
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ForeignError) Is(target error) bool { return target == ErrConflict }

// Unwrap returns tc's refusal.
func (e *ForeignError) Unwrap() error { return e.Err }

// MismatchError is an existing tap whose setting contradicts the options:
// Attach refuses it rather than ignore the option, and changes nothing.
type MismatchError struct {
	Tap     string
	Setting string // "queues", "owner", "group", "mtu", "vnet_hdr"
	Have    string // the tap's
	Want    string // the options'
}

func (e *MismatchError) Error() string {
	if e.Setting == "mode" {
		return fmt.Sprintf("%s is %s (mode %s), not %s (mode %s)", e.Tap, modeNoun[Mode(e.Have)], e.Have, modeNoun[Mode(e.Want)], e.Want)
	}
	return fmt.Sprintf("%s exists with %s %s, but %s %s was asked for", e.Tap, e.Setting, e.Have, e.Setting, e.Want)
}

// Is makes errors.Is(err, ErrInvalid) true: the options do not fit.
func (e *MismatchError) Is(target error) bool { return target == ErrInvalid }

// modeNoun says what a mode makes of the VM's device.
var modeNoun = map[Mode]string{ModeTC: "a tap", ModeMacvtap: "a macvtap", ModeBridge: "a bridge's port"}

// ModuleError is a kernel without a module the wiring needs.
type ModuleError struct {
	// Module is "sch_ingress", "cls_u32", "act_mirred", or "cls_u32 or
	// act_mirred" when a kernel without extended acks cannot tell.
	Module string
	Err    error
}

func (e *ModuleError) Error() string {
	return fmt.Sprintf("%v: the kernel lacks %s (modprobe %s)", e.Err, e.Module, strings.ReplaceAll(e.Module, " or ", " / "))
}

// Is makes errors.Is(err, ErrMissingModule) true.
func (e *ModuleError) Is(target error) bool { return target == ErrMissingModule }

// Unwrap returns the kernel's error.
func (e *ModuleError) Unwrap() error { return e.Err }

// notFoundError is a missing device, by name.
type notFoundError struct {
	name string
	err  error
}

func (e *notFoundError) Error() string { return e.name + ": no such device" }

func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// Unwrap returns the lower layer's error: ENODEV when there is none.
func (e *notFoundError) Unwrap() error {
	if e.err == nil {
		return unix.ENODEV
	}
	return e.err
}

// busyError is a transient refusal.
type busyError struct{ err error }

func (e *busyError) Error() string { return e.err.Error() + " (busy: try again)" }

func (e *busyError) Is(target error) bool { return target == ErrBusy }

func (e *busyError) Unwrap() error { return e.err }

// classify gives a kernel's refusal the type callers branch on: a missing
// module, or busy.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var me *ModuleError
	if errors.As(err, &me) {
		return err
	}
	if mod := missingModule(err); mod != "" {
		return &ModuleError{Module: mod, Err: err}
	}
	if errors.Is(err, unix.EAGAIN) && !errors.Is(err, ErrBusy) {
		return &busyError{err}
	}
	var ne *nl.Error
	if errors.Is(err, unix.EBUSY) && errors.As(err, &ne) && strings.HasPrefix(ne.Cmd, "ip link") && !strings.Contains(err.Error(), inUseHint) {
		return fmt.Errorf("%w%s", err, inUseHint)
	}
	return err
}

// inUseHint is what the kernel's EBUSY means for a link request: a device
// that takes one receive handler already has one.
const inUseHint = " (the device is in use: a bridge port, a bond's slave, or a macvtap's or macvlan's lower device takes no other; trying again changes nothing)"

// missingModule names the kernel module whose absence err reports, or "".
// The kernel answers ENOENT with "Specified qdisc kind is unknown" (no
// sch_ingress: ingress and clsact live there), "TC classifier not found"
// (no cls_u32) or "Failed to load TC action module" (no act_mirred).
func missingModule(err error) string {
	if !errors.Is(err, unix.ENOENT) {
		return ""
	}
	var ne *nl.Error
	if !errors.As(err, &ne) {
		return ""
	}
	switch {
	case strings.Contains(ne.Message, "qdisc kind is unknown"):
		return "sch_ingress"
	case strings.Contains(ne.Message, "TC classifier not found"):
		return "cls_u32"
	case strings.Contains(ne.Message, "Failed to load TC action module"):
		return "act_mirred"
	case ne.Message != "":
		return ""
	// A kernel without extended acks says only ENOENT.
	case strings.HasPrefix(ne.Cmd, "tc qdisc add"):
		return "sch_ingress"
	case strings.HasPrefix(ne.Cmd, "tc filter add"):
		return "cls_u32 or act_mirred"
	}
	return ""
}
