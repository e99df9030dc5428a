package tcwire

import (
	"context"
	"fmt"
)

// BatchError is the failure of AttachAll or DetachAll: the entry at Index
// failed with Err and was rolled back. The entries before it are done, the
// entries after it were not tried.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string { return fmt.Sprintf("entry %d: %v", e.Index, e.Err) }

func (e *BatchError) Unwrap() error { return e.Err }

// AttachAll attaches every entry of os in order, each with Attach's
// guarantees: all or nothing per entry, a second identical call changes
// nothing. It stops at the first entry that fails (a *BatchError naming
// it) and returns the attachments of the entries before it.
func (h *Handle) AttachAll(ctx context.Context, os []Options) ([]*Attachment, error) {
	as := make([]*Attachment, 0, len(os))
	for i, o := range os {
		a, err := h.Attach(ctx, o)
		if err != nil {
			return as, &BatchError{Index: i, Err: err}
		}
		as = append(as, a)
	}
	return as, nil
}

// DetachAll detaches every entry of os in order, each with Detach's
// guarantees. It stops at the first entry that fails (a *BatchError naming
// it) and returns the detachments of the entries before it.
func (h *Handle) DetachAll(ctx context.Context, os []Options) ([]*Detachment, error) {
	ds := make([]*Detachment, 0, len(os))
	for i, o := range os {
		d, err := h.Detach(ctx, o)
		if err != nil {
			return ds, &BatchError{Index: i, Err: err}
		}
		ds = append(ds, d)
	}
	return ds, nil
}
