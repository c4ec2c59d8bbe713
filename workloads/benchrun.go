package workloads

import (
	"context"
	"fmt"
	"math"
	"time"

	"jetstorm/clusters"
	"jetstorm/history"
	"jetstorm/stats"
)

// CapacityOptions configure a capacity search: raise the offered rate by
// Factor from Start, one Step-long step at a time, until publish p99 breaks
// the SLO or the acks that arrive fall below 95 % of the offered rate.
type CapacityOptions struct {
	SLOP99   time.Duration
	Start    float64
	Factor   float64
	Step     time.Duration
	MaxSteps int
	// Warmup runs at Start for this long first, unjudged: the first
	// seconds on a fresh cluster are slower (connections, caches, Raft
	// settling) and would end the search at its first step.
	Warmup time.Duration
	// Axis "streams": the search raises the number of streams instead
	// (Start streams, times Factor each step, created before the step
	// and kept), offering RatePerStream msgs/s to each.
	Axis          string
	RatePerStream float64
}

// AxisStreams is the capacity search over the number of streams.
const AxisStreams = "streams"

// BenchWorkload runs a Bench (its steps, or a capacity search) as a
// Workload, so it gets the same cluster, faults and run directory as any
// other. It records no per-message history (a benchmark sends far too many
// messages); its results are the per-second windows.
type BenchWorkload struct {
	B        *Bench
	Capacity *CapacityOptions // nil: run B's steps

	Result    *stats.BenchResult    // after Run
	CapResult *stats.CapacityResult // after Run, with Capacity
	Started   time.Time             // when the schedule started
	// StartAt, if set, is when the schedule starts (shards start
	// together); it must not have passed when Run begins.
	StartAt time.Time
	// Clock (shards) is this generator's clock against the stream
	// leader's, measured before the schedule starts.
	Clock *stats.ClockOffset
}

func (w *BenchWorkload) Name() string   { return "bench" }
func (w *BenchWorkload) Stream() string { return w.B.StreamName() }

func (w *BenchWorkload) Setup(ctx context.Context, c clusters.Cluster) error {
	return w.B.Setup(ctx, clusters.ClientURLs(c))
}

func (w *BenchWorkload) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	urls := clusters.ClientURLs(c)
	if w.B.o.Shards > 1 {
		// Bounded: a slow leader must not make the shard miss its start.
		bound := 2 * time.Second
		if !w.StartAt.IsZero() {
			bound = min(bound, time.Until(w.StartAt)/2)
		}
		cctx, cancel := context.WithTimeout(ctx, max(bound, 0))
		w.Clock = w.B.ClockOffset(cctx, urls)
		cancel()
	}
	w.Started = time.Now()
	if !w.StartAt.IsZero() {
		if w.StartAt.Before(w.Started) {
			return fmt.Errorf("bench: the start time %s passed %v before the schedule could begin (give --start-at more time for the setup)",
				w.StartAt.Format(time.RFC3339Nano), w.Started.Sub(w.StartAt).Round(time.Millisecond))
		}
		w.Started = w.StartAt
	}
	if w.Capacity == nil {
		r, err := w.B.Run(ctx, urls, w.Started)
		w.Result = r
		return err
	}
	co := *w.Capacity
	cr := &stats.CapacityResult{SLOP99Ms: float64(co.SLOP99) / float64(time.Millisecond), Stopped: "max_steps reached", Axis: co.Axis}
	w.CapResult = cr
	all := &stats.BenchResult{}
	byStreams := co.Axis == AxisStreams
	// at is step i's bench: its offered rate, and its streams on the
	// streams axis (the ones it adds are created first).
	streams := int(co.Start)
	at := func(rate float64) *Bench {
		b := NewBench(w.B.o)
		if byStreams {
			b.o.Streams = streams
			rate = float64(streams) * co.RatePerStream
		}
		b.o.Steps = []BenchStep{{Rate: rate, Duration: co.Step}}
		return b
	}
	if co.Warmup > 0 {
		b := at(co.Start)
		b.o.Steps[0].Duration = co.Warmup
		if _, err := b.Run(ctx, urls, time.Now()); err != nil {
			cr.Stopped = "warm-up: " + err.Error()
			w.Result = all
			return err
		}
	}
	rate := co.Start
	for i := 0; i < co.MaxSteps; i++ {
		b := at(rate)
		if byStreams && i > 0 {
			t0 := time.Now()
			if err := b.AddStreams(ctx, urls, w.B.o.Streams, streams); err != nil {
				// The cluster does not take more streams: the search ends.
				cr.Stopped = fmt.Sprintf("at %d streams: %v", streams, err)
				rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote, Value: map[string]any{
					"capacity_step": i, "streams": streams, "error": err.Error()}})
				if ctx.Err() != nil {
					w.Result = all
					return ctx.Err()
				}
				break
			}
			w.B.o.Streams = streams
			rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote, Value: map[string]any{
				"capacity_step": i, "streams": streams, "created_in_s": time.Since(t0).Seconds()}})
		}
		start := time.Now()
		r, err := b.Run(ctx, urls, start)
		if r != nil {
			off := start.Sub(w.Started)
			for _, win := range r.Windows {
				win.Start += off
				win.Step = i
				all.Windows = append(all.Windows, win)
			}
			all.Steps = append(all.Steps, r.Steps...)
			for _, o := range r.Outages {
				all.Outages = append(all.Outages, stats.Span{Start: o.Start + off, End: o.End + off})
			}
		}
		if err != nil {
			w.Result = all
			cr.Stopped = "error: " + err.Error()
			return err
		}
		st := r.Steps[0]
		if byStreams {
			st.Streams = streams
		}
		held := st.PubAck.P99 <= cr.SLOP99Ms && st.AckThroughput >= 0.95*st.OfferedRate && st.Errors == 0
		cr.Steps, cr.Held = append(cr.Steps, st), append(cr.Held, held)
		rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote, Value: map[string]any{
			"capacity_step": i, "rate": st.Rate, "streams": st.Streams, "p99_ms": st.PubAck.P99, "ack_throughput": st.AckThroughput, "held": held}})
		if !held {
			what := fmt.Sprintf("%.0f msgs/s", st.Rate)
			if byStreams {
				what = fmt.Sprintf("%d streams (%.0f msgs/s)", streams, st.Rate)
			}
			cr.Stopped = fmt.Sprintf("at %s: p99 %.2f ms (SLO %.2f ms), %.0f acks/s for %.0f offered, %d errors",
				what, st.PubAck.P99, cr.SLOP99Ms, st.AckThroughput, st.OfferedRate, st.Errors)
			break
		}
		cr.BestRate = st.Rate
		if byStreams {
			cr.BestStreams = streams
			streams = max(streams+1, int(math.Ceil(float64(streams)*co.Factor)))
		}
		rate *= co.Factor
	}
	w.Result = all
	return nil
}

// Drain has nothing to read back: a benchmark checks no history.
func (w *BenchWorkload) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return nil
}
