package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// BenchWindow is one window (one second, or the shorter rest of a step
// whose duration is not whole seconds) of the run. Windows never straddle
// steps. Offered, Acked, Errors, PubAck and E2E are by the window of the
// messages' intended send time, so Acked + Errors = Offered and a server
// that falls behind shows as latency, not as a lower Acked. AcksReceived
// and Consumed are by the window the ack or message arrived in: they are
// the achieved throughput. Windows after the end of the schedule (Step -1)
// only hold acks and messages that arrived while the clients caught up.
type BenchWindow struct {
	Start   time.Duration `json:"start"` // since the run's start (nanoseconds in JSON)
	Step    int           `json:"step"`  // index into Steps, -1 after the schedule
	Offered int64         `json:"offered"`
	Acked   int64         `json:"acked"`
	Errors  int64         `json:"errors"`
	// Acks that arrived in this window, whatever their intended time.
	AcksReceived int64   `json:"acks_received"`
	Consumed     int64   `json:"consumed"`
	PubAck       Latency `json:"pub_ack"` // ack time - intended send time
	E2E          Latency `json:"e2e"`     // receive time - intended send time
	// PubAckHist is the window's publish latency histogram (µs), in
	// HdrHistogram's compressed encoding (base64 in JSON), so spans of
	// windows (a fault's) merge exactly.
	PubAckHist []byte `json:"pub_ack_hdr,omitempty"`
	// E2EHist is the same for end-to-end latency (consumers), DelayHist
	// for the publish delay: actual send time - intended send time (how far
	// the publishers fell behind their schedule; OMB's publishDelayLatency).
	E2EHist   []byte `json:"e2e_hdr,omitempty"`
	DelayHist []byte `json:"delay_hdr,omitempty"`
	// Lag is each consumer's lag in the window: the highest num_pending
	// (messages in the stream it has not been delivered yet) that
	// JetStream reported with the messages it received, sampled up to 10
	// times a second; -1 when it received nothing to sample.
	Lag []int64 `json:"lag,omitempty"`
}

// BenchStepResult aggregates the windows of one step. Rates are counts
// divided by the step's duration. OfferedRate and AckedRate count messages
// by intended send time (AckedRate stays near OfferedRate, less errors,
// even past saturation: look at the latency); AckThroughput and
// ConsumedRate count arrivals during the step, which is what the cluster
// actually sustained.
type BenchStepResult struct {
	Rate          float64       `json:"rate"`
	Duration      time.Duration `json:"duration"`
	OfferedRate   float64       `json:"offered_rate"`
	AckedRate     float64       `json:"acked_rate"`
	AckThroughput float64       `json:"ack_throughput"`
	ConsumedRate  float64       `json:"consumed_rate"`
	Errors        int64         `json:"errors"`
	PubAck        Latency       `json:"pub_ack"`
	E2E           Latency       `json:"e2e"`
	// Streams is the number of streams in a capacity search over streams.
	Streams int `json:"streams,omitempty"`
	// MaxLag is the highest lag of any consumer in the step's windows.
	MaxLag int64 `json:"max_lag,omitempty"`
}

// BenchResult is the outcome of a bench run: bench.json.
type BenchResult struct {
	Windows []BenchWindow     `json:"windows"`
	Steps   []BenchStepResult `json:"steps"`
	// Outages are the spans longer than the bench's unavailable_after in
	// which no publisher got an ack though publishes were wanted (see
	// GapTracker): the cluster was unavailable to every client.
	Outages []Span `json:"outages,omitempty"`
	// Clients are the publishers' and consumers' own totals (natsbench.csv).
	Clients []ClientSummary `json:"clients,omitempty"`
	// Origin is the run's time origin (its history's), from which the
	// windows' and outages' starts count; ScheduleStart is when the
	// schedule began, from Origin. Shards' results merge by them.
	Origin        time.Time     `json:"origin,omitzero"`
	ScheduleStart time.Duration `json:"schedule_start,omitempty"`
	// Backlog is a backlog bench's build and drain.
	Backlog *BacklogResult `json:"backlog,omitempty"`
	// Clock (a shard) is this generator's clock against the stream
	// leader's; Clocks (a merge) are the shards' clocks against the first
	// shard's, which end-to-end latencies across shards carry.
	Clock  *ClockOffset `json:"clock,omitempty"`
	Clocks []ShardClock `json:"clocks,omitempty"`

	errSamples []string // a few distinct publish errors, for diagnostics
}

// ClockOffset is a clock's offset against a server's (server time minus
// ours), known within Uncertainty.
type ClockOffset struct {
	Server      string        `json:"server"`
	Offset      time.Duration `json:"offset_ns"`
	Uncertainty time.Duration `json:"uncertainty_ns"`
}

// ShardClock is one shard's clock against the first shard's: positive is
// ahead. An end-to-end latency from a publisher on the first shard to a
// consumer on this one reads too long by Offset (within Uncertainty).
type ShardClock struct {
	Shard       int           `json:"shard"` // from 1
	Offset      time.Duration `json:"offset_ns"`
	Uncertainty time.Duration `json:"uncertainty_ns"`
	// Unknown says why no offset could be estimated (no sample, or the
	// shards measured against different servers).
	Unknown string `json:"unknown,omitempty"`
}

// NewBenchResult returns a result with a few distinct publish error
// messages kept for diagnostics (they are not part of bench.json).
func NewBenchResult(windows []BenchWindow, steps []BenchStepResult, errSamples []string) *BenchResult {
	return &BenchResult{Windows: windows, Steps: steps, errSamples: errSamples}
}

// ErrorSamples returns up to a few distinct error messages seen in the run.
func (r *BenchResult) ErrorSamples() []string { return r.errSamples }

// Totals sums the windows' counters.
func (r *BenchResult) Totals() (offered, acked, consumed, errs int64) {
	for _, w := range r.Windows {
		offered += w.Offered
		acked += w.Acked
		consumed += w.Consumed
		errs += w.Errors
	}
	return
}

// WriteCSV writes one row per window; times in seconds, latencies in ms.
func (r *BenchResult) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{"start_s", "step", "offered", "acked", "errors", "acks_received", "consumed"}
	for _, m := range []string{"pub_ack", "e2e"} {
		header = append(header, m+"_count", m+"_p50_ms", m+"_p90_ms", m+"_p99_ms", m+"_p999_ms", m+"_max_ms")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	row := make([]string, 0, len(header))
	for _, bw := range r.Windows {
		row = append(row[:0], f(bw.Start.Seconds()), strconv.Itoa(bw.Step),
			i(bw.Offered), i(bw.Acked), i(bw.Errors), i(bw.AcksReceived), i(bw.Consumed))
		for _, l := range []Latency{bw.PubAck, bw.E2E} {
			row = append(row, i(l.Count), f(l.P50), f(l.P90), f(l.P99), f(l.P999), f(l.Max))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CapacityResult is capacity.json: a stepped bench run searching for the
// highest offered rate whose publish→ack p99 stays within the SLO. Example:
//
//	{"slo_p99_ms": 50,
//	 "steps": [{"rate": 1000, "duration": 10000000000, "offered_rate": 1000,
//	            "acked_rate": 1000, "ack_throughput": 998, "consumed_rate": 0,
//	            "errors": 0, "pub_ack": {...}, "e2e": {...}}, ...],
//	 "held": [true, ...], "best_rate": 12000,
//	 "stopped": "at 24000 msgs/s: p99 71.20 ms (SLO 50.00 ms), ..."}
//
// Steps are BenchStepResult (duration in nanoseconds).
type CapacityResult struct {
	SLOP99Ms float64           `json:"slo_p99_ms"`
	Steps    []BenchStepResult `json:"steps"`
	Held     []bool            `json:"held"`      // per step: within the SLO and >= 95 % acked
	BestRate float64           `json:"best_rate"` // highest offered rate that held (0: none did)
	Stopped  string            `json:"stopped"`   // why the search ended
	// Axis is "streams" for a search over the number of streams (else
	// empty: the rate); BestStreams the most streams that held.
	Axis        string `json:"axis,omitempty"`
	BestStreams int    `json:"best_streams,omitempty"`
}

// BacklogResult is a backlog bench's outcome (OMB's backlog test): the
// consumers waited until the publishers had built a backlog, then drained
// it. Per-second lag is in the windows.
type BacklogResult struct {
	TargetBytes int64 `json:"target_bytes"`
	// Built: the backlog reached its size; else the schedule ended first
	// and the drain began with what there was.
	Built          bool          `json:"built"`
	Msgs           int64         `json:"msgs"`  // acked when the drain began
	Bytes          int64         `json:"bytes"` // Msgs × payload
	BuildTime      time.Duration `json:"build_time"`
	StopPublishing bool          `json:"stop_publishing"`
	// CaughtUp: every consumer's lag came down to CatchUpLag messages,
	// CatchUp after the drain began.
	CaughtUp   bool          `json:"caught_up"`
	CatchUp    time.Duration `json:"catch_up"`
	CatchUpLag int64         `json:"catch_up_lag"`
	// DrainRate is the messages consumed per second (all consumers) from
	// the drain's start until caught up (or the end).
	DrainRate float64 `json:"drain_rate"`
}

// ClientSummary is one publisher's (ID P0, P1, ...) or consumer's (S0,
// S1, ...) totals over the schedule, as `nats bench` reports its clients.
type ClientSummary struct {
	ID       string        `json:"id"`
	Msgs     int64         `json:"msgs"`  // acked (publishers) or consumed (consumers)
	Bytes    int64         `json:"bytes"` // Msgs × payload
	Duration time.Duration `json:"duration"`
	// AvgLatencyUs is the mean publish → ack (publishers) or end-to-end
	// (consumers) latency in µs, from the intended send time; the others
	// its minimum, maximum, percentiles and standard deviation.
	AvgLatencyUs    float64 `json:"avg_latency_us"`
	MinLatencyUs    float64 `json:"min_latency_us"`
	MaxLatencyUs    float64 `json:"max_latency_us"`
	P50LatencyUs    float64 `json:"p50_latency_us"`
	P90LatencyUs    float64 `json:"p90_latency_us"`
	P99LatencyUs    float64 `json:"p99_latency_us"`
	P999LatencyUs   float64 `json:"p999_latency_us"`
	StdDevLatencyUs float64 `json:"stddev_latency_us"`
}

// NatsBenchCSVHeader is the header natscli v0.5.0's `nats bench --csv`
// writes for a run that records latencies.
var NatsBenchCSVHeader = []string{"#RunID", "ClientID", "MsgCount", "MsgBytes", "MsgsPerSec", "BytesPerSec", "DurationSecs",
	"MinLatencyMicroSecs", "AvgLatencyMicroSecs", "MaxLatencyMicroSecs", "P50LatencyMicroSecs", "P90LatencyMicroSecs",
	"P99LatencyMicroSecs", "P99.9LatencyMicroSecs", "StdDevLatencyMicroSecs"}

// WriteNatsBenchCSV writes the clients in the layout of `nats bench
// --csv` (natscli v0.5.0, NatsBenchCSVHeader), consumers (S) first, so
// both tools' runs go in one spreadsheet. MsgCount is the client's
// messages (natscli counts its connection's messages, acks included).
func (r *BenchResult) WriteNatsBenchCSV(w io.Writer, runID string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(NatsBenchCSVHeader); err != nil {
		return err
	}
	for _, prefix := range []string{"S", "P"} {
		for _, c := range r.Clients {
			if !strings.HasPrefix(c.ID, prefix) {
				continue
			}
			secs := c.Duration.Seconds()
			var rate int64
			var bps float64
			if secs > 0 {
				rate, bps = int64(float64(c.Msgs)/secs), float64(c.Bytes)/secs
			}
			f := func(v float64) string { return fmt.Sprintf("%f", v) }
			if err := cw.Write([]string{runID, c.ID, strconv.FormatInt(c.Msgs, 10), strconv.FormatInt(c.Bytes, 10),
				strconv.FormatInt(rate, 10), f(bps), f(secs), f(c.MinLatencyUs), f(c.AvgLatencyUs), f(c.MaxLatencyUs),
				f(c.P50LatencyUs), f(c.P90LatencyUs), f(c.P99LatencyUs), f(c.P999LatencyUs), f(c.StdDevLatencyUs)}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
