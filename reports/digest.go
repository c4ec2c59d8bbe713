package reports

import (
	"iter"
	"math"
	"math/bits"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/stats"
)

// Digest is what results.json's own numbers and the report need of a
// history, gathered in one pass over its ops (Observe each, in file
// order, then Close): counts, per-second aggregates and a few bytes per
// publish, never the ops themselves, so a history of any length is
// reported in memory bounded by its publishes, not its size.
type Digest struct {
	calm []calmWindow // from the skimmed faults: a publish is judged as it completes

	ops      int64
	end      time.Duration // the latest op time
	faultOps []history.Op
	samples  []history.Op // consumer-state samples (a few a second)

	// The workload: ops before the first drain, for the time plots.
	drained bool
	span    time.Duration // the latest client op time in it
	pubF    string        // the history's publishes' function (queue or batch): the plots show them only
	plot    *perSecond

	// Every publish: results.json's latencies, and the loss plots.
	pubOpen           map[int]pubCall
	pubFirst, pubLast time.Duration
	lat, calmLat      *hdrhistogram.Histogram
	loss              lossTally

	// Counter workloads: each counter's value per second, from its acks.
	counters map[int]map[int64]counterPoint
	// Mirror workloads: the copies' lag samples.
	mirrorLags []mirrorSample

	faults, notFaults []history.FaultWindow // at Close
	closed            bool
}

type calmWindow struct{ from, to time.Duration }

type pubCall struct {
	start time.Duration
}

// NewDigest starts a digest of a history whose skim (history.Skim) is s.
// Values, when not nil, is shared with the checks observing the same ops
// (checker.View); nil: the digest keeps its own.
func NewDigest(s history.Skimmed, values *checker.Values) *Digest {
	d := &Digest{
		plot:     newPerSecond(isClientOp),
		pubOpen:  map[int]pubCall{},
		pubFirst: -1,
		lat:      newLatencyHist(),
		calmLat:  newLatencyHist(),
		loss:     newLossTally(values),
	}
	// A fault that never ended lasts to the end of the history.
	faults, _ := history.FaultWindows(s.Faults, math.MaxInt64)
	for _, f := range faults {
		to := time.Duration(math.MaxInt64)
		if f.Status != history.FaultNotHealed {
			to = f.End + CalmMargin
		}
		d.calm = append(d.calm, calmWindow{f.Start, to})
	}
	return d
}

// DigestOf digests a history held in memory.
func DigestOf(h []history.Op) *Digest {
	d := NewDigest(history.SkimOps(h), nil)
	for _, op := range h {
		d.Observe(op)
	}
	d.Close()
	return d
}

// DigestFile digests the history at path: a skim, then one pass. A cut
// last line is an error wrapping history.ErrTruncated, returned with the
// digest of every complete line before it.
func DigestFile(path string) (*Digest, error) {
	s, err := history.Skim(path)
	if err != nil {
		return nil, err
	}
	d := NewDigest(s, nil)
	for _, err = range d.Tee(history.Stream(path)) {
		if err != nil {
			break
		}
	}
	d.Close()
	return d, err
}

// Tee is ops, each op shown to d as it passes.
func (d *Digest) Tee(ops iter.Seq2[history.Op, error]) iter.Seq2[history.Op, error] {
	return func(yield func(history.Op, error) bool) {
		for op, err := range ops {
			if err == nil {
				d.Observe(op)
			}
			if !yield(op, err) {
				return
			}
		}
	}
}

func newLatencyHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3) // µs
}

// Observe takes the next op of the history.
func (d *Digest) Observe(op history.Op) {
	d.loss.view.Observe(op)
	d.ops++
	d.end = max(d.end, op.Time)
	switch op.F {
	case history.FFault:
		d.faultOps = append(d.faultOps, op)
	case history.FConsumerState:
		if op.Type == history.OK {
			d.samples = append(d.samples, op)
		}
	case history.FDrain:
		d.drained = true
	case history.FMirrorLag:
		d.mirrorLag(op)
	}
	if isPublishF(op.F) {
		d.publish(op)
	}
	if op.F == history.FCounterAdd && op.Type == history.OK {
		d.counterAck(op)
	}
	if op.F == history.FDrain && op.Type == history.OK {
		d.loss.drained = true
	}
	if isPublishF(op.F) && d.pubF == "" {
		// A history with publishes plots publishes only: none came before.
		d.pubF = op.F
		d.plot = newPerSecond(func(o history.Op) bool { return o.F == op.F })
	}
	if d.drained {
		return
	}
	if isClientOp(op) {
		d.span = max(d.span, op.Time)
	}
	d.plot.observe(op)
}

// publish pairs a publish with its process's outstanding invoke, as
// history.PublishPairs does.
func (d *Digest) publish(op history.Op) {
	if op.Type == history.Invoke {
		if d.pubFirst < 0 || op.Time < d.pubFirst {
			d.pubFirst = op.Time
		}
		if c, ok := d.pubOpen[op.Process]; ok && op.F == history.FPublish {
			d.loss.unknown(c.start) // taken over: it never completes
		}
		d.pubOpen[op.Process] = pubCall{start: op.Time}
		return
	}
	d.pubLast = max(d.pubLast, op.Time)
	c, ok := d.pubOpen[op.Process]
	if !ok {
		return
	}
	delete(d.pubOpen, op.Process)
	switch op.Type {
	case history.OK:
		us := max(int64((op.Time-c.start)/time.Microsecond), 1)
		_ = d.lat.RecordValue(min(us, d.lat.HighestTrackableValue()))
		if d.isCalm(c.start, op.Time) {
			_ = d.calmLat.RecordValue(min(us, d.calmLat.HighestTrackableValue()))
		}
	case history.Fail:
		if op.F == history.FPublish {
			d.loss.failed(c.start)
		}
	default:
		if op.F == history.FPublish {
			d.loss.unknown(c.start)
		}
	}
}

// isPublishF: f is a workload's publish (its write): queue publishes,
// batches, counter increments, occ appends, ttl messages, schedules, object
// puts. Their
// latency and throughput are the run's.
func isPublishF(f string) bool {
	switch f {
	case history.FPublish, history.FBatch, history.FCounterAdd, history.FOCCAppend, history.FTTLPut, history.FScheduleAdd, history.FWatchPut, history.FObjPut:
		return true
	}
	return false
}

// counterPoint is a counter's latest acked value in a second: the total
// of the ack with the highest sequence.
type counterPoint struct {
	seq   uint64
	total int64
}

// counterAck keeps an acked increment's total as its counter's value in
// the second it completed, if it is the latest there.
func (d *Digest) counterAck(op history.Op) {
	e, ok := history.ParseCounterEntry(op.ValueString())
	if !ok || !e.HasTotal || op.Time < 0 {
		return
	}
	if d.counters == nil {
		d.counters = map[int]map[int64]counterPoint{}
	}
	m := d.counters[e.K]
	if m == nil {
		m = map[int64]counterPoint{}
		d.counters[e.K] = m
	}
	s := secondOf(op.Time)
	if p, ok := m[s]; !ok || op.Seq > p.seq {
		m[s] = counterPoint{op.Seq, e.Total}
	}
}

func (d *Digest) isCalm(t0, t1 time.Duration) bool {
	for _, w := range d.calm {
		if t0 < w.to && t1 > w.from {
			return false
		}
	}
	return true
}

// Close ends the history: publishes still outstanding never completed.
func (d *Digest) Close() {
	if d.closed {
		return
	}
	d.closed = true
	for _, c := range d.pubOpen {
		d.loss.unknown(c.start)
	}
	d.pubOpen = nil
	d.faults, d.notFaults = history.FaultWindows(d.faultOps, d.end)
}

// PublishLatency is every acknowledged publish's latency from its invoke
// (the intended start, for open-loop workloads) to its ack, and the span
// from the first publish invoke to the last publish completion.
func (d *Digest) PublishLatency() (stats.Latency, time.Duration) {
	span := time.Duration(0)
	if d.pubFirst >= 0 {
		span = d.pubLast - d.pubFirst
	}
	return latencyOf(d.lat), span
}

// CalmPublishLatency is PublishLatency over the publishes that started and
// ended outside every fault window [start, end + CalmMargin].
func (d *Digest) CalmPublishLatency() stats.Latency { return latencyOf(d.calmLat) }

// Faults are the history's fault windows (history.FaultWindows up to the
// history's end): injected, and those that could not be.
func (d *Digest) Faults() (injected, notInjected []history.FaultWindow) {
	return d.faults, d.notFaults
}

func latencyOf(hist *hdrhistogram.Histogram) stats.Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	l := stats.Latency{Count: hist.TotalCount()}
	if l.Count > 0 {
		l.P50, l.P90, l.P99 = ms(hist.ValueAtQuantile(50)), ms(hist.ValueAtQuantile(90)), ms(hist.ValueAtQuantile(99))
		l.P999, l.Max = ms(hist.ValueAtQuantile(99.9)), ms(hist.Max())
	}
	return l
}

// perSecond is what the throughput and latency plots need of the ops keep
// selects: per second, the invokes, oks and errors, and the latencies (µs)
// of the oks by second of invoke, paired as history.Calls pairs them. The
// latencies are kept to 7 significant bits (latencyBucket), as counts: a
// second of 10,000 oks is a few hundred of them, not 10,000.
type perSecond struct {
	keep        func(history.Op) bool
	counts      map[int64]*[3]float64 // offered, acked, errors
	first, last int64
	open        map[int]time.Duration // process -> its outstanding invoke's time
	lat         map[int64]map[uint32]uint32
}

// latencyBucket is us with all but its 7 highest bits cleared: within
// 1.6 % below it, under what the plot's log scale shows.
func latencyBucket(us uint32) uint32 {
	s := max(bits.Len32(us)-7, 0)
	return us >> s << s
}

func newPerSecond(keep func(history.Op) bool) *perSecond {
	return &perSecond{keep: keep, counts: map[int64]*[3]float64{}, first: math.MaxInt64, last: -1,
		open: map[int]time.Duration{}, lat: map[int64]map[uint32]uint32{}}
}

func (p *perSecond) observe(op history.Op) {
	if !p.keep(op) {
		return
	}
	if op.Time >= 0 {
		s := secondOf(op.Time)
		p.first, p.last = min(p.first, s), max(p.last, s)
		c := p.counts[s]
		if c == nil {
			c = new([3]float64)
			p.counts[s] = c
		}
		switch op.Type {
		case history.Invoke:
			c[0]++
		case history.OK:
			c[1]++
		default:
			c[2]++
		}
	}
	if op.Type == history.Invoke {
		p.open[op.Process] = op.Time
		return
	}
	start, ok := p.open[op.Process]
	if !ok {
		return
	}
	delete(p.open, op.Process)
	if op.Type == history.OK {
		us := max(int64((op.Time-start)/time.Microsecond), 1)
		s := secondOf(start)
		m := p.lat[s]
		if m == nil {
			m = map[uint32]uint32{}
			p.lat[s] = m
		}
		m[latencyBucket(uint32(min(us, math.MaxUint32)))]++
	}
}

// Ops is how many ops the digest took.
func (d *Digest) Ops() int64 { return d.ops }
