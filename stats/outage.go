package stats

import (
	"slices"
	"time"
)

// Span is an interval of a run, as offsets from its start.
type Span struct {
	Start time.Duration `json:"start"` // nanoseconds in JSON
	End   time.Duration `json:"end"`
}

// Len is the span's length (0 if it is empty).
func (s Span) Len() time.Duration { return max(s.End-s.Start, 0) }

// GapTracker finds one publisher's unavailable spans: a span longer than
// After in which the publisher wanted an ack (a publish intended in it
// completed, or the one acked at its end was intended in it) and got
// none. It starts at the later of the last ack and the earliest intended
// send completed since, and ends at the next ack. The zero value (After
// 0) finds nothing; it is not safe for concurrent use.
type GapTracker struct {
	After   time.Duration
	lastAck time.Duration
	pending time.Duration // earliest intended send completed (failed) since lastAck; -1: none
	gaps    []Span
	init    bool
}

func (g *GapTracker) start() {
	if !g.init {
		g.pending, g.init = -1, true
	}
}

// Failed notes a publish intended at sent that completed without an ack.
func (g *GapTracker) Failed(sent time.Duration) {
	g.start()
	if g.pending < 0 || sent < g.pending {
		g.pending = sent
	}
}

// Acked notes an ack arriving at now for a publish intended at sent.
func (g *GapTracker) Acked(sent, now time.Duration) {
	g.start()
	from := sent
	if g.pending >= 0 && g.pending < from {
		from = g.pending
	}
	g.close(max(from, g.lastAck), now)
	g.lastAck, g.pending = max(g.lastAck, now), -1
}

// End closes the tracking at now: publishes that failed since the last
// ack make an unavailable span up to now.
func (g *GapTracker) End(now time.Duration) []Span {
	g.start()
	if g.pending >= 0 {
		g.close(max(g.pending, g.lastAck), now)
		g.pending = -1
	}
	return g.gaps
}

func (g *GapTracker) close(from, to time.Duration) {
	if g.After > 0 && to-from > g.After {
		g.gaps = append(g.gaps, Span{from, to})
	}
}

// Intersect is the spans every list covers (each list sorted, its spans
// disjoint): when no publisher got an ack, the cluster was unavailable to
// all. No lists: none.
func Intersect(lists ...[]Span) []Span {
	if len(lists) == 0 {
		return nil
	}
	out := lists[0]
	for _, l := range lists[1:] {
		var next []Span
		i, j := 0, 0
		for i < len(out) && j < len(l) {
			s := Span{max(out[i].Start, l[j].Start), min(out[i].End, l[j].End)}
			if s.Start < s.End {
				next = append(next, s)
			}
			if out[i].End < l[j].End {
				i++
			} else {
				j++
			}
		}
		out = next
	}
	return out
}

// FaultImpact is what one fault did to a benchmark: how long publishes
// were unavailable, how long throughput took to come back, and the publish
// latency before, during and after it.
type FaultImpact struct {
	Kind  string   `json:"kind"`
	Nodes []string `json:"nodes,omitempty"`
	Span  Span     `json:"span"` // the fault, from its start to its heal
	// Unavailable is the total length of the outages (no publisher got an
	// ack for longer than unavailable_after) that began during the fault
	// or within ImpactAfter of its heal; Outages lists them.
	Unavailable time.Duration `json:"unavailable"`
	Outages     []Span        `json:"outages,omitempty"`
	// Recovery is the time from the fault's start to the start of the
	// first one-second window, after throughput (acks received) fell
	// below 90 % of its mean over the windows before the fault, that is
	// back at 90 % or more; 0 when it never fell. Recovered is false when
	// it never came back within the run.
	Recovery  time.Duration `json:"recovery"`
	Recovered bool          `json:"recovered"`
	Baseline  float64       `json:"baseline_acks_per_s"` // the acks/s before
	Errors    int64         `json:"errors"`              // publishes intended during the fault that failed
	// Publish latency (from the intended send time) of the publishes
	// intended before the fault (BaselineWindows), during it, and in the
	// ImpactAfter after its heal.
	Before Latency `json:"pub_ack_before"`
	During Latency `json:"pub_ack_during"`
	After  Latency `json:"pub_ack_after"`
}

// Impact windows: the baseline is up to BaselineWindows windows before a
// fault; its aftermath is ImpactAfter past the heal.
const (
	BaselineWindows = 5
	ImpactAfter     = 5 * time.Second
)

// FaultImpacts measures each fault (kind, nodes, span) against the
// result's windows and outages. Windows without a histogram (an old
// bench.json) give zero latencies.
func (r *BenchResult) FaultImpacts(faults []FaultImpact) []FaultImpact {
	out := make([]FaultImpact, 0, len(faults))
	for _, f := range faults {
		out = append(out, r.impact(f))
	}
	return out
}

func (r *BenchResult) impact(f FaultImpact) FaultImpact {
	f.Unavailable, f.Outages = 0, nil
	for _, o := range r.Outages {
		if o.Start >= f.Span.Start && o.Start <= f.Span.End+ImpactAfter {
			f.Outages = append(f.Outages, o)
			f.Unavailable += o.Len()
		}
	}
	ws := r.Windows
	// The windows before, during and after, by their start.
	first := slices.IndexFunc(ws, func(w BenchWindow) bool { return w.Start+time.Second > f.Span.Start })
	if first < 0 {
		first = len(ws)
	}
	var before, during, after []int
	for i := max(first-BaselineWindows, 0); i < first; i++ {
		before = append(before, i)
	}
	for i := first; i < len(ws); i++ {
		switch {
		case ws[i].Start < f.Span.End:
			during = append(during, i)
		case ws[i].Start < f.Span.End+ImpactAfter:
			after = append(after, i)
		}
	}
	for _, i := range before {
		f.Baseline += float64(ws[i].AcksReceived)
	}
	if len(before) > 0 {
		f.Baseline /= float64(len(before))
	}
	f.Recovered = true
	fell := -1
	for i := first; i < len(ws) && f.Baseline > 0; i++ {
		low := float64(ws[i].AcksReceived) < 0.9*f.Baseline
		if fell < 0 && low && ws[i].Start < f.Span.End+ImpactAfter {
			fell = i
		}
		if fell >= 0 && !low {
			f.Recovery = max(ws[i].Start-f.Span.Start, 0)
			break
		}
		if fell >= 0 && i == len(ws)-1 {
			f.Recovered = false
		}
	}
	for _, i := range during {
		f.Errors += ws[i].Errors
	}
	f.Before, f.During, f.After = r.mergedLatency(before), r.mergedLatency(during), r.mergedLatency(after)
	return f
}

// mergedLatency is the publish latency of the windows idx together,
// merged from their histograms.
func (r *BenchResult) mergedLatency(idx []int) Latency {
	h := NewWindowHist()
	for _, i := range idx {
		mergeEncoded(h, r.Windows[i].PubAckHist)
	}
	return LatencyOf(h)
}
