package nl

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/internal/netns"
)

// Config configures Dial.
type Config struct {
	// NetNS is the network namespace to work in: a name under /run/netns or
	// a path (anything with a '/', such as /proc/PID/ns/net). Empty means
	// the caller's namespace.
	NetNS string
	// Retry is the policy for requests the kernel refuses with a transient
	// error. nil means DefaultRetry; NoRetry sends every request once.
	Retry Retry
}

// Conn is a NETLINK_ROUTE socket with extended acks and strict checking on.
// It is safe for concurrent use: each Do or Dump owns the socket until its
// last reply is read, except during the pause before a retry.
type Conn struct {
	mu    sync.Mutex
	c     *netlink.Conn
	retry Retry
	// ackBudget is how many bytes of acknowledgements one sendmsg may
	// cause, at most: half the socket's receive buffer.
	ackBudget int
	sleep     func(time.Duration)
}

func newConn(c *netlink.Conn, retry Retry) *Conn {
	if retry == nil {
		retry = DefaultRetry
	}
	rcvbuf, err := c.ReadBuffer()
	if err != nil || rcvbuf <= 0 {
		rcvbuf = defaultRcvbuf
	}
	return &Conn{c: c, retry: retry, ackBudget: rcvbuf / 2, sleep: time.Sleep}
}

// defaultRcvbuf is the kernel's default socket receive buffer
// (net.core.rmem_default), as SO_RCVBUF reports it.
const defaultRcvbuf = 212992

// Dial opens a NETLINK_ROUTE socket, inside cfg.NetNS when it is set. A nil
// cfg means the caller's namespace.
func Dial(cfg *Config) (*Conn, error) {
	var nc netlink.Config
	// Strict turns on NETLINK_EXT_ACK (the kernel's error text) and
	// NETLINK_GET_STRICT_CHK where the kernel has them.
	nc.Strict = true
	if cfg != nil && cfg.NetNS != "" {
		f, err := netns.Open(cfg.NetNS)
		if err != nil {
			return nil, errDialf("%w", err)
		}
		defer f.Close()
		nc.NetNS = int(f.Fd())
	}
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &nc)
	if err != nil {
		where := ""
		if cfg != nil && cfg.NetNS != "" {
			// setns fails with a bare EINVAL or EPERM: say which namespace.
			where = fmt.Sprintf("network namespace %q: ", cfg.NetNS)
		}
		if errors.Is(err, unix.EPERM) {
			return nil, errDialf("%s%w%s", where, err, netns.PermissionHint)
		}
		return nil, errDialf("%s%w", where, err)
	}
	var retry Retry
	if cfg != nil {
		retry = cfg.Retry
	}
	return newConn(c, retry), nil
}

// Close closes the socket.
func (c *Conn) Close() error { return c.c.Close() }

// Do sends the requests and waits for each acknowledgement. It returns one
// error per request, in order (nil for success). The kernel handles the
// requests one after another and does not stop at a failure, so a caller
// that needs all-or-nothing must undo the ones that succeeded.
//
// The requests go in one sendmsg, unless their acknowledgements could
// overflow the socket's receive buffer (hundreds of requests): then in as
// few sendmsgs as keep them within it, in order. An overflow would make
// the kernel drop acknowledgements, leaving requests whose outcome is
// unknown; if one happens all the same, the requests whose
// acknowledgement was lost get an error wrapping ErrReplyLost.
//
// Requests the kernel refused with an error the Conn's Retry policy calls
// transient (DefaultRetry: EBUSY, EAGAIN) are sent again after the pause
// it asks for, together with every request after them that the kernel
// refused too, since those may have failed because of them. A refusal
// means the request had no effect, so this never applies a request twice:
// requests that succeeded, and requests whose outcome is unknown, are
// never sent again.
func (c *Conn) Do(reqs ...Request) []error {
	errs := make([]error, len(reqs))
	if len(reqs) == 0 {
		return errs
	}
	for i, r := range reqs {
		if r.Flags&netlink.Acknowledge == 0 {
			// Without NLM_F_ACK a success has no reply to wait for: send
			// nothing rather than wait forever.
			for j, r := range reqs {
				errs[j] = &Error{Cmd: r.Cmd, Err: unix.EINVAL, Message: fmt.Sprintf("request %d has no NLM_F_ACK; nothing was sent", i+1)}
			}
			return errs
		}
	}

	refused := make([]bool, len(reqs))
	todo := make([]int, len(reqs))
	for i := range todo {
		todo[i] = i
	}
	for tries := 1; ; tries++ {
		// The socket is ours for a round; others may use it during the
		// pause before the next.
		c.mu.Lock()
		for _, chunk := range c.chunks(reqs, todo) {
			c.round(reqs, chunk, errs, refused)
		}
		c.mu.Unlock()
		var again []int
		var pause time.Duration
		for _, i := range todo {
			if !refused[i] {
				continue
			}
			if again == nil {
				d, ok := c.retry(tries, errs[i])
				if !ok {
					continue
				}
				pause = d
			}
			again = append(again, i)
		}
		if again == nil {
			return errs
		}
		c.sleep(pause)
		todo = again
	}
}

// ackOverhead bounds what an acknowledgement costs the receive buffer
// beyond the request it may echo: the socket buffer's own overhead (an
// sk_buff and its shared info), struct nlmsgerr and the extended-ack
// attributes (the kernel's message, offsets).
const ackOverhead = 1024

// chunks splits todo into runs of requests whose acknowledgements fit the
// ack budget: an error acknowledgement echoes the request, and the buffer
// it sits in is rounded up to a power of two.
func (c *Conn) chunks(reqs []Request, todo []int) [][]int {
	var out [][]int
	start, used := 0, 0
	for k, i := range todo {
		cost := 1
		for cost < NlmsgHdrLen+len(reqs[i].Data)+ackOverhead {
			cost <<= 1
		}
		if k > start && used+cost > c.ackBudget {
			out = append(out, todo[start:k])
			start, used = k, 0
		}
		used += cost
	}
	return append(out, todo[start:])
}

// round sends the requests of chunk in one sendmsg and reads their
// acknowledgements, filling errs and refused (an error the kernel sent,
// as opposed to one of the socket).
func (c *Conn) round(reqs []Request, chunk []int, errs []error, refused []bool) {
	msgs := make([]netlink.Message, len(chunk))
	for k, i := range chunk {
		msgs[k] = reqs[i].Message()
		errs[i], refused[i] = nil, false
	}
	sent, err := c.c.SendMessages(msgs)
	if err != nil {
		for _, i := range chunk {
			errs[i] = wrap(reqs[i].Cmd, err)
		}
		return
	}
	index := make(map[uint32]int, len(sent))
	for k, m := range sent {
		index[m.Header.Sequence] = chunk[k]
	}
	for len(index) > 0 {
		replies, err := c.c.Receive()
		var op *netlink.OpError
		switch {
		case errors.As(err, &op) && op.Sequence != 0:
			// A refusal: of one of ours, or a late one of an earlier
			// request whose wait was given up (ignored).
			settleRefused(op, err, reqs, index, errs, refused)
		case errors.Is(err, unix.ENOBUFS):
			// The receive buffer overflowed and the kernel dropped
			// acknowledgements. Those still queued tell their requests'
			// outcome; the others' is unknown.
			c.drain(reqs, index, errs, refused)
			for _, i := range index {
				errs[i] = &Error{Cmd: reqs[i].Cmd, Err: fmt.Errorf("%w: %w", ErrReplyLost, err)}
			}
			return
		case err != nil:
			// The socket failed: every unanswered request shares the fate.
			for _, i := range index {
				errs[i] = wrap(reqs[i].Cmd, err)
			}
			return
		}
		settleAcked(replies, index)
	}
}

// drain reads what is queued on the socket, settling the requests of index
// it answers. Everything a sendmsg causes is queued before the sendmsg
// returns, so it waits for nothing more than a moment (a deadline already
// past would not even read what is queued).
func (c *Conn) drain(reqs []Request, index map[uint32]int, errs []error, refused []bool) {
	if err := c.c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		return
	}
	defer c.c.SetReadDeadline(time.Time{})
	for len(index) > 0 {
		replies, err := c.c.Receive()
		var op *netlink.OpError
		switch {
		case errors.As(err, &op) && op.Sequence != 0:
			settleRefused(op, err, reqs, index, errs, refused)
			continue
		case errors.Is(err, unix.ENOBUFS):
			continue
		case err != nil:
			return // the queue is empty (deadline), or the socket failed
		}
		settleAcked(replies, index)
	}
}

// settleRefused records the refusal op (err) of one of the pending requests
// in index; a late refusal of an earlier request is ignored.
func settleRefused(op *netlink.OpError, err error, reqs []Request, index map[uint32]int, errs []error, refused []bool) {
	if i, ok := index[op.Sequence]; ok {
		errs[i], refused[i] = wrap(reqs[i].Cmd, err), true
		delete(index, op.Sequence)
	}
}

// settleAcked removes from index the requests that replies acknowledge.
func settleAcked(replies []netlink.Message, index map[uint32]int) {
	for _, m := range replies {
		if _, ok := index[m.Header.Sequence]; ok && m.Header.Type == netlink.Error {
			delete(index, m.Header.Sequence)
		}
	}
}

// Exec sends one request and waits for its acknowledgement.
func (c *Conn) Exec(r Request) error { return c.Do(r)[0] }

// Dump sends a dump request (Flags must include NLM_F_DUMP) and returns every
// reply of the multi-part answer. A dump the kernel refused with a
// transient error, or flagged as interrupted (NLM_F_DUMP_INTR: the objects
// changed while it ran, so it may hold an object twice or miss one), is
// run again as the Retry policy says; an interrupted dump that is not
// gives an error wrapping ErrDumpInterrupted rather than partial data.
func (c *Conn) Dump(r Request) ([]netlink.Message, error) {
	for tries := 1; ; tries++ {
		c.mu.Lock()
		msgs, refused, err := c.dumpOnce(r)
		c.mu.Unlock()
		if err == nil || !refused {
			return msgs, err
		}
		d, ok := c.retry(tries, err)
		if !ok {
			return nil, err
		}
		c.sleep(d)
	}
}

// dumpOnce runs a dump. refused reports an error that proves the dump
// produced nothing usable and may be run again: the kernel's refusal, or an
// interrupted dump.
func (c *Conn) dumpOnce(r Request) (msgs []netlink.Message, refused bool, err error) {
	req, err := c.c.Send(r.Message())
	if err != nil {
		return nil, false, wrap(r.Cmd, err)
	}
	seq := req.Header.Sequence
	for {
		replies, err := c.c.Receive()
		var op *netlink.OpError
		switch {
		case errors.As(err, &op) && op.Sequence != 0 && op.Sequence != seq:
			continue // a late refusal of an earlier request
		case errors.As(err, &op) && op.Sequence == seq:
			return nil, true, wrap(r.Cmd, err)
		case err != nil:
			return nil, false, wrap(r.Cmd, err)
		}
		// Receive gathers a multi-part answer up to NLMSG_DONE, which it
		// drops: an empty one is an empty dump. Anything else not of this
		// sequence is a late answer to an earlier request.
		msgs = msgs[:0]
		interrupted := false
		for _, m := range replies {
			if m.Header.Sequence != seq {
				continue
			}
			if m.Header.Flags&netlink.DumpInterrupted != 0 {
				interrupted = true
			}
			msgs = append(msgs, m)
		}
		if len(replies) > 0 && len(msgs) == 0 {
			continue
		}
		if interrupted {
			return nil, true, &Error{Cmd: r.Cmd, Err: ErrDumpInterrupted}
		}
		return msgs, false, nil
	}
}
