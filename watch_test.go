package tcwire

import (
	"errors"
	"testing"
)

func TestDecide(t *testing.T) {
	dev := endSeen{index: 2, up: true, carrier: true}
	devDown := endSeen{index: 2}
	tap := endSeen{index: 3, up: true}
	tapVM := endSeen{index: 3, up: true, carrier: true}
	for _, tt := range []struct {
		name        string
		p           pairState
		carry, tell bool
		want        verdict
	}{
		{"neither", pairState{}, false, false, verdict{}},
		{"no tap yet", pairState{dev: dev}, false, false, verdict{}},
		{"both: wire", pairState{dev: dev, tap: tap}, false, false, verdict{attach: true}},
		{"wired", pairState{dev: dev, tap: tap, wired: [2]int32{2, 3}}, false, false, verdict{}},
		{"tap recreated", pairState{dev: dev, tap: endSeen{index: 9}, wired: [2]int32{2, 3}}, false, false, verdict{attach: true}},
		{"failed, same devices", pairState{dev: dev, tap: tap, failed: [2]int32{2, 3}}, false, false, verdict{}},
		{"tap gone", pairState{dev: dev, wired: [2]int32{2, 3}}, false, false, verdict{unwired: true}},
		{"dev gone", pairState{tap: tap, wired: [2]int32{2, 3}}, false, false, verdict{unwired: true}},
		{"carry: no VMM, dev down", pairState{dev: dev, tap: tap, wired: [2]int32{2, 3}}, true, true, verdict{setDev: 1}},
		{"carry: no tap, dev down", pairState{dev: dev}, true, true, verdict{setDev: 1}},
		{"carry: VMM, dev up", pairState{dev: devDown, tap: tapVM, wired: [2]int32{2, 3}}, true, true, verdict{setDev: 2}},
		{"carry: settled, tell up", pairState{dev: dev, tap: tapVM, wired: [2]int32{2, 3}}, true, true, verdict{tellVM: 2}},
		{"carry: told already", pairState{dev: dev, tap: tapVM, wired: [2]int32{2, 3}, told: 2}, true, true, verdict{}},
		{"carry: far end down", pairState{dev: endSeen{index: 2, up: true}, tap: tapVM, wired: [2]int32{2, 3}, told: 2}, true, true, verdict{tellVM: 1}},
		{"carry: dev gone, VM told", pairState{tap: tapVM, wired: [2]int32{2, 3}, told: 2}, true, true, verdict{unwired: true, tellVM: 1}},
		{"carry without tell", pairState{dev: dev, tap: tapVM, wired: [2]int32{2, 3}}, true, false, verdict{}},
		{"no VMM: nothing told", pairState{dev: devDown, tap: tap, wired: [2]int32{2, 3}}, true, true, verdict{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.p, tt.carry, tt.tell); got != tt.want {
				t.Errorf("decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCheckWatch(t *testing.T) {
	ok := Options{Dev: "eth0", Tap: "tap0"}
	for _, tt := range []struct {
		name  string
		pairs []Options
		wo    WatchOptions
	}{
		{"none", nil, WatchOptions{}},
		{"bad name", []Options{{Dev: "eth0", Tap: ""}}, WatchOptions{}},
		{"two namespaces", []Options{ok, {NetNS: "other", Dev: "eth1", Tap: "tap1"}}, WatchOptions{}},
		{"device twice", []Options{ok, {Dev: "eth1", Tap: "tap0"}}, WatchOptions{}},
		{"macvtap", []Options{{Dev: "eth0", Tap: "mvt0", Mode: ModeMacvtap}}, WatchOptions{}},
		{"link states", []Options{ok}, WatchOptions{LinkState: make([]LinkState, 2)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkWatch(tt.pairs, tt.wo); !errors.Is(err, ErrInvalid) {
				t.Errorf("checkWatch = %v, want ErrInvalid", err)
			}
		})
	}
	if err := checkWatch([]Options{ok, {Dev: "eth1", Tap: "tap1"}}, WatchOptions{}); err != nil {
		t.Errorf("checkWatch of two pairs: %v", err)
	}
}
