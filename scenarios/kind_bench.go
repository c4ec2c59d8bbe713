package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/reports"
	"jetstorm/stats"
	"jetstorm/workloads"
)

// BenchOptions are the bench workload's own keys of the workload section:
// P publishers and C consumers on one stream, open loop at rate for
// duration, or through steps; async publishes, at most window in flight per
// publisher.
type BenchOptions struct {
	// Publish is how publishers publish: async (default: up to window in
	// flight), sync (one in flight: each waits for its ack, window 1),
	// batch (atomic batches of batch_size messages, each acked once at its
	// commit; nats-server 2.12+; batch_size default 100), or fast (fast
	// ingest batches of batch_size messages, default 1000, acked by the
	// server's flow acks, window unacked at most; nats-server 2.14+).
	// batch_size is the batch workload's key (Workload.Batch.BatchSize).
	Publish string `yaml:"publish,omitempty"`
	// Op is what the publishers do: publish (default) to the stream, or
	// kv-put / kv-get on a KV bucket named after the stream, over keys
	// keys (the kv workload's key; default 1000 here) picked by key_dist
	// (uniform or zipf), with kv_history revisions kept per key.
	Op string `yaml:"op,omitempty"`
	// Consume is how consumers read: the durable pull consumer with the
	// callback API (consume, default) or fetch (pull batches of 256), the
	// durable push consumer in one deliver group (push), or each consumer
	// every message: its own ordered consumer (ordered) or batched direct
	// gets by sequence (direct, 256 a request, answered by any replica).
	// AckPolicy is the durable's: explicit (default), all (every 100th
	// message acked) or none (ordered and direct: none, the only one);
	// double_ack (the consume workload's key; default false here): each
	// ack waits for the server's confirmation.
	Consume string `yaml:"consume,omitempty"`
	// DirectBatch (consume: direct): messages per batched direct get,
	// default 256; 1: one direct get by sequence per message.
	DirectBatch int         `yaml:"direct_batch,omitempty"`
	AckPolicy   string      `yaml:"ack_policy,omitempty"`
	KeyDist     string      `yaml:"key_dist,omitempty"`
	KVHistory   int         `yaml:"kv_history,omitempty"`
	Publishers  int         `yaml:"publishers,omitempty"` // default 4
	Consumers   *int        `yaml:"consumers,omitempty"`  // default 1; 0: publish only
	Subjects    int         `yaml:"subjects,omitempty"`   // default 1
	Window      int         `yaml:"window,omitempty"`     // default 256
	Steps       []BenchStep `yaml:"steps,omitempty"`      // default: one step of rate for duration
	// MsgID: every message carries a unique Nats-Msg-Id (the stream
	// deduplicates within its 2-minute window: its cost). PayloadData is
	// random (default: incompressible bytes) or text (compressible; with
	// stream.compression: s2 it is stored compressed). SubjectChoice is
	// how a publisher picks its next of the subjects: round-robin
	// (default) or random.
	MsgID         bool   `yaml:"msg_id,omitempty"`
	PayloadData   string `yaml:"payload_data,omitempty"`
	SubjectChoice string `yaml:"subject_choice,omitempty"`
	// Backlog is OMB's backlog test: the consumers wait until the
	// publishers have built a backlog of size bytes (acked payload), then
	// drain it while the publishers go on with their steps (or stop, with
	// stop_publishing); reported: the drain rate and the time until every
	// consumer caught up, with each consumer's lag per second.
	Backlog *BacklogOptions `yaml:"backlog,omitempty"`
	// UnavailableAfter: a span longer than this in which no publisher got
	// an ack is an outage (bench under faults). Default 1s.
	UnavailableAfter Duration `yaml:"unavailable_after,omitempty"`
}

// BacklogOptions are the bench's backlog keys.
type BacklogOptions struct {
	Size           DataSize `yaml:"size"` // e.g. 1GiB
	StopPublishing bool     `yaml:"stop_publishing,omitempty"`
}

// BenchStep is one offered rate held for a while.
type BenchStep struct {
	Rate     float64  `yaml:"rate"`
	Duration Duration `yaml:"duration"`
}

// Capacity is a capacity search (bench workload): raise the offered rate
// from start by factor, step by step, until publish p99 breaks slo_p99 or
// the acks fall below 95 % of offered; report the highest rate that held.
type Capacity struct {
	SLOP99   Duration `yaml:"slo_p99"`   // e.g. 20ms
	Start    float64  `yaml:"start"`     // first rate; default 1000
	Factor   float64  `yaml:"factor"`    // default 1.5
	Step     Duration `yaml:"step"`      // each step's length; default 10s
	MaxSteps int      `yaml:"max_steps"` // default 15
	Warmup   Duration `yaml:"warmup"`    // unjudged run at start first; default 5s
	// Axis is what the search raises: rate (default) or streams (start
	// streams, default 10, times factor each step, each offered
	// rate_per_stream msgs/s, default 10): the most streams the cluster
	// holds with the SLO.
	Axis          string  `yaml:"axis"`
	RatePerStream float64 `yaml:"rate_per_stream"`
}

// benchKind: an open-loop benchmark in steps or a capacity search. It
// records per-second windows (bench.json), not a per-message history, and
// has no correctness verdict: "none", unless a check (crashes) found one.
var benchKind = &Kind{
	Defaults:  benchDefaults,
	Validate:  benchValidate,
	New:       newBench,
	Duration:  benchDuration,
	Checkers:  func(o CheckOptions) []checker.Checker { return []checker.Checker{benchCheck{o}} },
	Save:      saveBench,
	Results:   benchSection,
	Benchmark: true,
	Print:     PrintBench,
}

func benchDefaults(s *Scenario) {
	w := &s.Workload.Bench
	setDefault(s, &w.Publishers, "workload.publishers", 4)
	setDefault(s, &w.Op, "workload.op", "publish")
	setDefault(s, &w.Consume, "workload.consume", workloads.ConsumeCallback)
	defaultPtr(&s.Workload.Consume.DoubleAck, false)
	if w.Consume == workloads.ConsumeDirect {
		setDefault(s, &w.DirectBatch, "workload.direct_batch", 256)
	}
	if workloads.FanOut(w.Consume) {
		setDefault(s, &w.AckPolicy, "workload.ack_policy", workloads.AckNone)
	}
	setDefault(s, &w.AckPolicy, "workload.ack_policy", workloads.AckExplicit)
	if w.Consumers == nil {
		n := 1
		if w.Op != "publish" || s.Capacity != nil && s.Capacity.Axis == workloads.AxisStreams {
			n = 0 // a KV bench has no consumers; a search over streams reads none
		}
		w.Consumers = &n
	}
	if w.Op == workloads.KVPut || w.Op == workloads.KVGet {
		setDefault(s, &s.Workload.KV.Keys, "workload.keys", 1000)
		setDefault(s, &w.KeyDist, "workload.key_dist", "uniform")
		setDefault(s, &w.KVHistory, "workload.kv_history", 1)
	}
	setDefault(s, &w.Subjects, "workload.subjects", 1)
	setDefault(s, &w.PayloadData, "workload.payload_data", "random")
	if w.Op == "publish" {
		setDefault(s, &w.SubjectChoice, "workload.subject_choice", "round-robin")
	}
	setDefault(s, &w.Publish, "workload.publish", "async")
	if w.Publish == "sync" {
		setDefault(s, &w.Window, "workload.window", 1)
	}
	if bs := &s.Workload.Batch.BatchSize; w.Publish == "batch" {
		setDefault(s, bs, "workload.batch_size", 100)
		setDefault(s, &w.Window, "workload.window", max(256, 2**bs))
	}
	if w.Publish == "fast" {
		setDefault(s, &s.Workload.Batch.BatchSize, "workload.batch_size", 1000)
	}
	setDefault(s, &w.Window, "workload.window", 256)
	setDefault(s, &w.UnavailableAfter, "workload.unavailable_after", Duration(time.Second))
	if len(w.Steps) == 0 && !s.given("workload.steps") {
		w.Steps = []BenchStep{{Rate: s.Workload.Rate, Duration: s.Workload.Duration}}
	}
	if cp := s.Capacity; cp != nil {
		setDefault(s, &cp.Axis, "capacity.axis", "rate")
		if cp.Axis == workloads.AxisStreams {
			setDefault(s, &cp.Start, "capacity.start", 10)
			setDefault(s, &cp.RatePerStream, "capacity.rate_per_stream", 10)
		}
		setDefault(s, &cp.Start, "capacity.start", 1000)
		setDefault(s, &cp.Factor, "capacity.factor", 1.5)
		setDefault(s, &cp.Step, "capacity.step", Duration(10*time.Second))
		setDefault(s, &cp.MaxSteps, "capacity.max_steps", 15)
		setDefault(s, &cp.Warmup, "capacity.warmup", Duration(5*time.Second))
	}
}

func benchValidate(s *Scenario, check checkFunc) {
	w := s.Workload.Bench
	check(w.Publishers >= 1 && w.Publishers <= 1000, "workload.publishers", "must be 1..1000, got %d", w.Publishers)
	check(*w.Consumers >= 0 && *w.Consumers <= 1000, "workload.consumers", "must be 0..1000, got %d", *w.Consumers)
	check(w.Subjects >= 1, "workload.subjects", "must be at least 1")
	check(w.Window >= 1, "workload.window", "must be at least 1")
	check(w.Publish == "async" || w.Publish == "sync" || w.Publish == "batch" || w.Publish == "fast", "workload.publish",
		"must be async, sync, batch or fast, got %q", w.Publish)
	check(slices.Contains([]string{workloads.ConsumeCallback, workloads.ConsumeFetch, workloads.ConsumePush, workloads.ConsumeOrdered,
		workloads.ConsumeDirect}, w.Consume), "workload.consume", "must be consume, fetch, push, ordered or direct, got %q", w.Consume)
	if workloads.FanOut(w.Consume) {
		check(w.AckPolicy == workloads.AckNone, "workload.ack_policy", "must be none with consume: %s (it does not ack)", w.Consume)
	}
	direct := w.Consume == workloads.ConsumeDirect
	check(!direct && w.DirectBatch == 0 || direct && w.DirectBatch >= 1 && w.DirectBatch <= 10000, "workload.direct_batch",
		"is for consume: direct, 1..10000, got %d", w.DirectBatch)
	check(!*s.Workload.Consume.DoubleAck || w.AckPolicy != workloads.AckNone, "workload.double_ack", "needs ack_policy explicit or all")
	check(w.AckPolicy == workloads.AckExplicit || w.AckPolicy == workloads.AckAll || w.AckPolicy == workloads.AckNone,
		"workload.ack_policy", "must be explicit, all or none, got %q", w.AckPolicy)
	kv := w.Op == workloads.KVPut || w.Op == workloads.KVGet
	check(w.PayloadData == "random" || w.PayloadData == "text", "workload.payload_data", "must be random or text, got %q", w.PayloadData)
	check(w.SubjectChoice == "round-robin" || w.SubjectChoice == workloads.SubjectsRandom || kv, "workload.subject_choice",
		"must be round-robin or random, got %q", w.SubjectChoice)
	check(w.Op == "publish" || kv, "workload.op", "must be publish, kv-put or kv-get, got %q", w.Op)
	if kv {
		check(*w.Consumers == 0, "workload.consumers", "must be 0 with op %s (a KV bench has no consumers)", w.Op)
		check(w.Publish != "batch" && w.Publish != "fast", "workload.publish", "%s is for op: publish", w.Publish)
		check(s.Workload.KV.Keys >= 1, "workload.keys", "must be at least 1, got %d", s.Workload.KV.Keys)
		check(w.KeyDist == "uniform" || w.KeyDist == "zipf", "workload.key_dist", "must be uniform or zipf, got %q", w.KeyDist)
		check(!w.MsgID || w.Op == workloads.KVPut, "workload.msg_id", "is for publishes (op: publish or kv-put)")
		check(w.SubjectChoice == "", "workload.subject_choice", "is for op: publish (a KV bench picks keys by key_dist)")
		check(w.KVHistory >= 1 && w.KVHistory <= 64, "workload.kv_history", "must be 1..64, got %d", w.KVHistory)
	} else {
		check(w.KeyDist == "" && w.KVHistory == 0, "workload.key_dist", "and kv_history are for op: kv-put or kv-get")
	}
	bs := s.Workload.Batch.BatchSize
	check(bs == 0 || w.Publish == "batch" || w.Publish == "fast", "workload.batch_size", "is for publish: batch or fast")
	if w.Publish == "fast" {
		check(bs >= 1 && bs <= 1_000_000, "workload.batch_size", "must be 1..1000000, got %d", bs)
	}
	if w.Publish == "batch" {
		// The server's limit on an atomic batch is 1000 messages.
		check(bs >= 2 && bs <= 1000, "workload.batch_size", "must be 2..1000, got %d", bs)
		check(w.Window >= bs, "workload.window", "is %d, less than batch_size %d: a batch holds its messages' window slots until its commit is acked", w.Window, bs)
	}
	check(w.Publish != "sync" || w.Window == 1, "workload.window", "is %d, but publish: sync has one publish in flight (window 1)", w.Window)
	if bl := w.Backlog; bl != nil {
		check(bl.Size > 0, "workload.backlog.size", "must be positive (e.g. 1GiB)")
		check(*w.Consumers >= 1, "workload.backlog", "needs consumers (they drain it)")
		check(s.Capacity == nil, "workload.backlog", "and capacity: give one")
	}
	check(w.UnavailableAfter > 0, "workload.unavailable_after", "must be positive")
	check(s.Workload.Payload >= 16, "workload.payload", "must be at least 16B for the bench workload (it carries the send time)")
	check(len(w.Steps) > 0, "workload.steps", "must not be empty")
	for i, st := range w.Steps {
		k := fmt.Sprintf("workload.steps[%d]", i)
		check(st.Rate > 0 && st.Rate <= 1e7, k, "rate must be > 0 and <= 10000000, got %v", st.Rate)
		check(st.Duration > 0, k, "duration must be positive")
	}
	if cp := s.Capacity; cp != nil {
		check(cp.SLOP99 > 0, "capacity.slo_p99", "must be positive (e.g. 20ms)")
		check(cp.Start > 0, "capacity.start", "must be positive")
		check(cp.Factor > 1, "capacity.factor", "must be > 1")
		check(cp.Step > 0, "capacity.step", "must be positive")
		check(cp.MaxSteps >= 1 && cp.MaxSteps <= 100, "capacity.max_steps", "must be 1..100")
		check(cp.Warmup >= 0, "capacity.warmup", "must not be negative")
		check(cp.Axis == "rate" || cp.Axis == workloads.AxisStreams, "capacity.axis", "must be rate or streams, got %q", cp.Axis)
		if cp.Axis == workloads.AxisStreams {
			check(cp.Start >= 1 && cp.Start <= 100000 && cp.Start == float64(int(cp.Start)), "capacity.start", "is a number of streams: a whole number 1..100000, got %v", cp.Start)
			check(cp.RatePerStream > 0, "capacity.rate_per_stream", "must be positive")
			check(w.Op == "publish", "capacity.axis", "streams is for op: publish")
		} else {
			check(cp.RatePerStream == 0, "capacity.rate_per_stream", "is for axis: streams")
		}
	}
}

func newBench(s *Scenario, ro RunOptions) workloads.Workload {
	w := s.Workload
	var steps []workloads.BenchStep
	for _, st := range w.Bench.Steps {
		steps = append(steps, workloads.BenchStep{Rate: st.Rate, Duration: st.Duration.D()})
	}
	streams := 1
	if cp := s.Capacity; cp != nil && cp.Axis == workloads.AxisStreams {
		streams = int(cp.Start) // the search starts with these
	}
	bw := &workloads.BenchWorkload{B: workloads.NewBench(workloads.BenchOptions{
		Streams: streams, Stream: s.stream,
		Subjects: w.Bench.Subjects, Replicas: s.Stream.Replicas, Memory: s.Stream.Storage == "memory",
		Publishers: w.Bench.Publishers, Consumers: *w.Bench.Consumers, Payload: w.Payload.Bytes(),
		Steps: steps, Window: w.Bench.Window, Timeout: w.Timeout.D(), UnavailableAfter: w.Bench.UnavailableAfter.D(),
		BatchSize: w.Batch.BatchSize, FastBatch: w.Bench.Publish == "fast", KV: benchKV(s), ConsumeMode: w.Bench.Consume, AckPolicy: w.Bench.AckPolicy,
		DoubleAck:   *w.Consume.DoubleAck,
		DirectBatch: w.Bench.DirectBatch,
		Shard:       ro.Shard, Shards: ro.Shards, ShardKey: ro.StartAt.UTC().Format(time.RFC3339Nano),
		Backlog: benchBacklog(w.Bench.Backlog),
		MsgID:   w.Bench.MsgID, TextPayload: w.Bench.PayloadData == "text", Compression: s.Stream.Compression == "s2",
		SubjectChoice: w.Bench.SubjectChoice,
	})}
	bw.StartAt = ro.StartAt
	if cp := s.Capacity; cp != nil {
		bw.Capacity = &workloads.CapacityOptions{SLOP99: cp.SLOP99.D(), Start: cp.Start, Factor: cp.Factor,
			Step: cp.Step.D(), MaxSteps: cp.MaxSteps, Warmup: cp.Warmup.D(), Axis: cp.Axis, RatePerStream: cp.RatePerStream}

	}
	return bw
}

func benchDuration(s *Scenario) time.Duration {
	if cp := s.Capacity; cp != nil {
		return cp.Warmup.D() + time.Duration(cp.MaxSteps)*cp.Step.D()
	}
	var d time.Duration
	for _, st := range s.Workload.Bench.Steps {
		d += st.Duration.D()
	}
	return d
}

// saveBench writes bench.json, bench.csv (and capacity.json). Window start
// times are shifted to the history's time origin, so they line up with the
// fault ops.
func saveBench(wl workloads.Workload, o SaveOptions) error {
	bw := wl.(*workloads.BenchWorkload)
	r := bw.Result
	if r == nil {
		r = &stats.BenchResult{}
	}
	r.Origin, r.Clock = o.Origin, bw.Clock
	if !bw.Started.IsZero() {
		off := bw.Started.Sub(o.Origin)
		r.ScheduleStart = off
		for i := range r.Windows {
			r.Windows[i].Start += off
		}
		for i := range r.Outages {
			r.Outages[i].Start += off
			r.Outages[i].End += off
		}
	}
	bo := bw.B.Options()
	return writeBenchFiles(o.Dir, r, bw.CapResult, stats.OMBMeta{Workload: o.Scenario,
		Driver:      "jetstorm (nats-server, " + storageName(bo.Memory) + ", R" + strconv.Itoa(bo.Replicas) + ")",
		MessageSize: int64(bo.Payload), Topics: 1, Partitions: bo.Subjects, Producers: bo.Publishers, Consumers: bo.Consumers})
}

// writeBenchFiles writes a bench's files into dir: bench.json, bench.csv,
// natsbench.csv, omb-result.json (described by omb) and, for a capacity
// search, capacity.json.
func writeBenchFiles(dir string, r *stats.BenchResult, cp *stats.CapacityResult, omb stats.OMBMeta) error {
	var errs []error
	write := func(name string, v any) {
		b, err := json.MarshalIndent(v, "", "  ")
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", name, err))
		}
	}
	write(reports.BenchFile, r)
	writeCSV := func(name string, fill func(*bytes.Buffer) error) {
		var b bytes.Buffer
		err := fill(&b)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", name, err))
		}
	}
	writeCSV(reports.BenchCSVFile, func(b *bytes.Buffer) error { return r.WriteCSV(b) })
	if len(r.Clients) > 0 {
		writeCSV(reports.NatsBenchCSVFile, func(b *bytes.Buffer) error { return r.WriteNatsBenchCSV(b, filepath.Base(dir)) })
	}
	write(reports.OMBFile, r.OMB(omb))
	if cp != nil {
		write(reports.CapacityFile, cp)
	}
	return errors.Join(errs...)
}

// benchFiles reads bench.json and (capacity searches) capacity.json.
func benchFiles(dir string) (*stats.BenchResult, *stats.CapacityResult, error) {
	var r stats.BenchResult
	if err := readJSONFile(filepath.Join(dir, reports.BenchFile), &r); err != nil {
		return nil, nil, err
	}
	var cp stats.CapacityResult
	err := readJSONFile(filepath.Join(dir, reports.CapacityFile), &cp)
	if errors.Is(err, fs.ErrNotExist) {
		return &r, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return &r, &cp, nil
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// benchCheck reports what the benchmark measured. It proves nothing about
// correctness: its verdict is none, or unknown when the run did not get to
// the end (a run error) or nothing was acknowledged (no numbers).
type benchCheck struct{ o CheckOptions }

func (benchCheck) Name() string          { return "bench" }
func (benchCheck) Observe(op history.Op) {} // its numbers are in bench.json

// Result is the check's outcome from the run directory's files.
func (b benchCheck) Result(context.Context) checker.Result {
	res := checker.Result{Name: "bench", Verdict: checker.None}
	r, cp, err := benchFiles(b.o.Dir)
	if err != nil {
		return checker.Result{Name: "bench", Verdict: checker.Unknown, Message: "no benchmark results: " + err.Error()}
	}
	offered, acked, consumed, errs := r.Totals()
	res.Message = fmt.Sprintf("%d offered, %d acked, %d consumed, %d errors", offered, acked, consumed, errs)
	if acked == 0 || len(b.o.RunErrs) > 0 {
		res.Verdict = checker.Unknown // no usable numbers, or the run did not get to the end
	}
	if cp != nil {
		if cp.Axis == workloads.AxisStreams {
			res.Message += fmt.Sprintf("; capacity: %d streams (%.0f msgs/s in all) held p99 <= %.2f ms (stopped %s)", cp.BestStreams, cp.BestRate, cp.SLOP99Ms, cp.Stopped)
		} else {
			res.Message += fmt.Sprintf("; capacity: %.0f msgs/s held p99 <= %.2f ms (stopped %s)", cp.BestRate, cp.SLOP99Ms, cp.Stopped)
		}
	}
	return res
}

// benchSection fills results.json's bench section and headline figures.
func benchSection(dir string, res *reports.Results) error {
	r, cp, err := benchFiles(dir)
	if err != nil {
		return err
	}
	offered, acked, consumed, errs := r.Totals()
	var total time.Duration
	for _, st := range r.Steps {
		total += st.Duration
	}
	if total > 0 {
		res.ThroughputAckedPerS = float64(acked) / total.Seconds()
	}
	if n := len(r.Steps); n > 0 {
		res.PublishLatencyMs = r.Steps[n-1].PubAck // the last (usually the highest) step
	}
	res.Bench = &reports.BenchSummary{Offered: offered, Acked: acked, Consumed: consumed, Errors: errs, Steps: r.Steps, Backlog: r.Backlog}
	if cp != nil {
		res.Bench.CapacityBestRate = cp.BestRate
	}
	faults, err := benchFaults(dir)
	if err != nil {
		return err
	}
	res.Bench.Faults = r.FaultImpacts(faults)
	return nil
}

// benchFaults are the faults the run's history says were injected, with
// their spans (a bench history holds little besides them).
func benchFaults(dir string) ([]stats.FaultImpact, error) {
	var ops []history.Op
	var end time.Duration
	for op, err := range history.Stream(history.File(dir)) {
		if err != nil {
			return nil, err
		}
		end = max(end, op.Time)
		if op.F == history.FFault {
			ops = append(ops, op)
		}
	}
	injected, _ := history.FaultWindows(ops, end)
	var out []stats.FaultImpact
	for _, f := range injected {
		out = append(out, stats.FaultImpact{Kind: f.Kind, Nodes: f.Nodes, Span: stats.Span{Start: f.Start, End: f.End}})
	}
	return out, nil
}

// PrintBench prints one row per bench step (and the capacity search's answer).
func PrintBench(w io.Writer, r *reports.Results) {
	b := r.Bench
	if b == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	streams := len(b.Steps) > 0 && b.Steps[0].Streams > 0 // a capacity search over streams
	col := func(s string) string {
		if streams {
			return s
		}
		return ""
	}
	fmt.Fprintf(tw, "step\t%srate\toffered/s\tacks/s\tconsumed/s\terrors\tack p50\tack p99\tack p99.9\tack max\te2e p50\te2e p99\te2e p99.9\tlag max\t\n", col("streams\t"))
	for i, st := range b.Steps {
		fmt.Fprintf(tw, "%d\t%s%.0f\t%.0f\t%.0f\t%.0f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t\n", i, col(fmt.Sprintf("%d\t", st.Streams)),
			st.Rate, st.OfferedRate, st.AckThroughput, st.ConsumedRate, st.Errors, st.PubAck.P50, st.PubAck.P99, st.PubAck.P999, st.PubAck.Max,
			st.E2E.P50, st.E2E.P99, st.E2E.P999, st.MaxLag)
	}
	tw.Flush()
	fmt.Fprintln(w, "  (latencies in ms, from each message's intended send time; lag: the most messages a consumer had not been delivered, num_pending)")
	if len(b.Faults) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "fault\tat s\tfor s\tunavailable s\trecovery s\terrors\tp99 before\tp99 during\tp99 after\t\n")
		for _, f := range b.Faults {
			rec := fmt.Sprintf("%.1f", f.Recovery.Seconds())
			if !f.Recovered {
				rec = "never"
			}
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%s\t%d\t%.2f\t%.2f\t%.2f\t\n", history.FaultWindow{Kind: f.Kind, Nodes: f.Nodes}.Label(),
				f.Span.Start.Seconds(), f.Span.Len().Seconds(), f.Unavailable.Seconds(), rec, f.Errors, f.Before.P99, f.During.P99, f.After.P99)
		}
		tw.Flush()
		fmt.Fprintf(w, "  (unavailable: no publisher got an ack for longer than unavailable_after; recovery: from the fault's start until acks/s were back at 90%% of the %d s before it)\n", stats.BaselineWindows)
	}
	if bl := b.Backlog; bl != nil {
		built := "built"
		if !bl.Built {
			built = fmt.Sprintf("not reached (target %v): the schedule ended with", mib(bl.TargetBytes))
		}
		caught := fmt.Sprintf("every consumer caught up (lag <= %d) %.1f s after the drain began", bl.CatchUpLag, bl.CatchUp.Seconds())
		if !bl.CaughtUp {
			caught = fmt.Sprintf("the consumers did not catch up (lag <= %d) by the end", bl.CatchUpLag)
		}
		pubs := "publishers went on"
		if bl.StopPublishing {
			pubs = "publishers stopped"
		}
		fmt.Fprintf(w, "  backlog %s %s (%d msgs) in %.1f s; drained at %.0f msgs/s (%s); %s\n", built, mib(bl.Bytes), bl.Msgs,
			bl.BuildTime.Seconds(), bl.DrainRate, pubs, caught)
	}
	if len(r.Checks) > 0 {
		if i := strings.Index(r.Checks[0].Message, "capacity: "); i >= 0 {
			fmt.Fprintf(w, "  %s\n", r.Checks[0].Message[i:])
		}
	}
}

func storageName(memory bool) string {
	if memory {
		return "memory"
	}
	return "file"
}

// benchKV is the KV benchmark a bench scenario asks for, nil for op: publish.
func benchKV(s *Scenario) *workloads.BenchKV {
	w := s.Workload.Bench
	if w.Op != workloads.KVPut && w.Op != workloads.KVGet {
		return nil
	}
	return &workloads.BenchKV{Op: w.Op, Keys: s.Workload.KV.Keys, Dist: w.KeyDist, History: w.KVHistory}
}

func benchBacklog(b *BacklogOptions) *workloads.BenchBacklog {
	if b == nil {
		return nil
	}
	return &workloads.BenchBacklog{Bytes: int64(b.Size), StopPublishing: b.StopPublishing}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
