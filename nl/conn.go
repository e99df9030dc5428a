package nl

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Config configures Dial.
type Config struct {
	// NetNS is the network namespace to work in: a name under /run/netns or
	// a path (anything with a '/', such as /proc/PID/ns/net). Empty means
	// the caller's namespace.
	NetNS string
}

// NetNSPath resolves a namespace given by name or path, the way `ip -n` and
// CNI_NETNS name them.
func NetNSPath(ns string) (string, error) {
	switch {
	case ns == "":
		return "", errors.New("nl: empty network namespace name")
	case strings.IndexByte(ns, 0) >= 0:
		return "", fmt.Errorf("nl: network namespace %q contains a NUL byte", ns)
	case strings.ContainsRune(ns, '/'):
		return ns, nil
	case ns == "." || ns == "..":
		return "", fmt.Errorf("nl: invalid network namespace name %q", ns)
	}
	return "/run/netns/" + ns, nil
}

// Conn is a NETLINK_ROUTE socket with extended acks and strict checking on.
// It is safe for concurrent use: each Do or Dump owns the socket until its
// last reply is read.
type Conn struct {
	mu sync.Mutex
	c  *netlink.Conn
}

// Dial opens a NETLINK_ROUTE socket, inside cfg.NetNS when it is set. A nil
// cfg means the caller's namespace.
func Dial(cfg *Config) (*Conn, error) {
	var nc netlink.Config
	// Strict turns on NETLINK_EXT_ACK (the kernel's error text) and
	// NETLINK_GET_STRICT_CHK where the kernel has them.
	nc.Strict = true
	if cfg != nil && cfg.NetNS != "" {
		path, err := NetNSPath(cfg.NetNS)
		if err != nil {
			return nil, errDialf("%w", err)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, errDialf("network namespace %q: %w", cfg.NetNS, err)
		}
		defer f.Close()
		var st unix.Statfs_t
		if err := unix.Fstatfs(int(f.Fd()), &st); err != nil || (st.Type != unix.NSFS_MAGIC && st.Type != unix.PROC_SUPER_MAGIC) {
			return nil, errDialf("%s is not a network namespace", path)
		}
		// Another kind of namespace (/proc/self/ns/mnt) passes the check
		// above; NS_GET_NSTYPE (Linux 4.11) tells them apart.
		if typ, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE); err == nil && typ != unix.CLONE_NEWNET {
			return nil, errDialf("%s is not a network namespace", path)
		}
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
			return nil, errDialf("%s%w (entering a network namespace needs CAP_SYS_ADMIN)", where, err)
		}
		return nil, errDialf("%s%w", where, err)
	}
	return &Conn{c: c}, nil
}

// Close closes the socket.
func (c *Conn) Close() error { return c.c.Close() }

// Do sends every request in one sendmsg and waits for each acknowledgement.
// It returns one error per request, in order (nil for success). The kernel
// handles the requests one after another and does not stop at a failure, so
// a caller that needs all-or-nothing must undo the ones that succeeded.
func (c *Conn) Do(reqs ...Request) []error {
	errs := make([]error, len(reqs))
	if len(reqs) == 0 {
		return errs
	}
	msgs := make([]netlink.Message, len(reqs))
	for i, r := range reqs {
		if r.Flags&netlink.Acknowledge == 0 {
			// Without NLM_F_ACK a success has no reply to wait for: send
			// nothing rather than wait forever.
			for j, r := range reqs {
				errs[j] = &Error{Cmd: r.Cmd, Err: unix.EINVAL, Message: fmt.Sprintf("request %d has no NLM_F_ACK; nothing was sent", i+1)}
			}
			return errs
		}
		msgs[i] = r.Message()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	sent, err := c.c.SendMessages(msgs)
	if err != nil {
		for i, r := range reqs {
			errs[i] = wrap(r.Cmd, err)
		}
		return errs
	}
	index := make(map[uint32]int, len(sent))
	for i, m := range sent {
		index[m.Header.Sequence] = i
	}
	for pending := len(reqs); pending > 0; {
		replies, err := c.c.Receive()
		var op *netlink.OpError
		switch {
		case errors.As(err, &op) && op.Sequence != 0:
			if i, ok := index[op.Sequence]; ok {
				errs[i] = wrap(reqs[i].Cmd, err)
				delete(index, op.Sequence)
				pending--
			}
		case err != nil:
			// The socket failed: every unanswered request shares the fate.
			for _, i := range index {
				errs[i] = wrap(reqs[i].Cmd, err)
			}
			return errs
		}
		for _, m := range replies {
			if _, ok := index[m.Header.Sequence]; ok && m.Header.Type == netlink.Error {
				delete(index, m.Header.Sequence)
				pending--
			}
		}
	}
	return errs
}

// Exec sends one request and waits for its acknowledgement.
func (c *Conn) Exec(r Request) error { return c.Do(r)[0] }

// Dump sends a dump request (Flags must include NLM_F_DUMP) and returns every
// reply of the multi-part answer.
func (c *Conn) Dump(r Request) ([]netlink.Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	msgs, err := c.c.Execute(r.Message())
	return msgs, wrap(r.Cmd, err)
}
