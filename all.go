package tcwire

import (
	"context"
	"fmt"
)

// BatchError is the failure of entry Index of AttachAll or DetachAll: the
// entries before it are done, it is undone, the ones after it untried.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return fmt.Sprintf("entry %d: %v", e.Index, e.Err) }

// Unwrap returns the entry's error.
func (e *BatchError) Unwrap() error { return e.Err }

// AttachAll attaches every pair of os in order, each with Attach's
// guarantees, under one hold of the namespace's lock. It returns the
// Attachments of the entries done; a failure is a *BatchError.
func (h *Handle) AttachAll(ctx context.Context, os []Options) ([]*Attachment, error) {
	out := make([]*Attachment, 0, len(os))
	for i := range os {
		if err := h.own(&os[i]); err != nil {
			return out, &BatchError{Index: i, Err: err}
		}
	}
	err := h.call(ctx, nil, true, func() error {
		for i, o := range os {
			h.unbind()
			h.unbind = h.c.Bind(ctx)
			a, err := h.attach(ctx, o)
			if err != nil {
				return &BatchError{Index: i, Err: classify(err)}
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// DetachAll detaches every pair of os in order, each with Detach's
// guarantees, under one hold of the namespace's lock. A failure is a
// *BatchError.
func (h *Handle) DetachAll(ctx context.Context, os []Options) ([]*Detachment, error) {
	out := make([]*Detachment, 0, len(os))
	for i := range os {
		if err := h.own(&os[i]); err != nil {
			return out, &BatchError{Index: i, Err: err}
		}
	}
	err := h.call(ctx, nil, true, func() error {
		for i, o := range os {
			h.unbind()
			h.unbind = h.c.Bind(ctx)
			d, err := h.detach(ctx, o)
			if err != nil {
				return &BatchError{Index: i, Err: classify(err)}
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}
