package nl

import "bytes"

// Dumps: Dump and DumpEach, which read the multi-part answer of a dump
// request, and their retry of a refused or interrupted dump.

// Dump sends a dump request (Flags must include NLM_F_DUMP) and returns every
// reply of the multi-part answer (or the one reply of a GET without
// NLM_F_DUMP and NLM_F_ACK). A dump the kernel refused with a
// transient error, or flagged as interrupted (NLM_F_DUMP_INTR: the objects
// changed while it ran, so it may hold an object twice or miss one), is
// run again as the Retry policy says; an interrupted dump that is not
// gives an error wrapping ErrDumpInterrupted rather than partial data.
func (c *Conn) Dump(r Request) ([]Message, error) {
	var msgs []Message
	err := c.dump(r, true, func(m Message) error {
		msgs = append(msgs, m)
		return nil
	}, func() { msgs = msgs[:0] })
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

// DumpEach is Dump calling fn with each reply as it arrives instead of
// keeping them all: what it holds is one datagram, whatever the size of
// the dump. m.Data is valid only during the call. A refusal is retried as
// Dump does; an interrupted dump is not, since fn has seen part of it: it
// gives an error wrapping ErrDumpInterrupted. An error from fn ends the
// walk (the rest of the dump is read and dropped, so the socket can dump
// again) and is returned.
func (c *Conn) DumpEach(r Request, fn func(m Message) error) error {
	return c.dump(r, false, fn, nil)
}

// dump runs r, retrying as the policy says while the kernel refuses it or
// flags it interrupted; keep says whether the messages given to each must
// outlive the datagram; restart (if not nil) is called before a retry. A
// dump whose messages did not outlive their datagram is retried only if
// each saw none.
func (c *Conn) dump(r Request, keep bool, each func(Message) error, restart func()) error {
	for tries := 1; ; tries++ {
		c.mu.Lock()
		delivered, refused, err := c.dumpOnce(r, keep, each)
		c.mu.Unlock()
		if err == nil || !refused || delivered && !keep {
			return err
		}
		d, ok := c.retry(tries, err)
		if !ok {
			return err
		}
		c.sleep(d)
		if restart != nil {
			restart()
		}
	}
}

// dumpOnce runs a dump, giving each every reply. refused reports an error
// that proves the dump produced nothing usable and may be run again: the
// kernel's refusal, or an interrupted dump. delivered says whether each
// was called.
func (c *Conn) dumpOnce(r Request, keep bool, each func(Message) error) (delivered, refused bool, err error) {
	c.seq++
	seq := c.seq
	c.sbuf = appendMessage(c.sbuf[:0], r, seq)
	c.sendmsgs.Add(1)
	if err := c.t.Send(c.sbuf); err != nil {
		return false, false, &Error{Cmd: r.Cmd, Err: err}
	}
	interrupted := false
	var failed error // each's: the rest is drained
	for {
		d, err := c.t.Recv()
		if err != nil {
			return delivered, false, &Error{Cmd: r.Cmd, Err: err}
		}
		// A datagram holds the answer of one request. Others are late
		// answers to earlier requests.
		if len(d) < NlmsgHdrLen || host.Uint32(d[8:]) != seq {
			continue
		}
		if keep {
			d = bytes.Clone(d) // the replies kept alias a copy
		}
		more := false
		for m, err := range messages(d) {
			switch {
			case err != nil:
				return delivered, false, &Error{Cmd: r.Cmd, Err: err}
			case m.Header.Sequence != seq:
				continue
			case m.Header.Type == NLMSG_ERROR:
				// A refusal (a dump has no acknowledgement).
				if err := kernelError(r.Cmd, m); err != nil {
					return delivered, true, err
				}
				continue
			case m.Header.Type == NLMSG_DONE:
				if err := kernelError(r.Cmd, m); err != nil {
					return delivered, true, err
				}
				if failed != nil {
					return delivered, false, failed
				}
				if interrupted {
					return delivered, true, &Error{Cmd: r.Cmd, Err: ErrDumpInterrupted}
				}
				return delivered, false, nil
			}
			if m.Header.Flags&NLM_F_DUMP_INTR != 0 {
				interrupted = true
			}
			more = m.Header.Flags&NLM_F_MULTI != 0
			if failed == nil {
				delivered = true
				failed = each(m)
			}
		}
		if !more {
			// The one answer to a GET that is not a dump.
			return delivered, false, failed
		}
	}
}
