package link

import (
	"fmt"

	"github.com/tcwire/tcwire/internal/uapi"
	"github.com/tcwire/tcwire/nl"
)

// ParseEvent decodes a link notification, as the kernel multicasts them to
// RTNLGRP_LINK (nl.DialEvents): an RTM_NEWLINK (a device appeared or
// changed) or an RTM_DELLINK (deleted reports it: the device is gone). An
// RTM_DELLINK of family AF_BRIDGE is a port leaving its bridge, not a
// device deleted: the caller tells them apart by l.Family.
func ParseEvent(m nl.Message) (l *Link, deleted bool, err error) {
	switch m.Header.Type {
	case uapi.RTM_NEWLINK:
	case uapi.RTM_DELLINK:
		deleted = true
	default:
		return nil, false, fmt.Errorf("link: message type %d is not RTM_NEWLINK or RTM_DELLINK", m.Header.Type)
	}
	l = new(Link)
	if err := l.UnmarshalBinary(m.Data); err != nil {
		return nil, false, err
	}
	return l, deleted, nil
}
