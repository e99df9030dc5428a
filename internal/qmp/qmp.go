// Package qmp is a minimal client of QEMU's machine protocol (QMP): enough
// to tell a running VM that its NIC's link went down or came back
// (set_link). QMP is JSON over a stream socket: the server greets with
// {"QMP": …}, the client leaves capabilities negotiation with
// qmp_capabilities, then each command gets a {"return": …} or an
// {"error": …}; asynchronous {"event": …} objects may come in between.
package qmp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// Error is a command the server refused.
type Error struct {
	Command string
	// Class and Desc are the server's: "GenericError", "Device 'x' not
	// found" …
	Class, Desc string
}

func (e *Error) Error() string {
	return fmt.Sprintf("qmp: %s: %s: %s", e.Command, e.Class, e.Desc)
}

// Client is a QMP connection in command mode. One command runs at a time.
type Client struct {
	conn net.Conn
	dec  *json.Decoder
}

// Dial connects to the QMP unix socket at path, reads the greeting and
// enters command mode. ctx bounds the whole exchange.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("qmp: %w", err)
	}
	return handshake(ctx, conn)
}

// handshake reads the greeting on conn and enters command mode; it closes
// conn on failure.
func handshake(ctx context.Context, conn net.Conn) (*Client, error) {
	c := &Client{conn: conn, dec: json.NewDecoder(conn)}
	err := c.bounded(ctx, func() error {
		var greeting struct {
			QMP *json.RawMessage `json:"QMP"`
		}
		if err := c.dec.Decode(&greeting); err != nil {
			return fmt.Errorf("qmp: reading the greeting: %w", err)
		}
		if greeting.QMP == nil {
			return errors.New("qmp: the server's first message is not a QMP greeting")
		}
		return c.execute("qmp_capabilities", nil)
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Execute runs a command with arguments (nil for none) and waits for its
// answer; a refusal is an *Error.
func (c *Client) Execute(ctx context.Context, command string, args any) error {
	return c.bounded(ctx, func() error { return c.execute(command, args) })
}

// SetLink sets the link of a VM's NIC up or down as the guest sees it
// (set_link): name is the netdev's id or the NIC device's.
func (c *Client) SetLink(ctx context.Context, name string, up bool) error {
	return c.Execute(ctx, "set_link", map[string]any{"name": name, "up": up})
}

// bounded runs fn with the connection's deadline set from ctx, and
// interrupted when ctx ends.
func (c *Client) bounded(ctx context.Context, fn func() error) error {
	dl, _ := ctx.Deadline()
	if err := c.conn.SetDeadline(dl); err != nil {
		return fmt.Errorf("qmp: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	err := fn()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (c *Client) execute(command string, args any) error {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("qmp: %s: %w", command, err)
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("qmp: %s: %w", command, err)
	}
	for {
		var reply struct {
			Return *json.RawMessage `json:"return"`
			Error  *struct {
				Class string `json:"class"`
				Desc  string `json:"desc"`
			} `json:"error"`
			Event string `json:"event"`
		}
		if err := c.dec.Decode(&reply); err != nil {
			return fmt.Errorf("qmp: %s: reading the answer: %w", command, err)
		}
		switch {
		case reply.Error != nil:
			return &Error{Command: command, Class: reply.Error.Class, Desc: reply.Error.Desc}
		case reply.Return != nil:
			return nil
		}
		// An event (or anything else that answers no command): not ours.
	}
}
