package tcwire

import (
	"context"
	"fmt"
	"os"

	"github.com/tcwire/tcwire/link"
	"github.com/tcwire/tcwire/nl"
	"github.com/tcwire/tcwire/tc"
)

// Step is one thing Attach or Detach does to the kernel.
type Step struct {
	// Cmd is the equivalent command line: the ip or tc command that sends
	// the same request, or the ioctls of a /dev/net/tun step.
	Cmd string
	// Request is the netlink request, byte for byte what is sent (seq and
	// pid aside); nil for a step on /dev/net/tun.
	Request *nl.Request
}

// Plan is what Attach or Detach would do now, decided from the live state
// by PlanAttach or PlanDetach without changing anything.
type Plan struct {
	// Op is "attach" or "detach".
	Op string
	// Options are the options the plan was made for.
	Options Options
	// Notes say what the plan found, and what it assumed where a device
	// does not exist yet.
	Notes []string
	// Steps are the steps, in order. The requests of a step that Attach
	// batches with others go in one sendmsg.
	Steps []Step

	dev, tap *link.Link   // tap is nil when Attach creates it
	hooks    []tc.Hook    // dev's, then tap's when it exists
	wire     *tc.Plan     // attach: on an existing tap
	tapAlias string       // attach: tcwire's mark, with the record of QuietDev
	tapPre   []nl.Request // attach: an existing tap quiet and up
	devQuiet []nl.Request // attach: DEV quiet (QuietDev), after the wiring
	restore  []nl.Request // detach: what QuietDev changed on DEV
	unwire   *tc.Plan     // detach
	delTap   bool         // detach deletes the tap
	tapIDs   *[2]*int     // attach: owner and group to give an unowned tap

	// What the other modes' plans carry out (mode.go and a file a mode):
	mode    Mode         // the mode the plan is for
	reqs    []nl.Request // the mode's requests
	macvlan link.Macvlan // macvtap: the one to create
	node    *devNode     // macvtap: its node
	rmNode  string       // macvtap detach: a node tcwire made
	euid    int          // macvtap: the node's default owner
	bridge  bridgeRead   // bridge: what was read
	brRec   bridgeRecord // bridge: the bridge's record
	done    Detachment   // detach: what it reports
}

// planAttach reads what o's mode decides an Attach from, and decides.
func planAttach(ctx context.Context, c *nl.Conn, o Options) (*Plan, error) {
	return plannerOf(o.mode()).attachPlan(ctx, c, o)
}

// lookup finds a device by name; a missing one gives a notFoundError.
func lookup(c *nl.Conn, name string) (*link.Link, error) {
	l, err := link.Lookup(c, name)
	if link.IsNotFound(err) {
		return nil, &notFoundError{name: name, err: err}
	}
	return l, err
}

// lookupOptional is lookup where a missing device is nil, not an error.
func lookupOptional(c *nl.Conn, name string) (*link.Link, error) {
	l, err := link.Lookup(c, name)
	if link.IsNotFound(err) {
		return nil, nil
	}
	return l, err
}

func devOf(l *link.Link) tc.Dev { return tc.Dev{Name: l.Name, Index: l.Index} }

// namer names devices by ifindex for errors, "" when it cannot.
func namer(c *nl.Conn) func(int32) string {
	return func(ifindex int32) string {
		if l, err := link.LookupIndex(c, ifindex); err == nil {
			return l.Name
		}
		return ""
	}
}

func (p *Plan) add(s Step) { p.Steps = append(p.Steps, s) }

// keep records that Detach leaves the device name, and why.
func (p *Plan) keep(name, why, note string) {
	p.done.Kept = append(p.done.Kept, Kept{Name: name, Why: why})
	p.Notes = append(p.Notes, note)
}

func (p *Plan) addRequests(reqs ...nl.Request) {
	for _, r := range reqs {
		p.Steps = append(p.Steps, Step{Cmd: r.Cmd, Request: &r})
	}
}

// attach carries the plan out on c: an unowned tap's owner and group
// first, then the mode's steps. Should those fail, the owner and group
// stay: the kernel cannot clear them, and they only narrow who may open
// the tap.
func (p *Plan) attach(c *nl.Conn) (*Attachment, error) {
	if p.tapIDs != nil {
		if err := setTapIDs(p.tap.Name, p.Options.NetNS, *p.tapIDs); err != nil {
			return nil, err
		}
	}
	return plannerOf(p.mode).attach(p, c)
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// deleteByName removes a device Attach created by name, as a rollback when
// the sendmsg that created it failed half way (made, but not marked).
func deleteByName(c *nl.Conn, name string) error {
	l, err := link.Lookup(c, name)
	if link.IsNotFound(err) {
		return nil
	}
	if err == nil && !l.Owned() {
		err = c.Exec(link.DeleteRequest(l.Index, l.Name))
	}
	if err != nil && !link.IsNotFound(err) {
		return fmt.Errorf("rollback: delete %s: %w", name, err)
	}
	return nil
}

// stepHook, set by tests, runs at the named points of Attach: "read" (the
// state is read), "create" (the tap exists), "setup" (it is set up),
// "persist" (it is persistent), "wire" (just before the tc batch).
var stepHook = func(string) {}

// detach carries the plan out on c.
func (p *Plan) detach(c *nl.Conn) error { return plannerOf(p.mode).detach(p, c) }
