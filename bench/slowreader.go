package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// The slow-VM section of the text table and of the Markdown page: where
// the frames go that a VM side reading slowly cannot take.

// senderTrial is a slow-reader trial with the name of its sender.
type senderTrial struct {
	Sender string
	*SlowTrial
}

// slowTrials lists d's slow-reader trials by sender.
func slowTrials(d *Datapath) []senderTrial {
	if d.SlowReader == nil {
		return nil
	}
	out := []senderTrial{{"socket", &d.SlowReader.Socket}}
	if d.SlowReader.Forwarded != nil {
		out = append(out, senderTrial{"forwarded", d.SlowReader.Forwarded})
	}
	return out
}

func slowReaderTable(w io.Writer, r *Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	n := 0
	for i := range r.Datapaths {
		d := &r.Datapaths[i]
		for _, s := range slowTrials(d) {
			if n == 0 {
				fmt.Fprintf(w, "A slow VM (reads at most %.0f frames/s; far side → VM, %d-byte frames, per second)\n", r.Method.SlowReaderPPS, r.Method.SmallFrame)
				fmt.Fprintln(tw, "datapath\tsender\tdelivered\tsent\tEAGAIN\tENOBUFS\tdevice drops")
			}
			n++
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\n", d.Name, s.Sender, s.DeliveredPPS, s.SentPPS, s.EAGAINps, s.ENOBUFSps, s.DevDropsps)
		}
	}
	if n > 0 {
		tw.Flush()
		fmt.Fprintln(w)
	}
}

// slowReaderMarkdown: where the frames go that a slow VM cannot take.
func slowReaderMarkdown(w io.Writer, r *Report) {
	any := false
	for i := range r.Datapaths {
		any = any || r.Datapaths[i].SlowReader != nil
	}
	if !any {
		return
	}
	fmt.Fprintf(w, "\n### A slow VM\n\nThe far side floods %d-byte frames toward a VM side that reads at most %.0f frames/s, from two senders: its AF_PACKET socket (a local sender, whose send buffer the frames are charged to), and a tap on the far side whose frames tc redirects out of the veth's peer (forwarded: like frames from a NIC, no send buffer holds them back). With a tap wiring the frames the VM cannot take are dropped at the tap (device drops) and the sender goes on. A macvtap does not release what it queues for its reader: a local sender's frames stay charged to its socket, which gets EAGAIN and is held to the VM's pace — on a real host a container's socket behind the veth, stalled for every destination it sends to. Forwarded frames have no socket to push back on: there a full macvtap queue drops, as a tap does.\n\n", r.Method.SmallFrame, r.Method.SlowReaderPPS)
	fmt.Fprintf(w, "| datapath | sender | delivered/s | sent/s | sender EAGAIN/s | ENOBUFS/s | device drops/s |\n|---|---|---:|---:|---:|---:|---:|\n")
	for i := range r.Datapaths {
		d := &r.Datapaths[i]
		for _, s := range slowTrials(d) {
			fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f |\n", d.Name, s.Sender, s.DeliveredPPS, s.SentPPS, s.EAGAINps, s.ENOBUFSps, s.DevDropsps)
		}
	}
}
