package nl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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
// It is safe for concurrent use: each Do, Query or Dump owns the socket
// until its last reply is read, except during the pause before a retry.
type Conn struct {
	mu sync.Mutex
	t  Transport // owns the socket
	// seq is the last sequence number used.
	seq   uint32
	sbuf  []byte // the next sendmsg's messages
	b     batch  // the round in progress
	retry Retry
	// ackBudget is how many bytes of acknowledgements one sendmsg may
	// cause, at most: half the socket's receive buffer.
	ackBudget int
	sleep     func(time.Duration)
	sendmsgs  atomic.Uint64
	// deadline is the read deadline Bind set (zero: none); dmu guards it
	// and the socket's deadline, which drain moves for a moment.
	dmu      sync.Mutex
	deadline time.Time
}

// NewConn returns a Conn that does its I/O through t instead of a socket of
// its own: a fake kernel, for tests that need no privileges (nl/nltest).
// retry is as Config.Retry.
func NewConn(t Transport, retry Retry) *Conn { return newConn(t, retry, defaultRcvbuf) }

// newConn is a Conn on t whose socket has a receive buffer of rcvbuf bytes.
func newConn(t Transport, retry Retry, rcvbuf int) *Conn {
	if retry == nil {
		retry = DefaultRetry
	}
	if rcvbuf <= 0 {
		rcvbuf = defaultRcvbuf
	}
	return &Conn{t: t, retry: retry, ackBudget: rcvbuf / 2, sleep: time.Sleep}
}

// defaultRcvbuf is the kernel's default socket receive buffer
// (net.core.rmem_default), as SO_RCVBUF reports it.
const defaultRcvbuf = 212992

// Close closes the socket.
func (c *Conn) Close() error { return c.t.Close() }

// Sendmsgs is the number of sendmsg calls the Conn has made: its round
// trips to the kernel (a dump of many datagrams is one).
func (c *Conn) Sendmsgs() uint64 { return c.sendmsgs.Load() }

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
	_, errs := c.do(reqs, false)
	return errs
}

// Query is Do for requests that the kernel answers with messages before
// their acknowledgement, such as a GET with NLM_F_ECHO: it also returns,
// per request, those messages (nil for a request refused). Like Do, it
// sends them all in one sendmsg, and sends again the requests the kernel
// refused with a transient error. It is not for dumps.
func (c *Conn) Query(reqs ...Request) (replies [][]Message, errs []error) {
	return c.do(reqs, true)
}

func (c *Conn) do(reqs []Request, answers bool) ([][]Message, []error) {
	errs := make([]error, len(reqs))
	var replies [][]Message
	if answers {
		replies = make([][]Message, len(reqs))
	}
	if len(reqs) == 0 {
		return replies, errs
	}
	for i, r := range reqs {
		if r.Flags&NLM_F_ACK == 0 {
			// Without NLM_F_ACK a success has no reply to wait for: send
			// nothing rather than wait forever.
			for j, r := range reqs {
				errs[j] = &Error{Cmd: r.Cmd, Err: syscall.EINVAL, Message: fmt.Sprintf("request %d has no NLM_F_ACK; nothing was sent", i+1)}
			}
			return replies, errs
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
		for rest := todo; len(rest) > 0; {
			n := c.chunkLen(reqs, rest, answers)
			c.round(reqs, rest[:n], errs, refused, replies)
			rest = rest[n:]
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
			return replies, errs
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

// chunkLen is how many requests at the start of todo go in one sendmsg:
// as many as keep their acknowledgements within the ack budget (an error
// acknowledgement echoes the request, and the buffer it sits in is
// rounded up to a power of two), at least one. A request with answers
// (Query) counts twice: the answer is about as large as an error.
func (c *Conn) chunkLen(reqs []Request, todo []int, answers bool) int {
	used := 0
	for k, i := range todo {
		cost := 1
		for cost < NlmsgHdrLen+len(reqs[i].Data)+ackOverhead {
			cost <<= 1
		}
		if answers {
			cost *= 2
		}
		if k > 0 && used+cost > c.ackBudget {
			return k
		}
		used += cost
	}
	return len(todo)
}

// batch is the round in progress: the requests of chunk went out with the
// sequence numbers first, first+1 …; pending marks those still unanswered.
type batch struct {
	reqs    []Request
	chunk   []int
	first   uint32
	pending []bool
	left    int
	errs    []error
	refused []bool
	replies [][]Message // nil: answers are not kept
}

// round sends the requests of chunk in one sendmsg and reads their
// acknowledgements, filling errs and refused (an error the kernel sent,
// as opposed to one of the socket), and replies when it is not nil.
func (c *Conn) round(reqs []Request, chunk []int, errs []error, refused []bool, replies [][]Message) {
	b := &c.b
	*b = batch{reqs: reqs, chunk: chunk, first: c.seq + 1, pending: b.pending[:0], left: len(chunk), errs: errs, refused: refused, replies: replies}
	c.sbuf = c.sbuf[:0]
	for _, i := range chunk {
		c.seq++
		c.sbuf = appendMessage(c.sbuf, reqs[i], c.seq)
		errs[i], refused[i] = nil, false
		if replies != nil {
			replies[i] = nil
		}
		b.pending = append(b.pending, true)
	}
	defer func() { b.reqs, b.errs, b.refused, b.replies = nil, nil, nil, nil }()
	c.sendmsgs.Add(1)
	if err := c.t.Send(c.sbuf); err != nil {
		for _, i := range chunk {
			errs[i] = &Error{Cmd: reqs[i].Cmd, Err: err}
		}
		return
	}
	for b.left > 0 {
		d, err := c.t.Recv()
		switch {
		case errors.Is(err, syscall.ENOBUFS):
			// The receive buffer overflowed and the kernel dropped
			// acknowledgements. Those still queued tell their requests'
			// outcome; the others' is unknown.
			c.drain()
			b.fail(func(string) error { return fmt.Errorf("%w: %w", ErrReplyLost, err) })
			return
		case err != nil:
			// The socket failed: every unanswered request shares the fate.
			b.fail(func(string) error { return err })
			return
		}
		b.settle(d)
	}
}

// fail gives every unanswered request the error cause returns.
func (b *batch) fail(cause func(cmd string) error) {
	for k, p := range b.pending {
		if p {
			i := b.chunk[k]
			b.errs[i] = &Error{Cmd: b.reqs[i].Cmd, Err: cause(b.reqs[i].Cmd)}
		}
	}
}

// settle reads one datagram: an acknowledgement or a refusal settles its
// request, any other message of a pending request is one of its answers.
// Messages of other sequence numbers are late answers to requests whose
// wait was given up: ignored.
func (b *batch) settle(d []byte) {
	for m, err := range messages(d) {
		if err != nil {
			return
		}
		k := m.Header.Sequence - b.first
		if k >= uint32(len(b.pending)) || !b.pending[k] {
			continue
		}
		i := b.chunk[k]
		if m.Header.Type != NLMSG_ERROR {
			if b.replies != nil {
				m.Data = bytes.Clone(m.Data)
				b.replies[i] = append(b.replies[i], m)
			}
			continue
		}
		b.pending[k] = false
		b.left--
		if err := kernelError(b.reqs[i].Cmd, m); err != nil {
			b.errs[i], b.refused[i] = err, true
			if b.replies != nil {
				b.replies[i] = nil
			}
		}
	}
}

// drain reads what is queued on the socket, settling the requests of the
// round it answers. Everything a sendmsg causes is queued before the
// sendmsg returns, so it waits for nothing more than a moment (a deadline
// already past would not even read what is queued).
func (c *Conn) drain() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	d := time.Now().Add(10 * time.Millisecond)
	if !c.deadline.IsZero() && c.deadline.Before(d) {
		d = c.deadline
	}
	if err := c.t.SetReadDeadline(d); err != nil {
		return
	}
	defer c.t.SetReadDeadline(c.deadline)
	for c.b.left > 0 {
		d, err := c.t.Recv()
		switch {
		case errors.Is(err, syscall.ENOBUFS):
			continue
		case err != nil:
			return // the queue is empty (deadline), or the socket failed
		}
		c.b.settle(d)
	}
}

// Exec sends one request and waits for its acknowledgement.
func (c *Conn) Exec(r Request) error { return c.Do(r)[0] }

// Bind makes the Conn's reads end when ctx does: a read still waiting at
// ctx's deadline, or when ctx is cancelled, fails with
// os.ErrDeadlineExceeded. unbind undoes it; the Conn must be bound to one
// ctx at a time.
func (c *Conn) Bind(ctx context.Context) (unbind func()) {
	c.dmu.Lock()
	c.deadline, _ = ctx.Deadline()
	c.t.SetReadDeadline(c.deadline)
	c.dmu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		c.dmu.Lock()
		c.deadline = time.Unix(1, 0)
		c.t.SetReadDeadline(c.deadline)
		c.dmu.Unlock()
	})
	return func() {
		stop()
		c.dmu.Lock()
		c.deadline = time.Time{}
		c.t.SetReadDeadline(c.deadline)
		c.dmu.Unlock()
	}
}
