package nl_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/tcwire/tcwire/nl"
)

// fakeKernel is a netlink.Socket that answers like rtnetlink, with no
// kernel: each request is handled in order, each acknowledgement is a
// datagram of its own, a dump is answered by multi-part datagrams and
// NLMSG_DONE. A queue limit stands for the receive buffer: datagrams past
// it are dropped and the next Receive fails with ENOBUFS, as the kernel
// does on overrun.
type fakeKernel struct {
	mu sync.Mutex
	// answer decides the fate of a request: an errno refuses it; for a
	// dump, msgs are the objects and intr flags the dump interrupted.
	answer func(m netlink.Message, n int) (errno unix.Errno, msgs [][]byte, intr bool)
	limit  int // most queued datagrams; 0: no limit

	queue    [][]netlink.Message
	overrun  bool
	deadline time.Time
	sendmsgs [][]netlink.Message // every sendmsg, in order
	seen     map[string]int      // how many times each request (by Data) came
	applied  []string            // requests that succeeded, in order
}

func newFakeKernel(answer func(m netlink.Message, n int) (unix.Errno, [][]byte, bool)) *fakeKernel {
	return &fakeKernel{answer: answer, seen: map[string]int{}}
}

func (k *fakeKernel) Close() error { return nil }

func (k *fakeKernel) Send(m netlink.Message) error { return k.SendMessages([]netlink.Message{m}) }

func (k *fakeKernel) SendMessages(msgs []netlink.Message) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := range msgs {
		// The Conn pads Data to 4 bytes, as a kernel receives it.
		msgs[i].Data = bytes.TrimRight(msgs[i].Data, "\x00")
	}
	k.sendmsgs = append(k.sendmsgs, msgs)
	for _, m := range msgs {
		key := string(m.Data)
		k.seen[key]++
		errno, objs, intr := k.answer(m, k.seen[key])
		if errno == 0 {
			k.applied = append(k.applied, key)
		}
		if m.Header.Flags&netlink.Dump == netlink.Dump && m.Header.Type == unix.RTM_GETLINK && errno == 0 {
			flags := netlink.Multi
			if intr {
				flags |= netlink.DumpInterrupted
			}
			var part []netlink.Message
			for _, o := range objs {
				part = append(part, netlink.Message{Header: netlink.Header{Type: unix.RTM_NEWLINK, Flags: flags, Sequence: m.Header.Sequence, PID: 1}, Data: o})
			}
			if len(part) > 0 {
				k.push(part)
			}
			k.push([]netlink.Message{{Header: netlink.Header{Type: netlink.Done, Flags: flags, Sequence: m.Header.Sequence, PID: 1}, Data: make([]byte, 4)}})
			continue
		}
		if m.Header.Flags&netlink.Echo != 0 && errno == 0 {
			// A GET with NLM_F_ECHO: each object in a datagram of its
			// own, as the kernel sends it, before the ack.
			for _, o := range objs {
				k.push([]netlink.Message{{Header: netlink.Header{Type: unix.RTM_NEWQDISC, Sequence: m.Header.Sequence, PID: 1}, Data: o}})
			}
		}
		if m.Header.Flags&netlink.Acknowledge != 0 || errno != 0 {
			k.push([]netlink.Message{ack(m, errno)})
		}
	}
	return nil
}

// ack is the NLMSG_ERROR answer to m: errno 0 acknowledges it.
func ack(m netlink.Message, errno unix.Errno) netlink.Message {
	// The error, then the request's header (struct nlmsgerr).
	data := binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
	data = binary.NativeEndian.AppendUint32(data, m.Header.Length)
	data = binary.NativeEndian.AppendUint16(data, uint16(m.Header.Type))
	data = binary.NativeEndian.AppendUint16(data, uint16(m.Header.Flags))
	data = binary.NativeEndian.AppendUint32(data, m.Header.Sequence)
	data = binary.NativeEndian.AppendUint32(data, m.Header.PID)
	return netlink.Message{Header: netlink.Header{Type: netlink.Error, Sequence: m.Header.Sequence, PID: 1}, Data: data}
}

func (k *fakeKernel) push(d []netlink.Message) {
	if k.limit > 0 && len(k.queue) >= k.limit {
		k.overrun = true
		return
	}
	k.queue = append(k.queue, d)
}

func (k *fakeKernel) SetReadDeadline(t time.Time) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.deadline = t
	return nil
}

func (k *fakeKernel) SetDeadline(t time.Time) error      { return k.SetReadDeadline(t) }
func (k *fakeKernel) SetWriteDeadline(t time.Time) error { return nil }

func (k *fakeKernel) Receive() ([]netlink.Message, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.overrun:
		// As the kernel: the socket error comes first, once.
		k.overrun = false
		return nil, os.NewSyscallError("recvmsg", unix.ENOBUFS)
	case len(k.queue) == 0 && !k.deadline.IsZero():
		return nil, os.ErrDeadlineExceeded
	case len(k.queue) == 0:
		return nil, errors.New("fake kernel: Receive on an empty queue would block forever")
	}
	d := k.queue[0]
	k.queue = k.queue[1:]
	return d, nil
}

func (k *fakeKernel) ReceiveIter() iter.Seq2[netlink.Message, error] {
	return func(yield func(netlink.Message, error) bool) {
		msgs, err := k.Receive()
		if err != nil {
			yield(netlink.Message{}, err)
			return
		}
		for _, m := range msgs {
			if !yield(m, nil) {
				return
			}
		}
	}
}

// req is a request the fake kernel recognizes by name.
func req(name string) nl.Request {
	return nl.Request{Type: unix.RTM_NEWQDISC, Flags: nl.FlagsCreate, Data: []byte(name), Cmd: "tc " + name}
}

// fastRetry is DefaultRetry's decisions without its pauses' length.
func fastRetry(tries int, err error) (time.Duration, bool) {
	_, again := nl.DefaultRetry(tries, err)
	return time.Millisecond, again
}

func errnos(errs []error) string {
	var out []string
	for _, err := range errs {
		var e unix.Errno
		switch {
		case err == nil:
			out = append(out, "ok")
		case errors.Is(err, nl.ErrReplyLost):
			out = append(out, "lost")
		case errors.As(err, &e):
			out = append(out, unix.ErrnoName(e))
		default:
			out = append(out, err.Error())
		}
	}
	return strings.Join(out, " ")
}

func TestDefaultRetry(t *testing.T) {
	busy := &nl.Error{Cmd: "tc qdisc add dev eth0 ingress", Err: unix.EBUSY}
	for _, tt := range []struct {
		tries int
		err   error
		again bool
	}{
		{1, busy, true},
		{4, busy, true},
		{5, busy, false},
		{1, &nl.Error{Err: unix.EAGAIN}, true},
		{1, fmt.Errorf("wrapped: %w", busy), true},
		{1, &nl.Error{Err: nl.ErrDumpInterrupted}, true},
		{1, &nl.Error{Err: unix.EEXIST}, false},
		{1, &nl.Error{Err: unix.ENOBUFS}, false},
		{1, &nl.Error{Err: fmt.Errorf("%w: %w", nl.ErrReplyLost, unix.ENOBUFS)}, false},
	} {
		pause, again := nl.DefaultRetry(tt.tries, tt.err)
		if again != tt.again || (again && pause != 10*time.Millisecond) {
			t.Errorf("DefaultRetry(%d, %v) = %v, %v; want again=%v after 10ms", tt.tries, tt.err, pause, again, tt.again)
		}
	}
	if _, again := nl.NoRetry(1, busy); again {
		t.Error("NoRetry retries")
	}
}

// TestDoRetry: refused requests are sent again as the policy says, the
// ones that succeeded never are, and the final errors are the last
// answers.
func TestDoRetry(t *testing.T) {
	for _, tt := range []struct {
		name   string
		batch  []string
		answer map[string][]unix.Errno // errno of each try (then success)
		retry  nl.Retry
		want   string   // final errors
		sent   []string // the requests of each sendmsg
		pauses int
	}{{
		name:   "EBUSY twice then success",
		batch:  []string{"a", "b", "c"},
		answer: map[string][]unix.Errno{"b": {unix.EBUSY, unix.EBUSY}},
		retry:  fastRetry,
		want:   "ok ok ok",
		sent:   []string{"a b c", "b", "b"},
		pauses: 2,
	}, {
		name:   "EBUSY for good: five tries",
		batch:  []string{"a", "b"},
		answer: map[string][]unix.Errno{"b": {unix.EBUSY, unix.EBUSY, unix.EBUSY, unix.EBUSY, unix.EBUSY, unix.EBUSY}},
		retry:  fastRetry,
		want:   "ok EBUSY",
		sent:   []string{"a b", "b", "b", "b", "b"},
		pauses: 4,
	}, {
		name:  "a refusal after a transient one goes again with it",
		batch: []string{"qdisc", "filter", "other"},
		// filter fails because qdisc did; other is fine.
		answer: map[string][]unix.Errno{"qdisc": {unix.EAGAIN}, "filter": {unix.EINVAL}},
		retry:  fastRetry,
		want:   "ok ok ok",
		sent:   []string{"qdisc filter other", "qdisc filter"},
		pauses: 1,
	}, {
		name:   "a refusal before the transient one is final",
		batch:  []string{"x", "b"},
		answer: map[string][]unix.Errno{"x": {unix.EEXIST, unix.EEXIST}, "b": {unix.EBUSY}},
		retry:  fastRetry,
		want:   "EEXIST ok",
		sent:   []string{"x b", "b"},
		pauses: 1,
	}, {
		name:   "not transient: no retry",
		batch:  []string{"a", "b"},
		answer: map[string][]unix.Errno{"a": {unix.EEXIST}, "b": {unix.ENODEV}},
		retry:  fastRetry,
		want:   "EEXIST ENODEV",
		sent:   []string{"a b"},
	}, {
		name:   "NoRetry",
		batch:  []string{"a"},
		answer: map[string][]unix.Errno{"a": {unix.EBUSY}},
		retry:  nl.NoRetry,
		want:   "EBUSY",
		sent:   []string{"a"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) {
				if e := tt.answer[string(m.Data)]; n <= len(e) {
					return e[n-1], nil, false
				}
				return 0, nil, false
			})
			c, pauses := nl.NewTestConn(k, tt.retry, 0)
			var reqs []nl.Request
			for _, n := range tt.batch {
				reqs = append(reqs, req(n))
			}
			errs := c.Do(reqs...)
			if got := errnos(errs); got != tt.want {
				t.Errorf("errors %q, want %q", got, tt.want)
			}
			for i, err := range errs {
				if err != nil && !strings.HasPrefix(err.Error(), reqs[i].Cmd+": ") {
					t.Errorf("error %d does not name its request: %v", i, err)
				}
			}
			var sent []string
			for _, s := range k.sendmsgs {
				var names []string
				for _, m := range s {
					names = append(names, string(m.Data))
				}
				sent = append(sent, strings.Join(names, " "))
			}
			if nl.Diff(tt.sent, sent) != "" {
				t.Errorf("sendmsgs %q, want %q", sent, tt.sent)
			}
			if len(*pauses) != tt.pauses {
				t.Errorf("%d pauses, want %d", len(*pauses), tt.pauses)
			}
			// Nothing was applied twice.
			count := map[string]int{}
			for _, a := range k.applied {
				if count[a]++; count[a] > 1 {
					t.Errorf("%s applied twice", a)
				}
			}
		})
	}
}

// TestDoDefaultPolicy: a Conn without a policy uses DefaultRetry, with
// its 10 ms pauses.
func TestDoDefaultPolicy(t *testing.T) {
	k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) {
		if n < 3 {
			return unix.EBUSY, nil, false
		}
		return 0, nil, false
	})
	c, pauses := nl.NewTestConn(k, nil, 0)
	if err := c.Exec(req("a")); err != nil {
		t.Fatal(err)
	}
	if nl.Diff([]time.Duration{10 * time.Millisecond, 10 * time.Millisecond}, *pauses) != "" {
		t.Errorf("pauses %v", *pauses)
	}
}

// TestDoChunks: a batch whose acknowledgements could overflow the receive
// buffer goes in several sendmsgs, each within the budget, in order; a
// small one in one.
func TestDoChunks(t *testing.T) {
	k := newFakeKernel(func(netlink.Message, int) (unix.Errno, [][]byte, bool) { return 0, nil, false })
	// Each request costs 2048 (16+1 bytes and the overhead, rounded up).
	c, _ := nl.NewTestConn(k, nl.NoRetry, 5*2048)
	var reqs []nl.Request
	for i := range 12 {
		reqs = append(reqs, req(fmt.Sprint(i%10)))
	}
	if got := errnos(c.Do(reqs...)); got != strings.TrimSpace(strings.Repeat("ok ", 12)) {
		t.Fatalf("errors %q", got)
	}
	var sizes []int
	var order []string
	for _, s := range k.sendmsgs {
		sizes = append(sizes, len(s))
		for _, m := range s {
			order = append(order, string(m.Data))
		}
	}
	if nl.Diff([]int{5, 5, 2}, sizes) != "" || strings.Join(order, "") != "012345678901" {
		t.Errorf("sendmsgs of %v requests, in order %v", sizes, order)
	}

	k.sendmsgs = nil
	c.Do(reqs[:4]...)
	if len(k.sendmsgs) != 1 {
		t.Errorf("4 requests in %d sendmsgs", len(k.sendmsgs))
	}
}

// TestDoOverrun: when the receive buffer overflows all the same, the
// acknowledgements still queued settle their requests, the others are
// reported lost (never resent, whatever the policy), and the Conn keeps
// working.
func TestDoOverrun(t *testing.T) {
	k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) {
		if string(m.Data) == "x" {
			return unix.EEXIST, nil, false
		}
		return 0, nil, false
	})
	k.limit = 3
	retryAll := func(tries int, _ error) (time.Duration, bool) { return 0, tries < 3 }
	c, _ := nl.NewTestConn(k, retryAll, 1<<30) // no chunking
	errs := c.Do(req("a"), req("x"), req("b"), req("c"), req("d"))
	if got := errnos(errs); got != "ok EEXIST ok lost lost" {
		t.Errorf("errors %q, want ok EEXIST ok lost lost", got)
	}
	if !errors.Is(errs[3], unix.ENOBUFS) || !strings.HasPrefix(errs[3].Error(), "tc c: ") {
		t.Errorf("lost: %v", errs[3])
	}
	// x was refused and is sent again (EEXIST again); c and d, whose fate
	// is unknown, are not.
	if k.seen["x"] != 3 || k.seen["c"] != 1 || k.seen["d"] != 1 {
		t.Errorf("requests of unknown outcome sent again: %v", k.seen)
	}
	k.limit = 0
	if err := c.Exec(req("e")); err != nil {
		t.Errorf("after the overrun: %v", err)
	}
	msgs, err := c.Dump(nl.Request{Type: unix.RTM_GETLINK, Flags: nl.FlagsDump, Data: []byte("dump"), Cmd: "ip link show"})
	if err != nil || len(msgs) != 0 {
		t.Errorf("dump after the overrun: %v, %v", msgs, err)
	}
}

func dumpReq() nl.Request {
	return nl.Request{Type: unix.RTM_GETLINK, Flags: nl.FlagsDump, Data: []byte("dump"), Cmd: "ip link show"}
}

// TestDumpRetry: an interrupted dump, or one refused with EBUSY, is run
// again; a dump interrupted every time is an error, not partial data.
func TestDumpRetry(t *testing.T) {
	objs := [][]byte{[]byte("lo"), []byte("eth0"), []byte("tap0")}
	t.Run("interrupted once", func(t *testing.T) {
		k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) {
			if n == 1 {
				return 0, objs[:2], true
			}
			return 0, objs, false
		})
		c, pauses := nl.NewTestConn(k, fastRetry, 0)
		msgs, err := c.Dump(dumpReq())
		if err != nil || len(msgs) != 3 || len(*pauses) != 1 {
			t.Fatalf("Dump: %d messages, %v, %d pauses", len(msgs), err, len(*pauses))
		}
	})
	t.Run("always interrupted", func(t *testing.T) {
		k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) { return 0, objs, true })
		c, _ := nl.NewTestConn(k, fastRetry, 0)
		msgs, err := c.Dump(dumpReq())
		if !errors.Is(err, nl.ErrDumpInterrupted) || msgs != nil || k.seen["dump"] != 5 {
			t.Fatalf("Dump: %v, %v after %d tries", msgs, err, k.seen["dump"])
		}
		if !strings.HasPrefix(err.Error(), "ip link show: ") {
			t.Errorf("error does not name the dump: %v", err)
		}
	})
	t.Run("EBUSY", func(t *testing.T) {
		k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) {
			if n == 1 {
				return unix.EBUSY, nil, false
			}
			return 0, objs, false
		})
		c, _ := nl.NewTestConn(k, fastRetry, 0)
		if msgs, err := c.Dump(dumpReq()); err != nil || len(msgs) != 3 {
			t.Fatalf("Dump: %d messages, %v", len(msgs), err)
		}
	})
	t.Run("EPERM", func(t *testing.T) {
		k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) { return unix.EPERM, nil, false })
		c, _ := nl.NewTestConn(k, fastRetry, 0)
		if _, err := c.Dump(dumpReq()); !errors.Is(err, unix.EPERM) || k.seen["dump"] != 1 {
			t.Fatalf("Dump: %v after %d tries", err, k.seen["dump"])
		}
	})
}

// TestDumpSkipsLateAnswers: answers left on the socket by an earlier
// request (here queued by hand) do not end up in a dump's result.
func TestDumpSkipsLateAnswers(t *testing.T) {
	k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) {
		return 0, [][]byte{[]byte("lo")}, false
	})
	late := netlink.Message{Header: netlink.Header{Sequence: 7, Flags: netlink.HeaderFlags(nl.FlagsAck)}}
	k.queue = append(k.queue, []netlink.Message{ack(late, 0)}, []netlink.Message{ack(late, unix.EEXIST)})
	c, _ := nl.NewTestConn(k, nl.NoRetry, 0)
	msgs, err := c.Dump(dumpReq())
	if err != nil || len(msgs) != 1 || string(msgs[0].Data) != "lo" {
		t.Fatalf("Dump: %v, %v", msgs, err)
	}
}

// TestQuery: each request gets the answers the kernel sent before its
// ack, in one sendmsg; a refused one gets none, and one refused with a
// transient error is sent again and then gets its answer.
func TestQuery(t *testing.T) {
	k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) {
		switch string(m.Data) {
		case "busy":
			if n == 1 {
				return unix.EBUSY, nil, false
			}
			return 0, [][]byte{[]byte("late")}, false
		case "none":
			return unix.ENOENT, nil, false
		case "bare":
			return 0, nil, false
		}
		return 0, [][]byte{append([]byte("obj-"), m.Data...)}, false
	})
	c, pauses := nl.NewTestConn(k, fastRetry, 0)
	var reqs []nl.Request
	for _, n := range []string{"eth0", "busy", "none", "bare", "tap0"} {
		r := req(n)
		r.Flags |= nl.NLM_F_ECHO
		reqs = append(reqs, r)
	}
	before := c.Sendmsgs()
	replies, errs := c.Query(reqs...)
	if got := errnos(errs); got != "ok ok ENOENT ok ok" {
		t.Errorf("errors %q", got)
	}
	want := []string{"obj-eth0", "late", "", "", "obj-tap0"}
	for i, rs := range replies {
		var got []string
		for _, m := range rs {
			got = append(got, strings.TrimRight(string(m.Data), "\x00"))
		}
		if strings.Join(got, ",") != want[i] {
			t.Errorf("request %d: answers %q, want %q", i, got, want[i])
		}
	}
	if n := c.Sendmsgs() - before; n != 2 || len(k.sendmsgs) != 2 || len(*pauses) != 1 {
		t.Errorf("%d sendmsgs counted, %d made, %d pauses; want 2, 2, 1", n, len(k.sendmsgs), len(*pauses))
	}
}

// TestDumpEach: fn sees every reply in order; a refusal is retried, an
// interrupted dump is not (fn has seen part of it); fn's error ends the
// walk and the socket dumps again afterwards.
func TestDumpEach(t *testing.T) {
	objs := [][]byte{[]byte("lo"), []byte("eth0"), []byte("tap0")}
	names := func(c *nl.Conn, stopAt string) (string, error) {
		var got []string
		err := c.DumpEach(dumpReq(), func(m nl.Message) error {
			got = append(got, strings.TrimRight(string(m.Data), "\x00"))
			if got[len(got)-1] == stopAt {
				return errors.New("enough")
			}
			return nil
		})
		return strings.Join(got, " "), err
	}
	k := newFakeKernel(func(m netlink.Message, n int) (unix.Errno, [][]byte, bool) {
		switch n {
		case 1:
			return unix.EBUSY, nil, false
		case 3:
			return 0, objs, true
		}
		return 0, objs, false
	})
	c, pauses := nl.NewTestConn(k, fastRetry, 0)
	if got, err := names(c, ""); err != nil || got != "lo eth0 tap0" || len(*pauses) != 1 {
		t.Errorf("after EBUSY: %q, %v, %d pauses", got, err, len(*pauses))
	}
	if got, err := names(c, ""); !errors.Is(err, nl.ErrDumpInterrupted) || got != "lo eth0 tap0" || k.seen["dump"] != 3 {
		t.Errorf("interrupted: %q, %v after %d dumps; want the error, not a retry", got, err, k.seen["dump"])
	}
	if got, err := names(c, "eth0"); err == nil || err.Error() != "enough" || got != "lo eth0" {
		t.Errorf("fn's error: %q, %v", got, err)
	}
	if got, err := names(c, ""); err != nil || got != "lo eth0 tap0" {
		t.Errorf("after fn's error: %q, %v", got, err)
	}
}
