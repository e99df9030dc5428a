package annotate_test

import (
	"fmt"

	"github.com/tcwire/tcwire/nl/annotate"

	"github.com/tcwire/tcwire/nl"
	"golang.org/x/sys/unix"
)

// Build `tc qdisc add dev eth0 ingress` by hand (eth0 at ifindex 2) and
// explain its bytes with a two-line schema.
func ExampleDump() {
	schema := annotate.Schema{
		unix.RTM_NEWQDISC: {
			Name: "RTM_NEWQDISC",
			Header: &annotate.Struct{Name: "tcmsg", Fields: []annotate.Field{
				{Name: "tcm_family", Size: 1},
				{Name: "tcm__pad", Size: 3},
				{Name: "tcm_ifindex", Size: 4, Format: annotate.FmtInt},
				{Name: "tcm_handle", Size: 4, Format: annotate.FmtHex},
				{Name: "tcm_parent", Size: 4, Format: annotate.FmtHex},
				{Name: "tcm_info", Size: 4},
			}},
			Attrs: &annotate.Nest{Attrs: map[uint16]*annotate.AttrSpec{
				unix.TCA_KIND: {Name: "TCA_KIND", Format: annotate.FmtString},
			}},
		},
	}

	// struct tcmsg: family 0, ifindex 2, handle ffff:0, parent ffff:fff1, info 0.
	tcmsg := []byte{0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xff, 0xff, 0xf1, 0xff, 0xff, 0xff, 0, 0, 0, 0}
	e := nl.NewEncoder(tcmsg)
	e.String(unix.TCA_KIND, "ingress")
	req := nl.Request{
		Type:  unix.RTM_NEWQDISC,
		Flags: nl.FlagsCreate,
		Data:  e.Bytes(),
		Cmd:   "tc qdisc add dev eth0 ingress",
	}
	b, err := req.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Print(annotate.Dump(b, schema))
	// Output:
	// 0000  30 00 00 00                                      nlmsg_len  48
	// 0004  24 00                                            nlmsg_type  RTM_NEWQDISC (36)
	// 0006  05 06                                            nlmsg_flags  REQUEST|ACK|EXCL|CREATE (0x0605)
	// 0008  00 00 00 00                                      nlmsg_seq  0
	// 000c  00 00 00 00                                      nlmsg_pid  0
	// 0010  00                                               tcm_family  0
	// 0011  00 00 00                                         tcm__pad
	// 0014  02 00 00 00                                      tcm_ifindex  2
	// 0018  00 00 ff ff                                      tcm_handle  0xffff0000
	// 001c  f1 ff ff ff                                      tcm_parent  0xfffffff1
	// 0020  00 00 00 00                                      tcm_info  0
	// 0024  0c 00 01 00                                      TCA_KIND  nla_len 12, nla_type 1
	// 0028  69 6e 67 72 65 73 73 00                              "ingress"
}
