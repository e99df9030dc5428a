// Package qmptest is a stand-in for QEMU's QMP server in tests: it greets,
// negotiates capabilities, records every set_link, answers set_link of an
// unknown name with QEMU's error, and sends an event before each answer,
// as a busy VM's monitor does.
package qmptest

import (
	"bufio"
	"encoding/json"
	"net"
	"path/filepath"
	"sync"
	"testing"
)

// SetLink is one set_link the server received.
type SetLink struct {
	Name string
	Up   bool
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	// Path is the unix socket to give the client.
	Path string
	// Netdevs are the names set_link accepts.
	netdevs map[string]bool

	mu    sync.Mutex
	links []SetLink
	ch    chan SetLink
}

// New starts a server on a socket in a temporary directory of t, accepting
// set_link for the given names; it stops when t ends.
func New(t testing.TB, netdevs ...string) *Server {
	t.Helper()
	s := &Server{Path: filepath.Join(t.TempDir(), "qmp.sock"), netdevs: map[string]bool{}, ch: make(chan SetLink, 1024)}
	for _, n := range netdevs {
		s.netdevs[n] = true
	}
	l, err := net.Listen("unix", s.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

// SetLinks returns every set_link received, in order.
func (s *Server) SetLinks() []SetLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SetLink(nil), s.links...)
}

// Next is a channel of the set_links as they arrive.
func (s *Server) Next() <-chan SetLink { return s.ch }

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	w := bufio.NewWriter(c)
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		w.Write(append(b, '\r', '\n'))
		return w.Flush() == nil
	}
	if !send(map[string]any{"QMP": map[string]any{"version": map[string]any{}, "capabilities": []string{"oob"}}}) {
		return
	}
	dec := json.NewDecoder(c)
	negotiated := false
	for {
		var req struct {
			Execute   string          `json:"execute"`
			Arguments json.RawMessage `json:"arguments"`
		}
		if dec.Decode(&req) != nil {
			return
		}
		send(map[string]any{"event": "NIC_RX_FILTER_CHANGED", "data": map[string]any{}})
		fail := func(class, desc string) bool {
			return send(map[string]any{"error": map[string]any{"class": class, "desc": desc}})
		}
		switch {
		case req.Execute == "qmp_capabilities":
			negotiated = true
			send(map[string]any{"return": map[string]any{}})
		case !negotiated:
			fail("CommandNotFound", "Expecting capabilities negotiation with 'qmp_capabilities'")
		case req.Execute == "set_link":
			var a SetLink
			json.Unmarshal(req.Arguments, &a)
			if !s.netdevs[a.Name] {
				fail("DeviceNotFound", "Device '"+a.Name+"' not found")
				continue
			}
			s.mu.Lock()
			s.links = append(s.links, a)
			s.mu.Unlock()
			select {
			case s.ch <- a:
			default:
			}
			send(map[string]any{"return": map[string]any{}})
		default:
			fail("CommandNotFound", "The command "+req.Execute+" has not been found")
		}
	}
}
