// Package bench holds the report of cmd/tcwire-bench: its JSON schema (see
// bench/README.md) and the ways it is rendered — a plain-text table, a
// Markdown page (bench/RESULTS.md) and a hand-written SVG bar chart.
//
// The measuring lives in cmd/tcwire-bench; this package only describes and
// draws what was measured, so it is tested without privileges.
package bench

// SchemaVersion names the JSON layout described in bench/README.md.
const SchemaVersion = "tcwire-bench/2"

// Report is everything one run of tcwire-bench measured.
type Report struct {
	Schema       string      `json:"schema"`
	Host         Host        `json:"host"`
	Method       Method      `json:"method"`
	Datapaths    []Datapath  `json:"datapaths"`
	ControlPlane []Control   `json:"control_plane"`
	Scale        []Scale     `json:"scale"`
	Bulk         []Bulk      `json:"bulk"`
	Batch        []Batch     `json:"batch,omitempty"`
	CNI          []CNI       `json:"cni,omitempty"`
	Watch        []Watch     `json:"watch,omitempty"`
	Trafgen      *Trafgen    `json:"trafgen,omitempty"`
	Errors       []string    `json:"errors,omitempty"`
	Ceilings     []string    `json:"ceilings,omitempty"`
	Floors       FloorsNames `json:"floors"`
}

// FloorsNames says which contenders the ratios are taken against.
type FloorsNames struct {
	Datapath     string `json:"datapath"`
	ControlPlane string `json:"control_plane"`
	// Batch is the batch section's floor; BatchTcwire, BatchIPTC and
	// BatchPerPair name the rows its goals compare.
	Batch        string `json:"batch,omitempty"`
	BatchTcwire  string `json:"batch_tcwire,omitempty"`
	BatchIPTC    string `json:"batch_ip_tc,omitempty"`
	BatchPerPair string `json:"batch_per_pair,omitempty"`
	Watch        string `json:"watch,omitempty"`
}

// Host describes the machine the figures come from.
type Host struct {
	Kernel    string `json:"kernel"`
	CPUModel  string `json:"cpu_model"`
	Cores     int    `json:"cores"`
	GoVersion string `json:"go_version"`
	TC        string `json:"tc_version,omitempty"`
	Date      string `json:"date"`
	// SenderCPU and ReaderCPU are the CPUs the sending and receiving
	// threads were pinned to; -1 when not pinned (a single CPU).
	SenderCPU int `json:"sender_cpu"`
	ReaderCPU int `json:"reader_cpu"`
	// LoadAvg and LoadAvgEnd are /proc/loadavg's 1, 5 and 15 minute load
	// averages at the start and the end of the run.
	LoadAvg    string `json:"loadavg_start"`
	LoadAvgEnd string `json:"loadavg_end"`
}

// Method records how the run was made.
type Method struct {
	Quick       bool    `json:"quick"`
	TrialMs     float64 `json:"trial_ms"`
	Rounds      int     `json:"rounds"`
	CPURatePPS  float64 `json:"cpu_rate_pps"`
	Ethertype   string  `json:"ethertype"`
	SmallFrame  int     `json:"small_frame_bytes"`
	LargeFrame  int     `json:"large_frame_bytes"`
	AttachPairs int     `json:"attach_pairs_per_round"`
	// L2WindowS: the L2 test counts the frames the host's stack sent
	// toward the VM during the first L2WindowS seconds of the wiring.
	L2WindowS float64 `json:"l2_window_s"`
	// SlowReaderPPS is the VM side's reading rate in the slow-reader
	// trial.
	SlowReaderPPS float64 `json:"slow_reader_pps"`
	// Bulk: iperf3 trials of BulkSecs seconds, BulkRounds rounds; the
	// guest's MTU (and so its TCP MSS) is GuestMTU.
	BulkSecs   int      `json:"bulk_trial_s"`
	BulkRounds int      `json:"bulk_rounds"`
	GuestMTU   int      `json:"guest_mtu"`
	Notes      []string `json:"notes,omitempty"`
}

// Datapath is one way of joining the container's veth to the VM's tap.
//
// The flat fields are the headline figures (64-byte frames, medians over
// the rounds); Flows has every direction and frame size with min–max,
// drops and the ratio to the floor. A figure that does not apply (the
// ceilings have one direction, no RTT and no L2 test) is null.
type Datapath struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// VMSide is what the VMM holds: "tap" (a tap opened by name),
	// "macvtap" (a /dev/tapN file) or "packet" (the floor's AF_PACKET
	// socket). SharedSegment: more VMs can join the same segment (bridge
	// ports, macvtaps in bridge mode on one device).
	VMSide           string   `json:"vm_side"`
	SharedSegment    bool     `json:"shared_segment"`
	TapToVethPPS     *float64 `json:"tap_to_veth_pps"`
	VethToTapPPS     *float64 `json:"veth_to_tap_pps"`
	TapToVethPPS1500 *float64 `json:"tap_to_veth_pps_1500"`
	VethToTapPPS1500 *float64 `json:"veth_to_tap_pps_1500"`
	RTTP50us         *float64 `json:"rtt_p50_us"`
	RTTP99us         *float64 `json:"rtt_p99_us"`
	RTTP999us        *float64 `json:"rtt_p999_us"`
	RTT              *RTT     `json:"rtt,omitempty"`
	CPUNsPerPkt      *float64 `json:"cpu_ns_per_pkt"`
	CPU              []CPU    `json:"cpu,omitempty"`
	L2               *L2      `json:"l2"`
	Flows            []Flow   `json:"flows"`
	// SlowReader: the far side floods toward a VM side that reads
	// slowly; absent for the ceilings.
	SlowReader *SlowReader `json:"slow_reader,omitempty"`
}

// SlowReader is the far side flooding toward a VM side that reads at
// Method.SlowReaderPPS: where the frames go that it cannot take (sender
// refusals, device drops), from two kinds of sender.
type SlowReader struct {
	// Socket: the far side's AF_PACKET socket, whose send buffer the
	// frames are charged to (a local sender: a container's socket).
	Socket SlowTrial `json:"socket_sender"`
	// Forwarded: frames written into a tap on the far side and
	// redirected to the veth's peer (tc mirred): like frames forwarded
	// from a NIC, no send buffer holds them back (the tap's is
	// unlimited). Absent when the trial could not be set up.
	Forwarded *SlowTrial `json:"forwarded_sender,omitempty"`
}

// SlowTrial is one slow-reader trial.
type SlowTrial struct {
	DeliveredPPS float64 `json:"delivered_pps"`
	SentPPS      float64 `json:"sent_pps"`
	EAGAINps     float64 `json:"sender_eagain_per_s"`
	ENOBUFSps    float64 `json:"sender_enobufs_per_s"`
	DevDropsps   float64 `json:"device_drops_per_s"`
}

// Flow is the throughput of one direction at one frame size.
type Flow struct {
	Direction string `json:"direction"` // "tap_to_veth" (VM → far side) or "veth_to_tap"
	Frame     int    `json:"frame_bytes"`
	// PPS: frames delivered to the receiving process per second (median,
	// min, max over the rounds).
	PPS    float64 `json:"pps"`
	PPSMin float64 `json:"pps_min"`
	PPSMax float64 `json:"pps_max"`
	// Ratio is the median over rounds of PPS divided by the floor's PPS
	// for the same direction and frame size in the same round.
	Ratio *float64 `json:"ratio_to_floor"`
	// Per-trial averages of what did not arrive, per second of trial.
	SentPPS     float64 `json:"sent_pps"`
	EAGAINps    float64 `json:"sender_eagain_per_s"`
	ENOBUFSps   float64 `json:"sender_enobufs_per_s"`
	OtherErrps  float64 `json:"sender_other_errors_per_s"`
	SockDropsps float64 `json:"receiver_socket_drops_per_s"`
	DevDropsps  float64 `json:"device_drops_per_s"`
	Softnetps   float64 `json:"softnet_drops_per_s"`
	Lostps      float64 `json:"lost_per_s"`
	Rounds      int     `json:"rounds"`
}

// RTT is the round-trip time through the datapath to a reflector on the
// far side and back, one frame in flight.
type RTT struct {
	Count  int     `json:"count"`
	Lost   int     `json:"lost"`
	MinUs  float64 `json:"min_us"`
	P50us  float64 `json:"p50_us"`
	P99us  float64 `json:"p99_us"`
	P999us float64 `json:"p999_us"`
	MaxUs  float64 `json:"max_us"`
}

// CPU is the CPU time per delivered frame at a fixed offered rate.
type CPU struct {
	Direction string  `json:"direction"`
	RatePPS   float64 `json:"rate_pps"`
	// NsPerPkt is the CPU time of the harness's process (getrusage; its
	// threads run most of the softirq work, which tick-based accounting
	// charges to them) plus the ksoftirqd threads' (schedstat), per
	// delivered frame. SystemNsPerPkt counts every CPU's busy time
	// (/proc/stat), other processes on the host included.
	NsPerPkt       float64 `json:"ns_per_pkt"`
	NsPerPktMin    float64 `json:"ns_per_pkt_min"`
	NsPerPktMax    float64 `json:"ns_per_pkt_max"`
	SystemNsPerPkt float64 `json:"system_ns_per_pkt"`
	Delivered      float64 `json:"delivered_fraction"`
}

// L2 tells which frames toward the VM arrived byte for byte. null: not
// tested (the ceilings).
type L2 struct {
	STP          *bool `json:"stp"`           // 01:80:c2:00:00:00, 802.3 + LLC BPDU
	Pause        *bool `json:"pause"`         // 01:80:c2:00:00:01, 0x8808
	LACP         *bool `json:"lacp"`          // 01:80:c2:00:00:02, 0x8809
	Dot1X        *bool `json:"dot1x"`         // 01:80:c2:00:00:03, 0x888e
	LLDP         *bool `json:"lldp"`          // 01:80:c2:00:00:0e, 0x88cc
	Broadcast    *bool `json:"broadcast"`     // ff:ff:ff:ff:ff:ff
	OtherUnicast *bool `json:"other_unicast"` // unicast to a MAC other than the VM's
	VLAN         *bool `json:"vlan"`          // 802.1Q tag, VID 100
	Jumbo        *bool `json:"jumbo"`         // 9014-byte frame, MTU 9000
	// HostInjected counts the frames the VM side read during the L2 test
	// (the first Method.L2WindowS seconds of the wiring) that the harness
	// did not send: the host's own stack talking to the VM (IPv6 router
	// solicitations, MLD reports, DAD from a link-local address …).
	HostInjected *int `json:"host_injected_frames"`
}

// Control is one way of making a bidirectional attach on existing devices:
// an ingress qdisc on each side and a u32 catch-all with mirred egress
// redirect toward the other.
type Control struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	UsPerAttach float64 `json:"us_per_attach"`
	UsMin       float64 `json:"us_min"`
	UsMax       float64 `json:"us_max"`
	// AllocsPerAttach is Go heap allocations per attach in the process
	// that attaches; null for the command-line tools.
	AllocsPerAttach *float64 `json:"allocs_per_attach"`
	BytesPerAttach  *float64 `json:"bytes_per_attach,omitempty"`
	// RoundTrips is sendmsg calls per attach on netlink sockets: counted
	// in process (nl.Conn.Sendmsgs), under strace for the command-line
	// tools, by construction for the floor and vishvananda.
	RoundTrips *float64 `json:"round_trips_per_attach,omitempty"`
	Ratio      float64  `json:"ratio_to_floor"`
	Attaches   int      `json:"attaches"`
}

// CNI is one tap plugin chained after ptp (and host-local), run by
// cnitool in a namespace playing the host: the wall time of `cnitool add`
// and `cnitool del` for a fresh container namespace.
type CNI struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	AddMs       float64 `json:"add_ms"`
	AddMin      float64 `json:"add_min_ms"`
	AddMax      float64 `json:"add_max_ms"`
	DelMs       float64 `json:"del_ms"`
	DelMin      float64 `json:"del_min_ms"`
	DelMax      float64 `json:"del_max_ms"`
	Trials      int     `json:"trials"`
	// Skipped says why the contender was not run; the figures are then 0.
	Skipped string `json:"skipped,omitempty"`
}

// Scale is tcwire with many pairs wired in one namespace.
type Scale struct {
	Pairs int `json:"pairs"`
	// UsPerAttach is tc.Wire's time to attach the last pair while the
	// others are wired (median of TimedAttaches attach–detach cycles);
	// FloorUsPerAttach is the raw-netlink floor's while wiring the others.
	UsPerAttach   float64 `json:"us_per_attach"`
	TimedAttaches int     `json:"timed_attaches"`
	// UsPerAttachDetach is one tc.Wire and one tc.Unwire of the last
	// pair (median of the same cycles).
	UsPerAttachDetach float64 `json:"us_per_attach_detach,omitempty"`
	// FloorLastUs is the floor's attach of the same last pair, timed in
	// the same cycles (interleaved with tc.Wire's): what the kernel's own
	// work costs at this size.
	FloorLastUs      float64 `json:"floor_last_us,omitempty"`
	FloorUsPerAttach float64 `json:"floor_us_per_attach"`
	// ShowMs is the wall time of `tcwire show` (one process) listing every
	// redirect; null when it did not finish within ShowLimitS.
	ShowMs     *float64 `json:"show_ms"`
	ShowLimitS float64  `json:"show_limit_s"`
	ShowRows   int      `json:"show_rows"`
	ShowMaxRSS int64    `json:"show_max_rss_kb"`
	// ShowOneMs is `tcwire show DEV` for one device.
	ShowOneMs float64 `json:"show_one_ms"`
	// KernelBytesPerPair is the growth of the kernel's unreclaimable slab
	// while attaching, per pair (qdiscs, filters, actions); null below 100
	// pairs, where other kernel activity outweighs it.
	KernelBytesPerPair *float64 `json:"kernel_bytes_per_pair"`
	SetupS             float64  `json:"setup_s"`
}

// Trafgen compares the harness's AF_PACKET sender with netsniff-ng's
// trafgen on the plain veth pair.
type Trafgen struct {
	Version     string  `json:"version"`
	Frames      int     `json:"frames"`
	TrafgenPPS  float64 `json:"trafgen_pps"`
	HarnessPPS  float64 `json:"harness_pps"`
	TrafgenRecv float64 `json:"trafgen_delivered_pps"`
	HarnessRecv float64 `json:"harness_delivered_pps"`
	Note        string  `json:"note,omitempty"`
}

// find returns the first element of s that match accepts, or nil.
func find[T any](s []T, match func(*T) bool) *T {
	for i := range s {
		if match(&s[i]) {
			return &s[i]
		}
	}
	return nil
}

// DatapathByName returns the datapath called name, or nil.
func (r *Report) DatapathByName(name string) *Datapath {
	return find(r.Datapaths, func(d *Datapath) bool { return d.Name == name })
}

// Flow returns the flow of d for a direction and frame size, or nil.
func (d *Datapath) Flow(dir string, frame int) *Flow {
	return find(d.Flows, func(f *Flow) bool { return f.Direction == dir && f.Frame == frame })
}

// Directions of a bulk flow.
const (
	GuestToHost = "guest_to_host" // the guest's iperf3 client sends
	HostToGuest = "host_to_guest" // reverse mode (-R): the host sends
)

// Bulk is bulk TCP throughput through one wiring: iperf3 between a guest
// namespace, whose tap a relay joins to the wiring's VM side with the
// virtio-net header (as a VMM's backend does), and the veth's peer.
//
// The flat fields are the headlines (medians over the rounds; null when no
// trial succeeded); Flows has min–max and the rest per direction.
type Bulk struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Offloads: checksum and TSO offloads on the guest's tap and the VM
	// side (TUNSETOFFLOAD), so GSO frames up to 64 KB cross whole.
	Offloads bool `json:"offloads"`
	// Ceiling: no wiring, the relay between two taps.
	Ceiling         bool     `json:"ceiling,omitempty"`
	GuestToHostGbps *float64 `json:"guest_to_host_gbps"`
	HostToGuestGbps *float64 `json:"host_to_guest_gbps"`
	// CPUPerGbit is every CPU's busy time (/proc/stat) per gigabit
	// delivered, in milliseconds: the mean of the two directions.
	CPUPerGbit *float64   `json:"cpu_per_gbit"`
	Flows      []BulkFlow `json:"flows"`
}

// BulkFlow is one direction of a bulk entry.
type BulkFlow struct {
	Direction string `json:"direction"`
	// Gbps is the receiver's goodput as iperf3 reports it (median, min,
	// max over the rounds).
	Gbps    float64 `json:"gbps"`
	GbpsMin float64 `json:"gbps_min"`
	GbpsMax float64 `json:"gbps_max"`
	// CPUPerGbit: CPU milliseconds (all CPUs, /proc/stat, over the
	// client's run) per gigabit delivered; median, min, max.
	CPUPerGbit    float64 `json:"cpu_per_gbit"`
	CPUPerGbitMin float64 `json:"cpu_per_gbit_min"`
	CPUPerGbitMax float64 `json:"cpu_per_gbit_max"`
	// Retransmits: the sender's TCP retransmissions per trial (median);
	// Spurious: those the receiver already had, as its DSACKs told the
	// sender (TcpExt TCPDSACKRecvSegs): reordering, not loss.
	Retransmits float64 `json:"retransmits"`
	Spurious    float64 `json:"spurious_retransmits"`
	// DevDrops: rx+tx dropped of every device of the wiring's and the
	// guest's namespaces per trial (median): where the retransmitted
	// segments were lost, when it was there.
	DevDrops float64 `json:"device_drops"`
	// MaxFrame is the largest frame (without the virtio-net header) the
	// relay carried from the sending side to the receiving one: above the
	// MTU when GSO frames cross whole.
	MaxFrame int `json:"max_frame_bytes"`
	Trials   int `json:"trials"`
}

// BulkByName returns the bulk entry called name, or nil.
func (r *Report) BulkByName(name string) *Bulk {
	return find(r.Bulk, func(b *Bulk) bool { return b.Name == name })
}

// Flow returns the flow of b in direction dir, or nil.
func (b *Bulk) Flow(dir string) *BulkFlow {
	return find(b.Flows, func(f *BulkFlow) bool { return f.Direction == dir })
}
