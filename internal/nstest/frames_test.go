package nstest

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ipv6Frame is an Ethernet frame with an IPv6 header whose next header is
// next, then payload.
func ipv6Frame(next byte, payload ...byte) []byte {
	f := []byte{0x33, 0x33, 0, 0, 0, 0x16, 0x02, 0, 0, 0, 0, 1, 0x86, 0xdd}
	ip := make([]byte, 40)
	ip[0], ip[6] = 0x60, next
	return append(append(f, ip...), payload...)
}

func TestFrameSummary(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{[]byte{1, 2, 3}, "runt frame of 3 bytes"},
		{ipv6Frame(unix.IPPROTO_ICMPV6, 133, 0), "02:00:00:00:00:01 > 33:33:00:00:00:16 type 0x86dd len 56 icmpv6 type 133"},
		// MLDv2 report after a hop-by-hop header of 8 bytes.
		{ipv6Frame(0, unix.IPPROTO_ICMPV6, 0, 5, 2, 0, 0, 1, 0, 143, 0), "02:00:00:00:00:01 > 33:33:00:00:00:16 type 0x86dd len 64 icmpv6 type 143"},
		{ipv6Frame(0, unix.IPPROTO_ICMPV6, 9), "02:00:00:00:00:01 > 33:33:00:00:00:16 type 0x86dd len 56"}, // hop-by-hop cut short
		{append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0xbb, 0x88, 0xb5}, make([]byte, 46)...), "02:00:00:00:00:bb > ff:ff:ff:ff:ff:ff type 0x88b5 len 60"},
	} {
		if got := FrameSummary(c.b); got != c.want {
			t.Errorf("FrameSummary(% x)\n= %q\nwant %q", c.b, got, c.want)
		}
	}
}

func FuzzFrameSummary(f *testing.F) {
	f.Add(ipv6Frame(0, unix.IPPROTO_ICMPV6, 0, 5, 2, 0, 0, 1, 0, 143, 0))
	f.Add(ipv6Frame(0, 0, 255))
	f.Fuzz(func(t *testing.T, b []byte) {
		if FrameSummary(b) == "" {
			t.Fatal("empty summary")
		}
	})
}

func TestReadFrames(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	for _, m := range []string{"one", "two", "three"} {
		if _, err := unix.Write(fds[1], []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadFramesUntil(fds[0], func(b []byte) bool { return string(b) == "two" }, time.Second)
	if err != nil || len(got) != 2 || string(got[1]) != "two" {
		t.Errorf("ReadFramesUntil = %q, %v; want one, two", got, err)
	}
	if got, err := ReadFrames(fds[0], 50*time.Millisecond); err != nil || len(got) != 1 || string(got[0]) != "three" {
		t.Errorf("ReadFrames = %q, %v; want three", got, err)
	}
	if _, err := ReadFramesUntil(fds[0], func([]byte) bool { return true }, 10*time.Millisecond); err == nil {
		t.Error("ReadFramesUntil with nothing to read succeeded")
	}
}
