package tc

import (
	"errors"
	"fmt"

	"github.com/tcwire/tcwire/nl"
)

// A Plan and its execution: the requests Wire or Unwire send in one batch,
// and the undo of those that succeeded when a later one fails.

// Plan is what Wire or Unwire will send, decided from the hooks' state by a
// pure function: the same plan feeds the kernel and `tcwire explain`.
type Plan struct {
	Requests []nl.Request
	// undo[i] reverses Requests[i] when it succeeded and a later one failed.
	undo []func(c *nl.Conn) error
}

func (p *Plan) add(r nl.Request, undo func(*nl.Conn) error) {
	p.Requests = append(p.Requests, r)
	p.undo = append(p.undo, undo)
}

// Execute sends the plan in one batch (one round trip). If any request
// fails, the ones that succeeded are undone, last first, and the first
// failure is returned, joined with any failure to undo.
func (p *Plan) Execute(c *nl.Conn) error {
	errs := c.Do(p.Requests...)
	for _, err := range errs {
		if err != nil {
			return errors.Join(err, p.Undo(c, errs))
		}
	}
	return nil
}

// Undo undoes the requests of the plan that succeeded, last first, given
// the errors Do returned for p.Requests (nil for a success): what Execute
// does on a failure, for a caller that sent the requests of several plans
// in one batch.
func (p *Plan) Undo(c *nl.Conn, errs []error) error {
	var undoErrs []error
	for i := len(errs) - 1; i >= 0; i-- {
		// Requests appended to a plan have no undo step.
		if errs[i] == nil && i < len(p.undo) && p.undo[i] != nil {
			if err := p.undo[i](c); err != nil && !isGone(err) {
				undoErrs = append(undoErrs, fmt.Errorf("undo %q: %w", p.Requests[i].Cmd, err))
			}
		}
	}
	return errors.Join(undoErrs...)
}

// Remove sends a plan of deletes (PlanUnwire's) in one batch. What is
// already gone is not an error: a delete that raced with another, or a
// qdisc deleted with its device.
func (p *Plan) Remove(c *nl.Conn) error {
	var keep []error
	for _, err := range c.Do(p.Requests...) {
		if err != nil && !isGone(err) {
			keep = append(keep, err)
		}
	}
	return errors.Join(keep...)
}
