package stats

import (
	"errors"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// MergeBench merges the results of the shards of one bench (`jetstorm
// bench --shard I/N`, started together with --start-at) into the result
// one generator would have written. Shards run the same steps, so their
// windows match one to one by index; the counts add up and the windows'
// raw histograms merge exactly, so every percentile is that of the union
// of the shards' latencies (each latency was measured on one shard's
// clock). Windows are placed by the first shard's origin; a shard whose
// schedule started more than maxSkew from the first shard's is an error.
// Outages are the spans in which no shard's publishers got an ack.
func MergeBench(parts []*BenchResult, maxSkew time.Duration) (*BenchResult, error) {
	if len(parts) == 0 {
		return nil, errors.New("merge: no results")
	}
	p0 := parts[0]
	start := func(r *BenchResult) time.Time { return r.Origin.Add(r.ScheduleStart) }
	for i, p := range parts {
		if p.Origin.IsZero() {
			return nil, fmt.Errorf("merge: result %d has no origin (not written by a bench shard of this version)", i+1)
		}
		if len(p.Steps) != len(p0.Steps) {
			return nil, fmt.Errorf("merge: result %d has %d steps, the first %d: not shards of one bench", i+1, len(p.Steps), len(p0.Steps))
		}
		for s := range p.Steps {
			if p.Steps[s].Rate != p0.Steps[s].Rate || p.Steps[s].Duration != p0.Steps[s].Duration {
				return nil, fmt.Errorf("merge: result %d's step %d is %v msgs/s for %v, the first's %v for %v: not shards of one bench",
					i+1, s, p.Steps[s].Rate, p.Steps[s].Duration, p0.Steps[s].Rate, p0.Steps[s].Duration)
			}
		}
		if d := start(p).Sub(start(p0)); d > maxSkew || d < -maxSkew {
			return nil, fmt.Errorf("merge: result %d's schedule started %v from the first's (more than %v): start the shards together (--start-at)", i+1, d, maxSkew)
		}
	}
	n := 0
	for _, p := range parts {
		n = max(n, len(p.Windows))
	}
	out := &BenchResult{Origin: p0.Origin, ScheduleStart: p0.ScheduleStart, Windows: make([]BenchWindow, n), Clocks: shardClocks(parts)}
	pub, e2e, delay := NewWindowHist(), NewWindowHist(), NewWindowHist()
	steps := make([]BenchStepResult, len(p0.Steps))
	stepPub, stepE2E := make([]*hdrhistogram.Histogram, len(steps)), make([]*hdrhistogram.Histogram, len(steps))
	for s := range steps {
		steps[s] = BenchStepResult{Rate: p0.Steps[s].Rate, Duration: p0.Steps[s].Duration}
		stepPub[s], stepE2E[s] = NewWindowHist(), NewWindowHist()
	}
	for w := range out.Windows {
		ow := &out.Windows[w]
		pub.Reset()
		e2e.Reset()
		delay.Reset()
		set := false
		for _, p := range parts {
			if w >= len(p.Windows) {
				continue
			}
			pw := p.Windows[w]
			if !set {
				// Placed on the first shard's clock.
				ow.Start, ow.Step = pw.Start+p.Origin.Sub(p0.Origin), pw.Step
				set = true
			}
			ow.Offered += pw.Offered
			ow.Acked += pw.Acked
			ow.Errors += pw.Errors
			ow.AcksReceived += pw.AcksReceived
			ow.Consumed += pw.Consumed
			ow.Lag = append(ow.Lag, pw.Lag...)
			mergeEncoded(pub, pw.PubAckHist)
			mergeEncoded(e2e, pw.E2EHist)
			mergeEncoded(delay, pw.DelayHist)
		}
		ow.PubAck, ow.E2E = LatencyOf(pub), LatencyOf(e2e)
		ow.PubAckHist, ow.E2EHist, ow.DelayHist = encode(pub), encode(e2e), encode(delay)
		if s := ow.Step; s >= 0 && s < len(steps) {
			stepPub[s].Merge(pub)
			stepE2E[s].Merge(e2e)
			st := &steps[s]
			st.OfferedRate += float64(ow.Offered)
			st.AckedRate += float64(ow.Acked)
			st.AckThroughput += float64(ow.AcksReceived)
			st.ConsumedRate += float64(ow.Consumed)
			st.Errors += ow.Errors
			for _, l := range ow.Lag {
				st.MaxLag = max(st.MaxLag, l)
			}
		}
	}
	for s := range steps {
		st := &steps[s]
		if secs := st.Duration.Seconds(); secs > 0 {
			st.OfferedRate /= secs
			st.AckedRate /= secs
			st.AckThroughput /= secs
			st.ConsumedRate /= secs
		}
		st.PubAck, st.E2E = LatencyOf(stepPub[s]), LatencyOf(stepE2E[s])
	}
	out.Steps = steps
	var gaps [][]Span
	for _, p := range parts {
		off := p.Origin.Sub(p0.Origin)
		var spans []Span
		for _, o := range p.Outages {
			spans = append(spans, Span{Start: o.Start + off, End: o.End + off})
		}
		gaps = append(gaps, spans)
		out.Clients = append(out.Clients, p.Clients...)
	}
	out.Outages = Intersect(gaps...)
	return out, nil
}

func encode(h *hdrhistogram.Histogram) []byte {
	if h.TotalCount() == 0 {
		return nil
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil
	}
	return b
}

// shardClocks are the shards' clocks against the first shard's, from
// their offsets against the stream leader (see ShardClock).
func shardClocks(parts []*BenchResult) []ShardClock {
	if len(parts) < 2 {
		return nil
	}
	c0 := parts[0].Clock
	var out []ShardClock
	for i, p := range parts[1:] {
		sc := ShardClock{Shard: i + 2}
		switch c := p.Clock; {
		case c0 == nil || c == nil:
			sc.Unknown = "a shard has no clock sample"
		case c.Server != c0.Server:
			sc.Unknown = fmt.Sprintf("measured against %s, the first shard against %s (the stream leader moved)", c.Server, c0.Server)
		default:
			sc.Offset, sc.Uncertainty = c0.Offset-c.Offset, c0.Uncertainty+c.Uncertainty
		}
		out = append(out, sc)
	}
	return out
}
