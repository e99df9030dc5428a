package enum

import (
	"strings"
	"testing"
)

type color uint8

func (c color) String() string { return Name(colorNames, c, "color(%d)") }

var colorNames = map[color]string{1: "red", 2: "green"}

type signed int32

var signedNames = map[signed]string{-1: "none"}

func TestName(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{color(1).String(), "red"},
		{color(7).String(), "color(7)"},
		{Name(signedNames, -1, "signed %d"), "none"},
		{Name(signedNames, -2, "signed %d"), "signed -2"},
		{Name(map[uint16]string{}, 0x800, "0x%04x"), "0x0800"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	if v, err := Parse(colorNames, "green", "unknown color %q"); err != nil || v != 2 {
		t.Errorf("Parse(green) = %d, %v", v, err)
	}
	for _, s := range []string{"", "Red", "color(1)", "red "} {
		if v, err := Parse(colorNames, s, "unknown color %q"); err == nil || v != 0 || !strings.Contains(err.Error(), `"`+s+`"`) {
			t.Errorf("Parse(%q) = %d, %v; want an error naming it", s, v, err)
		}
	}
	if _, ok := Value(colorNames, "blue"); ok {
		t.Error("Value found blue")
	}
}
