package stats

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// OMBResult is a bench run in the OpenMessaging Benchmark's result format
// (its TestResult: the field names its chart script and dashboards read),
// one entry per OMBPeriod in the per-period lists. Units as OMB's: rates
// per second, publish and end-to-end latencies in milliseconds, the
// publish delay (actual send - intended send) in microseconds. jetstorm
// measures publish latency from the intended send time (OMB measures it
// from the actual send; the delay is the difference), so a saturated run
// shows its queueing in publishLatency* as well.
type OMBResult struct {
	Workload          string `json:"workload"`
	Driver            string `json:"driver"`
	MessageSize       int64  `json:"messageSize"`
	Topics            int    `json:"topics"`
	Partitions        int    `json:"partitions"`
	ProducersPerTopic int    `json:"producersPerTopic"`
	ConsumersPerTopic int    `json:"consumersPerTopic"`

	PublishRate      []float64 `json:"publishRate"`
	PublishErrorRate []float64 `json:"publishErrorRate"`
	ConsumeRate      []float64 `json:"consumeRate"`
	Backlog          []int64   `json:"backlog"`

	PublishLatencyAvg      []float64 `json:"publishLatencyAvg"`
	PublishLatency50pct    []float64 `json:"publishLatency50pct"`
	PublishLatency75pct    []float64 `json:"publishLatency75pct"`
	PublishLatency95pct    []float64 `json:"publishLatency95pct"`
	PublishLatency99pct    []float64 `json:"publishLatency99pct"`
	PublishLatency999pct   []float64 `json:"publishLatency999pct"`
	PublishLatency9999pct  []float64 `json:"publishLatency9999pct"`
	PublishLatency99999pct []float64 `json:"publishLatency99999pct"`
	PublishLatencyMax      []float64 `json:"publishLatencyMax"`

	PublishDelayLatencyAvg      []float64 `json:"publishDelayLatencyAvg"`
	PublishDelayLatency50pct    []int64   `json:"publishDelayLatency50pct"`
	PublishDelayLatency75pct    []int64   `json:"publishDelayLatency75pct"`
	PublishDelayLatency95pct    []int64   `json:"publishDelayLatency95pct"`
	PublishDelayLatency99pct    []int64   `json:"publishDelayLatency99pct"`
	PublishDelayLatency999pct   []int64   `json:"publishDelayLatency999pct"`
	PublishDelayLatency9999pct  []int64   `json:"publishDelayLatency9999pct"`
	PublishDelayLatency99999pct []int64   `json:"publishDelayLatency99999pct"`
	PublishDelayLatencyMax      []int64   `json:"publishDelayLatencyMax"`

	AggregatedPublishLatencyAvg      float64 `json:"aggregatedPublishLatencyAvg"`
	AggregatedPublishLatency50pct    float64 `json:"aggregatedPublishLatency50pct"`
	AggregatedPublishLatency75pct    float64 `json:"aggregatedPublishLatency75pct"`
	AggregatedPublishLatency95pct    float64 `json:"aggregatedPublishLatency95pct"`
	AggregatedPublishLatency99pct    float64 `json:"aggregatedPublishLatency99pct"`
	AggregatedPublishLatency999pct   float64 `json:"aggregatedPublishLatency999pct"`
	AggregatedPublishLatency9999pct  float64 `json:"aggregatedPublishLatency9999pct"`
	AggregatedPublishLatency99999pct float64 `json:"aggregatedPublishLatency99999pct"`
	AggregatedPublishLatencyMax      float64 `json:"aggregatedPublishLatencyMax"`

	AggregatedPublishDelayLatencyAvg      float64 `json:"aggregatedPublishDelayLatencyAvg"`
	AggregatedPublishDelayLatency50pct    int64   `json:"aggregatedPublishDelayLatency50pct"`
	AggregatedPublishDelayLatency75pct    int64   `json:"aggregatedPublishDelayLatency75pct"`
	AggregatedPublishDelayLatency95pct    int64   `json:"aggregatedPublishDelayLatency95pct"`
	AggregatedPublishDelayLatency99pct    int64   `json:"aggregatedPublishDelayLatency99pct"`
	AggregatedPublishDelayLatency999pct   int64   `json:"aggregatedPublishDelayLatency999pct"`
	AggregatedPublishDelayLatency9999pct  int64   `json:"aggregatedPublishDelayLatency9999pct"`
	AggregatedPublishDelayLatency99999pct int64   `json:"aggregatedPublishDelayLatency99999pct"`
	AggregatedPublishDelayLatencyMax      int64   `json:"aggregatedPublishDelayLatencyMax"`

	AggregatedPublishLatencyQuantiles      ombQuantiles[float64] `json:"aggregatedPublishLatencyQuantiles"`
	AggregatedPublishDelayLatencyQuantiles ombQuantiles[int64]   `json:"aggregatedPublishDelayLatencyQuantiles"`

	EndToEndLatencyAvg      []float64 `json:"endToEndLatencyAvg"`
	EndToEndLatency50pct    []float64 `json:"endToEndLatency50pct"`
	EndToEndLatency75pct    []float64 `json:"endToEndLatency75pct"`
	EndToEndLatency95pct    []float64 `json:"endToEndLatency95pct"`
	EndToEndLatency99pct    []float64 `json:"endToEndLatency99pct"`
	EndToEndLatency999pct   []float64 `json:"endToEndLatency999pct"`
	EndToEndLatency9999pct  []float64 `json:"endToEndLatency9999pct"`
	EndToEndLatency99999pct []float64 `json:"endToEndLatency99999pct"`
	EndToEndLatencyMax      []float64 `json:"endToEndLatencyMax"`

	AggregatedEndToEndLatencyQuantiles ombQuantiles[float64] `json:"aggregatedEndToEndLatencyQuantiles"`

	AggregatedEndToEndLatencyAvg      float64 `json:"aggregatedEndToEndLatencyAvg"`
	AggregatedEndToEndLatency50pct    float64 `json:"aggregatedEndToEndLatency50pct"`
	AggregatedEndToEndLatency75pct    float64 `json:"aggregatedEndToEndLatency75pct"`
	AggregatedEndToEndLatency95pct    float64 `json:"aggregatedEndToEndLatency95pct"`
	AggregatedEndToEndLatency99pct    float64 `json:"aggregatedEndToEndLatency99pct"`
	AggregatedEndToEndLatency999pct   float64 `json:"aggregatedEndToEndLatency999pct"`
	AggregatedEndToEndLatency9999pct  float64 `json:"aggregatedEndToEndLatency9999pct"`
	AggregatedEndToEndLatency99999pct float64 `json:"aggregatedEndToEndLatency99999pct"`
	AggregatedEndToEndLatencyMax      float64 `json:"aggregatedEndToEndLatencyMax"`
}

// OMBPeriod is OMB's reporting period (its stats interval, 10 s).
const OMBPeriod = 10 * time.Second

// OMBMeta is what OMBResult says about the workload.
type OMBMeta struct {
	Workload, Driver                         string
	MessageSize                              int64
	Topics, Partitions, Producers, Consumers int
}

// ombQuantiles is OMB's quantile map (percentile -> value), written with
// the percentiles as keys ("99.9").
type ombQuantiles[T int64 | float64] map[float64]T

func (q ombQuantiles[T]) MarshalJSON() ([]byte, error) {
	m := make(map[string]T, len(q))
	for k, v := range q {
		m[strconv.FormatFloat(k, 'f', -1, 64)] = v
	}
	return json.Marshal(m)
}

// ombPercentiles are the quantile maps' keys: OMB's headline percentiles
// and the steps between.
var ombPercentiles = []float64{1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100}

// OMB is the run in OMB's result format: the schedule's windows (not the
// catch-up after it) in periods of OMBPeriod, the last one possibly short.
func (r *BenchResult) OMB(m OMBMeta) *OMBResult {
	o := &OMBResult{Workload: m.Workload, Driver: m.Driver, MessageSize: m.MessageSize, Topics: m.Topics,
		Partitions: m.Partitions, ProducersPerTopic: m.Producers, ConsumersPerTopic: m.Consumers}
	var sched []BenchWindow
	for _, w := range r.Windows {
		if w.Step >= 0 {
			sched = append(sched, w)
		}
	}
	allPub, allE2E, allDelay := NewWindowHist(), NewWindowHist(), NewWindowHist()
	var sent, received int64
	for i := 0; i < len(sched); {
		start := sched[i].Start
		pub, e2e, delay := NewWindowHist(), NewWindowHist(), NewWindowHist()
		var acks, errs, consumed int64
		j := i
		for ; j < len(sched) && sched[j].Start < start+OMBPeriod; j++ {
			w := sched[j]
			acks, errs, consumed = acks+w.AcksReceived, errs+w.Errors, consumed+w.Consumed
			mergeEncoded(pub, w.PubAckHist)
			mergeEncoded(e2e, w.E2EHist)
			mergeEncoded(delay, w.DelayHist)
		}
		end := sched[j-1].Start + time.Second
		if j < len(sched) {
			end = sched[j].Start
		}
		secs := (end - start).Seconds()
		sent, received = sent+acks, received+consumed
		o.PublishRate = append(o.PublishRate, float64(acks)/secs)
		o.PublishErrorRate = append(o.PublishErrorRate, float64(errs)/secs)
		o.ConsumeRate = append(o.ConsumeRate, float64(consumed)/secs)
		o.Backlog = append(o.Backlog, max(sent-received, 0))
		o.pubSeries().add(pub)
		o.delaySeries().add(delay)
		o.e2eSeries().add(e2e)
		allPub.Merge(pub)
		allE2E.Merge(e2e)
		allDelay.Merge(delay)
		i = j
	}
	o.pubAggregate().set(allPub)
	o.delayAggregate().set(allDelay)
	o.e2eAggregate().set(allE2E)
	o.AggregatedPublishLatencyQuantiles = ombQuantiles[float64]{}
	o.AggregatedPublishDelayLatencyQuantiles = ombQuantiles[int64]{}
	o.AggregatedEndToEndLatencyQuantiles = ombQuantiles[float64]{}
	for _, p := range ombPercentiles {
		o.AggregatedPublishLatencyQuantiles[p] = ms(allPub.ValueAtPercentile(p))
		o.AggregatedPublishDelayLatencyQuantiles[p] = allDelay.ValueAtPercentile(p)
		o.AggregatedEndToEndLatencyQuantiles[p] = ms(allE2E.ValueAtPercentile(p))
	}
	return o
}

// ms converts µs to ms; us keeps µs (OMB's units for latency and delay).
func ms(us int64) float64 { return float64(us) / 1000 }
func us(v int64) int64    { return v }

// ombStatPercentiles are the percentiles OMB reports of each latency,
// besides its mean and max.
var ombStatPercentiles = []float64{50, 75, 95, 99, 99.9, 99.99, 99.999}

// ombSeries are OMB's per-period lists of one latency: avg, the
// ombStatPercentiles, max.
type ombSeries[T int64 | float64] struct {
	avg   *[]float64
	pcts  []*[]T
	max   *[]T
	conv  func(int64) T
	scale float64 // the mean (µs) is divided by it
}

func (s ombSeries[T]) add(h *hdrhistogram.Histogram) {
	*s.avg = append(*s.avg, h.Mean()/s.scale)
	for i, v := range h.ValueAtPercentilesSlice(ombStatPercentiles) {
		*s.pcts[i] = append(*s.pcts[i], s.conv(v))
	}
	*s.max = append(*s.max, s.conv(h.Max()))
}

// ombAggregate are OMB's aggregated figures of one latency.
type ombAggregate[T int64 | float64] struct {
	avg   *float64
	pcts  []*T
	max   *T
	conv  func(int64) T
	scale float64
}

func (a ombAggregate[T]) set(h *hdrhistogram.Histogram) {
	*a.avg = h.Mean() / a.scale
	for i, v := range h.ValueAtPercentilesSlice(ombStatPercentiles) {
		*a.pcts[i] = a.conv(v)
	}
	*a.max = a.conv(h.Max())
}

func (o *OMBResult) pubSeries() ombSeries[float64] {
	return ombSeries[float64]{&o.PublishLatencyAvg, []*[]float64{&o.PublishLatency50pct, &o.PublishLatency75pct,
		&o.PublishLatency95pct, &o.PublishLatency99pct, &o.PublishLatency999pct, &o.PublishLatency9999pct,
		&o.PublishLatency99999pct}, &o.PublishLatencyMax, ms, 1000}
}

func (o *OMBResult) delaySeries() ombSeries[int64] {
	return ombSeries[int64]{&o.PublishDelayLatencyAvg, []*[]int64{&o.PublishDelayLatency50pct, &o.PublishDelayLatency75pct,
		&o.PublishDelayLatency95pct, &o.PublishDelayLatency99pct, &o.PublishDelayLatency999pct, &o.PublishDelayLatency9999pct,
		&o.PublishDelayLatency99999pct}, &o.PublishDelayLatencyMax, us, 1}
}

func (o *OMBResult) e2eSeries() ombSeries[float64] {
	return ombSeries[float64]{&o.EndToEndLatencyAvg, []*[]float64{&o.EndToEndLatency50pct, &o.EndToEndLatency75pct,
		&o.EndToEndLatency95pct, &o.EndToEndLatency99pct, &o.EndToEndLatency999pct, &o.EndToEndLatency9999pct,
		&o.EndToEndLatency99999pct}, &o.EndToEndLatencyMax, ms, 1000}
}

func (o *OMBResult) pubAggregate() ombAggregate[float64] {
	return ombAggregate[float64]{&o.AggregatedPublishLatencyAvg, []*float64{&o.AggregatedPublishLatency50pct,
		&o.AggregatedPublishLatency75pct, &o.AggregatedPublishLatency95pct, &o.AggregatedPublishLatency99pct,
		&o.AggregatedPublishLatency999pct, &o.AggregatedPublishLatency9999pct, &o.AggregatedPublishLatency99999pct},
		&o.AggregatedPublishLatencyMax, ms, 1000}
}

func (o *OMBResult) delayAggregate() ombAggregate[int64] {
	return ombAggregate[int64]{&o.AggregatedPublishDelayLatencyAvg, []*int64{&o.AggregatedPublishDelayLatency50pct,
		&o.AggregatedPublishDelayLatency75pct, &o.AggregatedPublishDelayLatency95pct, &o.AggregatedPublishDelayLatency99pct,
		&o.AggregatedPublishDelayLatency999pct, &o.AggregatedPublishDelayLatency9999pct, &o.AggregatedPublishDelayLatency99999pct},
		&o.AggregatedPublishDelayLatencyMax, us, 1}
}

func (o *OMBResult) e2eAggregate() ombAggregate[float64] {
	return ombAggregate[float64]{&o.AggregatedEndToEndLatencyAvg, []*float64{&o.AggregatedEndToEndLatency50pct,
		&o.AggregatedEndToEndLatency75pct, &o.AggregatedEndToEndLatency95pct, &o.AggregatedEndToEndLatency99pct,
		&o.AggregatedEndToEndLatency999pct, &o.AggregatedEndToEndLatency9999pct, &o.AggregatedEndToEndLatency99999pct},
		&o.AggregatedEndToEndLatencyMax, ms, 1000}
}

// mergeEncoded merges a window's encoded histogram into h (none: nothing).
func mergeEncoded(h *hdrhistogram.Histogram, enc []byte) {
	if len(enc) == 0 {
		return
	}
	if d, err := hdrhistogram.Decode(enc); err == nil {
		h.Merge(d)
	}
}
