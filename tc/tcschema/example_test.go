package tcschema_test

import (
	"fmt"

	"github.com/tcwire/tcwire/nl/annotate"
	"github.com/tcwire/tcwire/tc"
	"github.com/tcwire/tcwire/tc/tcschema"
)

// Schema explains a request field by field: here `tc qdisc add dev eth0
// ingress` (the bytes shown are a little-endian host's).
func ExampleSchema() {
	b, err := tc.AddQdiscRequest(tc.Ingress(3, "eth0")).MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Print(annotate.Dump(b, tcschema.Schema))
	// Output:
	// 0000  30 00 00 00                                      nlmsg_len  48
	// 0004  24 00                                            nlmsg_type  RTM_NEWQDISC (36)
	// 0006  05 06                                            nlmsg_flags  REQUEST|ACK|EXCL|CREATE (0x0605)
	// 0008  00 00 00 00                                      nlmsg_seq  0
	// 000c  00 00 00 00                                      nlmsg_pid  0
	// 0010  00                                               tcm_family  0
	// 0011  00                                               tcm__pad1
	// 0012  00 00                                            tcm__pad2
	// 0014  03 00 00 00                                      tcm_ifindex  3
	// 0018  00 00 ff ff                                      tcm_handle  ffff:
	// 001c  f1 ff ff ff                                      tcm_parent  ffff:fff1
	// 0020  00 00 00 00                                      tcm_info  0
	// 0024  0c 00 01 00                                      TCA_KIND  nla_len 12, nla_type 1
	// 0028  69 6e 67 72 65 73 73 00                              "ingress"
}
