package tc

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/tcwire/tcwire/internal/uapi"

	"github.com/tcwire/tcwire/nl"
)

// Qdisc is a queueing discipline on a device: a tcmsg plus TCA_KIND.
type Qdisc struct {
	Dev     string // device name, for command lines only
	Ifindex int32
	Handle  Handle
	Parent  Handle
	Kind    string
}

// AddQdiscRequest is `tc qdisc add dev DEV …`: RTM_NEWQDISC with
// NLM_F_EXCL|NLM_F_CREATE. Qdiscs without parameters (ingress, clsact,
// noqueue) carry no TCA_OPTIONS.
func AddQdiscRequest(q Qdisc) nl.Request {
	return q.request(uapi.RTM_NEWQDISC, nl.FlagsCreate, "add")
}

// DelQdiscRequest is `tc qdisc del dev DEV …`: the same tcmsg and kind as
// the add, as RTM_DELQDISC.
func DelQdiscRequest(q Qdisc) nl.Request {
	return q.request(uapi.RTM_DELQDISC, nl.FlagsAck, "del")
}

func (q Qdisc) request(typ nl.HeaderType, flags nl.HeaderFlags, verb string) nl.Request {
	m := Tcmsg{Ifindex: q.Ifindex, Handle: uint32(q.Handle), Parent: uint32(q.Parent)}
	return newRequest(typ, flags, m, func(e *nl.Encoder) {
		e.String(uapi.TCA_KIND, q.Kind)
	}, "tc qdisc "+verb+" dev "+devName(q.Dev, q.Ifindex)+" "+q.spec())
}

// spec is the qdisc's part of a tc command line.
func (q Qdisc) spec() string {
	switch {
	case q.Kind == KindIngress && q.Parent == TC_H_INGRESS && q.Handle == IngressHandle,
		q.Kind == KindClsact && q.Parent == TC_H_CLSACT && q.Handle == ClsactHandle:
		return q.Kind
	case q.Parent == TC_H_ROOT && q.Handle == 0:
		return "root " + q.Kind
	case q.Handle == 0:
		return fmt.Sprintf("parent %s %s", q.Parent, q.Kind)
	case q.Parent == TC_H_ROOT:
		return fmt.Sprintf("root handle %s %s", q.Handle, q.Kind)
	}
	return fmt.Sprintf("parent %s handle %s %s", q.Parent, q.Handle, q.Kind)
}

// ListQdiscsRequest is `tc qdisc show [dev DEV]`: an RTM_GETQDISC dump. An
// ifindex of 0 lists every device's qdiscs.
func ListQdiscsRequest(ifindex int32, dev string) nl.Request {
	cmd := "tc qdisc show"
	if ifindex != 0 {
		cmd += " dev " + devName(dev, ifindex)
	}
	return newRequest(uapi.RTM_GETQDISC, nl.FlagsDump, Tcmsg{Ifindex: ifindex}, nil, cmd)
}

// ProbeIngressRequest asks which qdisc holds a device's ingress hook,
// without a dump: RTM_GETQDISC for parent ffff:fff1 (TC_H_INGRESS), handle
// 0, flags nl.FlagsEcho (0x000d). The kernel answers with one RTM_NEWQDISC
// for the device's ingress or clsact qdisc, then the ack; ENOENT when it
// never had either, and a bare ack when it had one that was deleted (the
// hook then holds the builtin noop qdisc, which the kernel does not
// report). See testdata/tc/README.md. Being no dump, the probes of many
// devices go in one sendmsg (nl.Conn.Query).
func ProbeIngressRequest(ifindex int32, dev string) nl.Request {
	return newRequest(uapi.RTM_GETQDISC, nl.FlagsEcho, Tcmsg{Ifindex: ifindex, Parent: TC_H_INGRESS}, nil,
		"tc qdisc show dev "+devName(dev, ifindex)+" ingress")
}

// ProbeKind decodes the answer to ProbeIngressRequest for device ifindex:
// the qdisc on the hook (KindIngress or KindClsact), or "" when there is
// none (ENOENT, or an ack alone). err is the request's error from
// nl.Conn.Query.
func ProbeKind(ifindex int32, replies []nl.Message, err error) (string, error) {
	if errors.Is(err, syscall.ENOENT) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	kind := ""
	for _, m := range replies {
		if m.Header.Type != uapi.RTM_NEWQDISC {
			continue
		}
		var q Qdisc
		if err := q.UnmarshalBinary(m.Data); err != nil {
			return "", err
		}
		if q.Ifindex != ifindex || q.Parent != TC_H_INGRESS || kind != "" {
			return "", fmt.Errorf("tc: probe of ifindex %d answered with the %q qdisc of ifindex %d, parent %s", ifindex, q.Kind, q.Ifindex, q.Parent)
		}
		kind = q.Kind
	}
	return kind, nil
}

// UnmarshalBinary decodes an RTM_NEWQDISC message body (tcmsg and
// attributes). Attributes other than TCA_KIND are ignored.
func (q *Qdisc) UnmarshalBinary(b []byte) error {
	var m Tcmsg
	if err := m.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("tc: qdisc: %w", err)
	}
	attrs, err := nl.ParseAttrs(b[TcmsgLen:])
	if err != nil {
		return fmt.Errorf("tc: qdisc: %w", err)
	}
	*q = Qdisc{Ifindex: m.Ifindex, Handle: Handle(m.Handle), Parent: Handle(m.Parent)}
	for _, a := range attrs {
		if a.Type == uapi.TCA_KIND {
			q.Kind = a.String()
		}
	}
	return nil
}

// Qdiscs lists the qdiscs of one device (ifindex 0: all devices).
func Qdiscs(c *nl.Conn, ifindex int32) ([]Qdisc, error) {
	msgs, err := c.Dump(ListQdiscsRequest(ifindex, ""))
	if err != nil {
		return nil, err
	}
	var out []Qdisc
	for _, m := range msgs {
		if m.Header.Type != uapi.RTM_NEWQDISC {
			continue
		}
		var q Qdisc
		if err := q.UnmarshalBinary(m.Data); err != nil {
			return nil, err
		}
		// Older kernels ignore the ifindex of a dump request.
		if ifindex == 0 || q.Ifindex == ifindex {
			out = append(out, q)
		}
	}
	return out, nil
}
