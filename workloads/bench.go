package workloads

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/stats"
)

// The bench workload is an open-loop load generator for JetStream.
//
// Each publisher follows a schedule of intended send times (its share of
// the step's rate, staggered against the other publishers) and publishes
// asynchronously with at most Window publishes in flight. When the window
// is full the publisher blocks, but the schedule does not: every latency is
// measured from the intended send time, so time spent queued behind a slow
// server is part of the reported latency (no coordinated omission). After
// a stall the backlog is sent at once; intended sends more than backlogCap
// behind are skipped and counted as offered and as errors.
//
// Latencies go into HdrHistograms (1 µs .. 60 s, 3 significant figures),
// one set per goroutine that records them, per window, merged at the end.

// The intended send time of a bench message (unix nanoseconds, big endian)
// is in the first 8 bytes of its payload.

const (
	benchConsumer = "bench"
	// defaultBacklogCap is how far a publisher may fall behind its schedule
	// before it skips intended sends (counted as errors) instead of sending them.
	defaultBacklogCap = 10 * time.Second
	// Consumers go on after the publishers until they have read everything
	// acked, or nothing came for benchDrainIdle, or benchDrainMax passed.
	benchDrainIdle = 3 * time.Second
	benchDrainMax  = 60 * time.Second
	// benchBacklogDrainMax: a backlog may take long to drain (it is
	// still cut short when nothing comes for benchDrainIdle).
	benchBacklogDrainMax = 30 * time.Minute
)

// BenchStep is one step of the offered load.
type BenchStep struct {
	Rate     float64       `json:"rate"`     // offered msgs/s over all publishers
	Duration time.Duration `json:"duration"` // nanoseconds in JSON
}

// BenchOptions configures the bench workload.
type BenchOptions struct {
	Stream   string // default "bench"; subjects "<stream>.<i>"
	Subjects int    // default 1; publisher p publishes round-robin over subjects
	// Streams (default 1): the bench's streams are <stream>, <stream>-1,
	// ..., each with Subjects subjects; publishers go over all of them.
	// Consumers read <stream> only.
	Streams  int
	Replicas int  // default 1
	Memory   bool // memory storage instead of file
	// Publishers defaults to 1. Consumers is taken as given: 0 = publish only.
	Publishers, Consumers int
	Payload               int // bytes; default 128, at least 16
	Steps                 []BenchStep
	Window                int           // max in-flight async publishes per publisher (default 256)
	Timeout               time.Duration // ack timeout (default 5s): an unacked publish past it is an error
	// UnavailableAfter (default 1s): a span longer than this in which no
	// publisher got an ack, though publishes were wanted, is an outage.
	UnavailableAfter time.Duration
	// BatchSize > 1: publishers send atomic batches of this many messages
	// (the stream allows atomic publish; nats-server 2.12+), each acked
	// once, at its commit; every message's latency runs from its own
	// intended send time to that ack.
	BatchSize int
	// FastBatch: publishers send fast batches (fast ingest; the stream
	// allows batched publish; nats-server 2.14+) of BatchSize messages,
	// acked by the server's flow acks; Window bounds the unacked messages.
	FastBatch bool
	// KV, when set, makes it a KV benchmark (BenchKV): no consumers, no
	// batches.
	KV *BenchKV
	// ConsumeMode is how consumers read: the durable pull consumer with
	// the callback API (consume, default) or Fetch in a loop (fetch), the
	// durable push consumer in one deliver group (push), or each consumer
	// all messages: its own ordered consumer (ordered) or batched direct
	// gets by sequence, answered by any replica (direct).
	ConsumeMode string
	// AckPolicy is the durable's: explicit (default: every message acked),
	// all (every 100th acked, acking those before) or none. DoubleAck:
	// each ack waits for the server's confirmation.
	AckPolicy string
	DoubleAck bool
	// DirectBatch is a direct reader's batch (default 256); 1: one direct
	// get by sequence per message (no lag: the reply has no num_pending).
	DirectBatch int
	// Shards > 1: this generator is shard Shard (0-based) of Shards that
	// run one bench together: it runs publishers and consumers i with
	// i mod Shards == Shard (publisher ids, and so the schedule, stay
	// global). Shard 0 sets the stream up, marked with ShardKey in its
	// metadata; the others wait for that mark.
	Shard, Shards int
	ShardKey      string
	// Backlog, when set, is OMB's backlog test: consumers start only once
	// the publishers have built a backlog of this many bytes (acked
	// payload), then drain it, while the publishers go on (or stop).
	Backlog *BenchBacklog
	// MsgID: every message carries a unique Nats-Msg-Id (the stream's
	// deduplication at work, and its cost).
	MsgID bool
	// TextPayload: the payload is repeated text (compressible) instead
	// of random bytes; with Compression the stream stores it S2-compressed.
	TextPayload, Compression bool
	// SubjectChoice is how a publisher picks its next subject: round-robin
	// (default) or random (uniform).
	SubjectChoice string
}

// Bench is the bench workload.
type Bench struct {
	o          BenchOptions
	payload    []byte
	backlogCap time.Duration
	newPub     publisherFactory // replaced by a fake in tests
}

// NewBench applies the defaults to o.
func NewBench(o BenchOptions) *Bench {
	if o.Stream == "" {
		o.Stream = "bench"
	}
	if o.Subjects <= 0 {
		o.Subjects = 1
	}
	if o.Streams <= 0 {
		o.Streams = 1
	}
	if o.DirectBatch <= 0 {
		o.DirectBatch = benchReadBatch
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Publishers <= 0 {
		o.Publishers = 1
	}
	if o.Consumers < 0 {
		o.Consumers = 0
	}
	if o.Payload == 0 {
		o.Payload = 128
	}
	if o.Payload < 16 {
		o.Payload = 16
	}
	if o.Window <= 0 {
		o.Window = 256
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.ConsumeMode == "" {
		o.ConsumeMode = ConsumeCallback
	}
	if o.AckPolicy == "" {
		o.AckPolicy = AckExplicit
	}
	if o.KV != nil {
		kv := *o.KV
		kv.withDefaults()
		o.KV = &kv
	}
	if o.Window < o.BatchSize && !o.FastBatch {
		o.Window = o.BatchSize // a batch holds its messages' window slots until its commit is acked
	}
	if o.UnavailableAfter <= 0 {
		o.UnavailableAfter = time.Second
	}
	// One shared, read-only, incompressible payload: the client copies it
	// into its write buffer, so publishes need not allocate one.
	payload := make([]byte, o.Payload)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		if o.TextPayload {
			payload[i] = benchText[i%len(benchText)]
		} else {
			payload[i] = byte(r.Uint32())
		}
	}
	b := &Bench{o: o, payload: payload, backlogCap: defaultBacklogCap}
	b.newPub = func(i int, url string, done func(sent int64, err error)) (asyncPublisher, error) {
		ro := rawPubOptions{Window: b.o.Window, BatchSize: b.o.BatchSize, Timeout: b.o.Timeout,
			NoPayload: b.o.KV != nil && b.o.KV.Op == KVGet, MsgID: b.o.MsgID}
		if b.o.FastBatch {
			return newFastPublisher(i, url, ro, done)
		}
		return newRawPublisher(i, url, ro, done)
	}
	return b
}

// BenchBacklog configures a backlog build and drain.
type BenchBacklog struct {
	Bytes int64 // acked payload bytes before the consumers start
	// StopPublishing: the publishers stop when the drain starts (default:
	// they go on with their schedule, as in OMB's backlog test).
	StopPublishing bool
}

// mine reports whether client i (publisher or consumer) is this shard's.
func (b *Bench) mine(i int) bool { return b.o.Shards <= 1 || i%b.o.Shards == b.o.Shard }

// benchText fills a compressible payload.
const benchText = "jetstorm bench payload: the quick brown fox jumps over the lazy dog. "

// Options returns the options with defaults applied.
func (b *Bench) Options() BenchOptions { return b.o }

// streamName is stream k of the bench: its stream, then <stream>-1, ...
func (b *Bench) streamName(k int) string {
	if k == 0 {
		return b.o.Stream
	}
	return b.o.Stream + "-" + strconv.Itoa(k)
}

// pubSubjects are the subjects publishers send to: each stream's
// subjects, stream by stream.
func (b *Bench) pubSubjects() []string {
	if b.o.KV != nil {
		return b.kvSubjects()
	}
	var subjects []string
	for k := 0; k < b.o.Streams; k++ {
		for i := 0; i < b.o.Subjects; i++ {
			subjects = append(subjects, b.streamName(k)+"."+strconv.Itoa(i))
		}
	}
	return subjects
}

// StreamName is the stream under test: the bench's, or its KV bucket's.
func (b *Bench) StreamName() string {
	if b.o.KV != nil {
		return "KV_" + b.o.Stream
	}
	return b.o.Stream
}

// Setup deletes the stream if it exists and creates it afresh, with the
// durable pull consumer "bench" (explicit ack) if there are consumers.
func (b *Bench) Setup(ctx context.Context, urls []string) error {
	nc, js, err := dialJS(urls)
	if err != nil {
		return fmt.Errorf("bench setup: %w", err)
	}
	defer nc.Close()
	if b.o.Shards > 1 && b.o.Shard > 0 {
		return b.awaitShardSetup(ctx, js)
	}
	// Retry: right after the cluster forms, the meta leader may still be settling.
	return retry(ctx, "bench setup: stream "+b.o.Stream, func(ctx context.Context) error { return b.setup(ctx, js) })
}

// shardMark is the stream metadata key shard 0 sets to the shards' key.
const shardMark = "jetstorm.shards"

// awaitShardSetup waits until shard 0 has set the stream up for this run
// (its metadata carries the run's shard key).
// It gives up at the start time (the key, when it is one).
func (b *Bench) awaitShardSetup(ctx context.Context, js jetstream.JetStream) error {
	deadline := time.Now().Add(time.Minute)
	if t, err := time.Parse(time.RFC3339Nano, b.o.ShardKey); err == nil {
		deadline = t
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for {
		st, err := js.Stream(ctx, b.StreamName())
		if err == nil && st.CachedInfo().Config.Metadata[shardMark] == b.o.ShardKey {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench shard %d/%d: shard 1 did not set up stream %s for this run (%s) by its start: %w",
				b.o.Shard+1, b.o.Shards, b.StreamName(), b.o.ShardKey, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (b *Bench) setup(ctx context.Context, js jetstream.JetStream) error {
	if b.o.KV != nil {
		return b.setupKV(ctx, js)
	}
	// The bench's stream and any <stream>-<k> a multi-stream bench left.
	for name, err := range streamNames(ctx, js) {
		if err != nil {
			return fmt.Errorf("list streams: %w", err)
		}
		if name != b.o.Stream && !isExtraStream(name, b.o.Stream) {
			continue
		}
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("delete stream %s: %w", name, err)
		}
	}
	st, err := js.CreateStream(ctx, b.streamConfig(0))
	if err != nil {
		return fmt.Errorf("create stream: %w", err)
	}
	if err := b.createStreams(ctx, js, 1, b.o.Streams); err != nil {
		return err
	}
	if b.o.Consumers == 0 || FanOut(b.o.ConsumeMode) {
		return nil
	}
	ack := map[string]jetstream.AckPolicy{AckExplicit: jetstream.AckExplicitPolicy, AckAll: jetstream.AckAllPolicy,
		AckNone: jetstream.AckNonePolicy}[b.o.AckPolicy]
	cfg := jetstream.ConsumerConfig{
		Durable:       benchConsumer,
		AckPolicy:     ack,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       30 * time.Second,
		// Generous: the consumers ack at once, so this only has to cover
		// what sits in client buffers; it must never throttle delivery.
		MaxAckPending: 1 << 20,
	}
	if b.o.ConsumeMode == ConsumePush {
		cfg.DeliverSubject, cfg.DeliverGroup = benchDeliverPrefix+b.o.Stream, benchConsumer
		_, err = st.CreateOrUpdatePushConsumer(ctx, cfg)
	} else {
		_, err = st.CreateOrUpdateConsumer(ctx, cfg)
	}
	if err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	return nil
}

func (b *Bench) streamConfig(k int) jetstream.StreamConfig {
	storage := storageOf(b.o.Memory)
	name := b.streamName(k)
	var meta map[string]string
	if b.o.Shards > 1 {
		meta = map[string]string{shardMark: b.o.ShardKey}
	}
	return jetstream.StreamConfig{
		Metadata: meta,
		Name:     name, Subjects: []string{name + ".>"},
		Replicas: b.o.Replicas, Storage: storage, AllowAtomicPublish: b.o.BatchSize > 1 && !b.o.FastBatch,
		AllowBatchPublish: b.o.FastBatch,
		Compression:       compression(b.o.Compression),
		AllowDirect:       b.o.ConsumeMode == ConsumeDirect,
	}
}

// createStreams creates the bench's streams from..to-1 (those that exist
// are kept as they are).
func (b *Bench) createStreams(ctx context.Context, js jetstream.JetStream, from, to int) error {
	for k := from; k < to; k++ {
		if _, err := js.CreateOrUpdateStream(ctx, b.streamConfig(k)); err != nil {
			return fmt.Errorf("create stream %s (%d of %d): %w", b.streamName(k), k+1, to, err)
		}
	}
	return nil
}

// AddStreams creates the bench's streams from..to-1 (a capacity search
// over the number of streams grows the cluster's streams step by step).
func (b *Bench) AddStreams(ctx context.Context, urls []string, from, to int) error {
	nc, js, err := dialJS(urls)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer nc.Close()
	return b.createStreams(ctx, js, from, to)
}

// dialJS connects to any of urls for the bench's setup.
func dialJS(urls []string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := clusters.Connect(strings.Join(urls, ","), nats.MaxReconnects(-1))
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// isExtraStream reports whether name is <stream>-<k>.
func isExtraStream(name, stream string) bool {
	k, ok := strings.CutPrefix(name, stream+"-")
	if !ok || k == "" {
		return false
	}
	_, err := strconv.Atoi(k)
	return err == nil
}

// streamNames lists the stream names.
func streamNames(ctx context.Context, js jetstream.JetStream) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		l := js.StreamNames(ctx)
		for name := range l.Name() {
			if !yield(name, nil) {
				return
			}
		}
		if err := l.Err(); err != nil {
			yield("", err)
		}
	}
}

func compression(s2 bool) jetstream.StoreCompression {
	if s2 {
		return jetstream.S2Compression
	}
	return jetstream.NoCompression
}

// errSampler keeps a few distinct error messages.
type errSampler struct {
	full atomic.Bool // fast path: errors can come at the full publish rate
	mu   sync.Mutex
	msgs []string
}

func (e *errSampler) add(err error) {
	if e.full.Load() {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.msgs) >= 5 {
		e.full.Store(true)
		return
	}
	s := err.Error()
	for _, m := range e.msgs {
		if m == s {
			return
		}
	}
	e.msgs = append(e.msgs, s)
}

// benchRun is the state of one Run.
type benchRun struct {
	b       *Bench
	wins    *benchWindows
	start   time.Time
	startNs int64
	errs    errSampler

	// Backlog: acks so far; the drain's start (offset from start, set
	// once); closed to stop the publishers (backlog stop_publishing).
	acks       atomic.Int64
	drainStart atomic.Int64
	stopPub    chan struct{}
	catchUp    int64 // a consumer with at most this lag has caught up
}

// Run drives the schedule, which begins at start (if zero: just after the
// clients have connected). Publisher and consumer i connect to urls[i mod
// len(urls)]. After the schedule, publishers wait for their in-flight
// acks (up to Timeout) and consumers go on until they have read as many
// messages as were acked (or nothing came for 3 s, or 60 s passed). If ctx
// ends first, Run returns what it measured so far with ctx's error.
func (b *Bench) Run(ctx context.Context, urls []string, start time.Time) (*stats.BenchResult, error) {
	if len(urls) == 0 {
		return nil, errors.New("bench: no client URLs")
	}
	if len(b.o.Steps) == 0 {
		return nil, errors.New("bench: no steps")
	}
	r := &benchRun{b: b, wins: newBenchWindows(b.o.Steps)}
	nw := r.wins.n() + 1

	cons := make([]*benchCons, 0, b.o.Consumers)
	stopCons := func() {
		for _, c := range cons {
			c.stop()
		}
	}
	for i := 0; i < b.o.Consumers; i++ {
		if !b.mine(i) {
			continue
		}
		c, err := r.attachConsumer(ctx, i, urls[i%len(urls)])
		if err != nil {
			stopCons()
			return nil, fmt.Errorf("bench: %w", err)
		}
		c.consumed = make([]int64, nw)
		cons = append(cons, c)
	}
	pubs := make([]*benchPub, 0, b.o.Publishers)
	for i := 0; i < b.o.Publishers; i++ {
		if !b.mine(i) {
			continue
		}
		p := &benchPub{r: r, id: i, sem: make(chan struct{}, b.o.Window),
			offered: make([]int64, nw), failed: make([]int64, nw),
			acked: make([]int64, nw), ackErrs: make([]int64, nw), ackRecv: make([]int64, nw),
			gaps: stats.GapTracker{After: b.o.UnavailableAfter}}
		pp, err := b.newPub(i, urls[i%len(urls)], p.done)
		if err != nil {
			for _, q := range pubs {
				q.pub.close()
			}
			stopCons()
			return nil, fmt.Errorf("bench: publisher %d: %w", i, err)
		}
		p.pub = pp
		pubs = append(pubs, p)
	}

	if start.IsZero() {
		start = time.Now().Add(100 * time.Millisecond)
	}
	r.start, r.startNs = start, start.UnixNano()

	startCons := func() error {
		for _, c := range cons {
			if err := c.start(); err != nil {
				return fmt.Errorf("bench: consume: %w", err)
			}
		}
		return nil
	}
	var backlog *backlogWatch
	if b.o.Backlog == nil {
		if err := startCons(); err != nil {
			for _, p := range pubs {
				p.pub.close()
			}
			stopCons()
			return nil, err
		}
	} else if len(cons) > 0 {
		if b.o.Backlog.StopPublishing {
			r.stopPub = make(chan struct{})
		}
		backlog = r.watchBacklog(startCons)
	}

	var wg sync.WaitGroup
	for _, p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.run(ctx)
		}()
	}
	wg.Wait()
	drainMax := benchDrainMax
	if backlog != nil {
		// The schedule ended: drain what there is, built in full or not.
		if err := backlog.stop(); err != nil {
			stopCons()
			return nil, err
		}
		drainMax = benchBacklogDrainMax
	}

	if len(cons) > 0 {
		var acked int64
		for _, p := range pubs {
			for _, n := range p.acked {
				acked += n
			}
		}
		if FanOut(b.o.ConsumeMode) {
			acked *= int64(len(cons)) // each consumer reads them all
		}
		consumed := func() (n int64) {
			for _, c := range cons {
				n += c.count.Load()
			}
			return n
		}
		last, lastAt, giveUp := consumed(), time.Now(), time.Now().Add(drainMax)
		for last < acked && ctx.Err() == nil && time.Since(lastAt) < benchDrainIdle && time.Now().Before(giveUp) {
			time.Sleep(20 * time.Millisecond)
			if n := consumed(); n != last {
				last, lastAt = n, time.Now()
			}
		}
		stopCons()
	}

	res := r.result(pubs, cons)
	if backlog != nil {
		res.Backlog = backlog.result(cons)
	}
	if err := ctx.Err(); err != nil {
		// Drop the windows the run never reached.
		if cut := r.wins.index(time.Since(start)) + 1; cut < len(res.Windows) {
			res.Windows = res.Windows[:cut]
		}
		return res, err
	}
	return res, nil
}
