package workloads

import (
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
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
	benchConsumer  = "bench"
	benchWindowLen = time.Second
	// defaultBacklogCap is how far a publisher may fall behind its schedule
	// before it skips intended sends (counted as errors) instead of sending them.
	defaultBacklogCap = 10 * time.Second
	// Consumers go on after the publishers until they have read everything
	// acked, or nothing came for benchDrainIdle, or benchDrainMax passed.
	benchDrainIdle = 3 * time.Second
	benchDrainMax  = 60 * time.Second
	// histMaxUs is the histograms' highest trackable value (60 s in µs);
	// larger latencies are recorded as 60 s.
	histMaxUs   = 60_000_000
	histSigFigs = 3
	// histRing is the number of dense (fast) histograms each recorder keeps
	// for its most recent windows; older windows are kept packed (sparse).
	histRing = 4
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
	Replicas int    // default 1
	Memory   bool   // memory storage instead of file
	// Publishers defaults to 1. Consumers is taken as given: 0 = publish only.
	Publishers, Consumers int
	Payload               int // bytes; default 128, at least 16
	Steps                 []BenchStep
	Window                int           // max in-flight async publishes per publisher (default 256)
	Timeout               time.Duration // ack timeout (default 5s): an unacked publish past it is an error
}

// Latency summarizes one latency histogram, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

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
}

// BenchResult is the outcome of a run.
type BenchResult struct {
	Windows []BenchWindow     `json:"windows"`
	Steps   []BenchStepResult `json:"steps"`

	errSamples []string // a few distinct publish errors, for diagnostics
}

// ErrorSamples returns up to a few distinct error messages seen in the run.
func (r *BenchResult) ErrorSamples() []string { return r.errSamples }

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
	// One shared, read-only, incompressible payload: the client copies it
	// into its write buffer, so publishes need not allocate one.
	payload := make([]byte, o.Payload)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		payload[i] = byte(r.Uint32())
	}
	b := &Bench{o: o, payload: payload, backlogCap: defaultBacklogCap}
	b.newPub = func(i int, url string, done func(sent int64, err error)) (asyncPublisher, error) {
		return newRawPublisher(i, url, b.o.Window, b.o.Timeout, done)
	}
	return b
}

// Options returns the options with defaults applied.
func (b *Bench) Options() BenchOptions { return b.o }

func (b *Bench) subject(i int) string { return b.o.Stream + "." + strconv.Itoa(i) }

// Setup deletes the stream if it exists and creates it afresh, with the
// durable pull consumer "bench" (explicit ack) if there are consumers.
func (b *Bench) Setup(ctx context.Context, urls []string) error {
	nc, err := nats.Connect(strings.Join(urls, ","), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("bench setup: connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	// Retry: right after the cluster forms, the meta leader may still be settling.
	return retry(ctx, "bench setup: stream "+b.o.Stream, func(ctx context.Context) error { return b.setup(ctx, js) })
}

func (b *Bench) setup(ctx context.Context, js jetstream.JetStream) error {
	if err := js.DeleteStream(ctx, b.o.Stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete stream: %w", err)
	}
	storage := jetstream.FileStorage
	if b.o.Memory {
		storage = jetstream.MemoryStorage
	}
	st, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: b.o.Stream, Subjects: []string{b.o.Stream + ".>"},
		Replicas: b.o.Replicas, Storage: storage,
	})
	if err != nil {
		return fmt.Errorf("create stream: %w", err)
	}
	if b.o.Consumers == 0 {
		return nil
	}
	_, err = st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       benchConsumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       30 * time.Second,
		// Generous: the consumers ack at once, so this only has to cover
		// what sits in client buffers; it must never throttle delivery.
		MaxAckPending: 1 << 20,
	})
	if err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	return nil
}

// ---- publishing side ----

// asyncPublisher sends one message without waiting for its ack. Unless
// publish returns an error, the completion callback given when the
// publisher was made is called exactly once for the message, later and
// possibly from another goroutine, with the message's sent value and nil
// or the error (including the ack timeout).
type asyncPublisher interface {
	// publish sends data to subject with the intended send time sent
	// (unix nanoseconds) in the payload's first 8 bytes.
	publish(subject string, data []byte, sent int64) error
	close()
}

type publisherFactory func(i int, url string, done func(sent int64, err error)) (asyncPublisher, error)

// sentOf reads the intended send time (unix nanoseconds) from the first 8
// bytes of a bench payload (0 if it is too short).
func sentOf(data []byte) int64 {
	if len(data) < 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(data))
}

// ---- windows ----

// benchWindows maps an offset from the run's start to a window index.
// Each step has ceil(duration/1s) windows, so windows never straddle
// steps; after the schedule, windows are one second long (step -1).
type benchWindows struct {
	stepStart []time.Duration // offset of each step
	stepFirst []int           // index of each step's first window
	end       time.Duration   // end of the schedule
	starts    []time.Duration // start of each schedule window
	steps     []int           // step of each schedule window
}

func newBenchWindows(steps []BenchStep) *benchWindows {
	bw := &benchWindows{}
	var off time.Duration
	for i, s := range steps {
		d := max(s.Duration, 0)
		bw.stepStart = append(bw.stepStart, off)
		bw.stepFirst = append(bw.stepFirst, len(bw.starts))
		for w := time.Duration(0); w < d; w += benchWindowLen {
			bw.starts = append(bw.starts, off+w)
			bw.steps = append(bw.steps, i)
		}
		off += d
	}
	bw.end = off
	return bw
}

func (bw *benchWindows) n() int { return len(bw.starts) }

func (bw *benchWindows) index(off time.Duration) int {
	if off < 0 {
		return 0
	}
	if off >= bw.end {
		return len(bw.starts) + int((off-bw.end)/benchWindowLen)
	}
	// The last step starting at or before off; among steps with the same
	// start (empty steps) that is the non-empty one.
	lo, hi := 0, len(bw.stepStart)
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if bw.stepStart[m] <= off {
			lo = m
		} else {
			hi = m
		}
	}
	return bw.stepFirst[lo] + int((off-bw.stepStart[lo])/benchWindowLen)
}

func (bw *benchWindows) window(w int) (start time.Duration, step int) {
	if w < len(bw.starts) {
		return bw.starts[w], bw.steps[w]
	}
	return bw.end + time.Duration(w-len(bw.starts))*benchWindowLen, -1
}

// ---- per-goroutine recording ----

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, histMaxUs, histSigFigs) }

func toMicros(d time.Duration) int64 {
	us := d.Microseconds()
	if us < 1 {
		return 1
	}
	if us > histMaxUs {
		return histMaxUs
	}
	return us
}

// winHist holds one recorder's latencies per window. It is not safe for
// concurrent use. Recent windows are recorded into a small ring of dense
// histograms (a counts array index: fast); when a slot is reused its
// window moves into a packed (sparse) histogram, which also takes the
// rare record for a window older than the ring. A dense histogram of this
// range is ~140 KB, a packed one a few KB, so long runs stay small.
type winHist struct {
	dense  [histRing]*hdrhistogram.Histogram
	denseW [histRing]int
	packed map[int]*hdrhistogram.PackedHistogram
}

func (h *winHist) record(w int, d time.Duration) {
	us := toMicros(d)
	i := w % histRing
	if s := h.dense[i]; s != nil && h.denseW[i] == w {
		_ = s.RecordValue(us)
		return
	}
	s := h.dense[i]
	switch {
	case s == nil:
		s = newHist()
		h.dense[i] = s
	case h.denseW[i] < w:
		h.spill(h.denseW[i], s)
	default: // the slot holds a newer window: w is late
		_ = h.packedFor(w).RecordValue(us)
		return
	}
	h.denseW[i] = w
	_ = s.RecordValue(us)
}

func (h *winHist) packedFor(w int) *hdrhistogram.PackedHistogram {
	if h.packed == nil {
		h.packed = make(map[int]*hdrhistogram.PackedHistogram)
	}
	p := h.packed[w]
	if p == nil {
		p = hdrhistogram.NewPacked(1, histMaxUs, histSigFigs)
		h.packed[w] = p
	}
	return p
}

// spill moves a dense histogram's counts into the packed one of window w.
func (h *winHist) spill(w int, s *hdrhistogram.Histogram) {
	if s.TotalCount() > 0 {
		h.packedFor(w).MergeFrom(s)
		s.Reset()
	}
}

// flush moves everything into the packed histograms and frees the ring.
func (h *winHist) flush() {
	for i, s := range h.dense {
		if s != nil {
			h.spill(h.denseW[i], s)
			h.dense[i] = nil
		}
	}
}

func bump(s *[]int64, w int, n int64) {
	if w >= len(*s) {
		*s = append(*s, make([]int64, w+1-len(*s))...)
	}
	(*s)[w] += n
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
}

// benchPub is one publisher.
type benchPub struct {
	r        *benchRun
	id       int
	pub      asyncPublisher
	sem      chan struct{} // in-flight window: send to take a slot, receive to free one
	inflight atomic.Int64

	// Owned by the publishing goroutine.
	offered, failed []int64 // failed: skipped (backlog cap) or rejected at send
	lastW           int

	// The ack side: completions may come from several library goroutines
	// (reply subscription, ack timers, reconnect handler), so it has its
	// own lock, never shared with another publisher.
	mu                      sync.Mutex
	closed                  bool
	acked, ackErrs, ackRecv []int64 // ackRecv: by ack time
	lat                     winHist
}

// done is the completion callback of one publish.
func (p *benchPub) done(sent int64, err error) {
	now := time.Since(p.r.start) // monotonic
	off := time.Duration(sent - p.r.startNs)
	w := p.r.wins.index(off)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if err != nil {
		bump(&p.ackErrs, w, 1)
	} else {
		bump(&p.acked, w, 1)
		bump(&p.ackRecv, p.r.wins.index(now), 1)
		p.lat.record(w, now-off)
	}
	p.inflight.Add(-1)
	p.mu.Unlock()
	<-p.sem
	if err != nil {
		p.r.errs.add(err)
	}
}

// run follows the schedule. Publisher p of P sends the messages j = p,
// p+P, p+2P, ... of each step at step start + j/rate.
func (p *benchPub) run(ctx context.Context) {
	r := p.r
	b := r.b
	nP := b.o.Publishers
	subjects := make([]string, b.o.Subjects)
	for i := range subjects {
		subjects[i] = b.subject(i)
	}
	next := p.id % len(subjects)
	done := ctx.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	defer p.finish(ctx)
	for si, st := range b.o.Steps {
		if st.Rate <= 0 || st.Duration <= 0 {
			continue
		}
		s0, s1 := r.wins.stepStart[si], r.wins.stepStart[si]+st.Duration
		w0 := r.wins.stepFirst[si]
		per := float64(time.Second) / st.Rate
		for j := p.id; ; j += nP {
			off := s0 + time.Duration(float64(j)*per)
			if off >= s1 {
				break
			}
			w := w0 + int((off-s0)/benchWindowLen)
			late := time.Since(r.start) - off
			if late < 0 {
				timer.Reset(-late)
				select {
				case <-done:
					return
				case <-timer.C:
				}
			} else {
				select {
				case <-done:
					return
				default:
				}
			}
			if late > b.backlogCap {
				bump(&p.offered, w, 1) // too far behind: skip
				bump(&p.failed, w, 1)
				p.lastW = w
				continue
			}
			select { // take a window slot; block if the window is full
			case p.sem <- struct{}{}:
			default:
				select {
				case p.sem <- struct{}{}:
				case <-done:
					return
				}
			}
			bump(&p.offered, w, 1)
			p.lastW = w
			if time.Since(r.start)-off > b.backlogCap { // fell behind while blocked
				<-p.sem
				bump(&p.failed, w, 1)
				continue
			}
			p.inflight.Add(1)
			if err := p.pub.publish(subjects[next], b.payload, r.startNs+int64(off)); err != nil {
				p.inflight.Add(-1)
				<-p.sem
				bump(&p.failed, w, 1)
				r.errs.add(err)
			}
			if next++; next == len(subjects) {
				next = 0
			}
		}
	}
}

// finish waits for the publishes in flight (each is acked, fails or times
// out within Timeout of being sent), then stops recording. Any still
// unresolved count as errors in the window of the last intended send.
func (p *benchPub) finish(ctx context.Context) {
	deadline := time.Now().Add(p.r.b.o.Timeout + 2*time.Second)
	for p.inflight.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	p.mu.Lock()
	p.closed = true
	if n := p.inflight.Load(); n > 0 {
		bump(&p.ackErrs, p.lastW, n)
		p.r.errs.add(fmt.Errorf("%d publishes unresolved at the end of the run", n))
	}
	p.lat.flush()
	p.mu.Unlock()
	p.pub.close()
}

// ---- consuming side ----

type benchCons struct {
	r     *benchRun
	nc    *nats.Conn
	cons  jetstream.Consumer
	cc    jetstream.ConsumeContext
	count atomic.Int64

	mu       sync.Mutex
	closed   bool
	consumed []int64 // by receive window
	lat      winHist // by intended window
}

func (c *benchCons) handle(m jetstream.Msg) {
	now := time.Since(c.r.start)
	sent := sentOf(m.Data())
	c.mu.Lock()
	if !c.closed {
		bump(&c.consumed, c.r.wins.index(now), 1)
		if sent != 0 {
			off := time.Duration(sent - c.r.startNs)
			c.lat.record(c.r.wins.index(off), now-off)
		}
	}
	c.mu.Unlock()
	c.count.Add(1)
	_ = m.Ack()
}

func (r *benchRun) attachConsumer(ctx context.Context, i int, url string) (*benchCons, error) {
	nc, err := connect(url, fmt.Sprintf("jetstorm-bench-sub-%d", i))
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	// Retry for a while: the node may still be (re)connecting.
	deadline := time.Now().Add(15 * time.Second)
	for {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cons, err := js.Consumer(actx, r.b.o.Stream, benchConsumer)
		cancel()
		if err == nil {
			return &benchCons{r: r, nc: nc, cons: cons}, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			nc.Close()
			return nil, fmt.Errorf("consumer %s/%s on %s: %w", r.b.o.Stream, benchConsumer, url, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (c *benchCons) stop() {
	if c.cc != nil {
		c.cc.Stop()
		select {
		case <-c.cc.Closed():
		case <-time.After(2 * time.Second):
		}
	}
	c.mu.Lock()
	c.closed = true
	c.lat.flush()
	c.mu.Unlock()
	c.nc.Close()
}

// ---- Run ----

// Run drives the schedule, which begins at start (if zero: just after the
// clients have connected). Publisher and consumer i connect to urls[i mod
// len(urls)]. After the schedule, publishers wait for their in-flight
// acks (up to Timeout) and consumers go on until they have read as many
// messages as were acked (or nothing came for 3 s, or 60 s passed). If ctx
// ends first, Run returns what it measured so far with ctx's error.
func (b *Bench) Run(ctx context.Context, urls []string, start time.Time) (*BenchResult, error) {
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
		p := &benchPub{r: r, id: i, sem: make(chan struct{}, b.o.Window),
			offered: make([]int64, nw), failed: make([]int64, nw),
			acked: make([]int64, nw), ackErrs: make([]int64, nw), ackRecv: make([]int64, nw)}
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

	for _, c := range cons {
		cc, err := c.cons.Consume(c.handle, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			r.errs.add(fmt.Errorf("consume: %w", err))
		}))
		if err != nil {
			for _, p := range pubs {
				p.pub.close()
			}
			stopCons()
			return nil, fmt.Errorf("bench: consume: %w", err)
		}
		c.cc = cc
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

	if len(cons) > 0 {
		var acked int64
		for _, p := range pubs {
			for _, n := range p.acked {
				acked += n
			}
		}
		consumed := func() (n int64) {
			for _, c := range cons {
				n += c.count.Load()
			}
			return n
		}
		last, lastAt, giveUp := consumed(), time.Now(), time.Now().Add(benchDrainMax)
		for last < acked && ctx.Err() == nil && time.Since(lastAt) < benchDrainIdle && time.Now().Before(giveUp) {
			time.Sleep(20 * time.Millisecond)
			if n := consumed(); n != last {
				last, lastAt = n, time.Now()
			}
		}
		stopCons()
	}

	res := r.result(pubs, cons)
	if err := ctx.Err(); err != nil {
		// Drop the windows the run never reached.
		if cut := r.wins.index(time.Since(start)) + 1; cut < len(res.Windows) {
			res.Windows = res.Windows[:cut]
		}
		return res, err
	}
	return res, nil
}

// result merges the per-goroutine counters and histograms.
func (r *benchRun) result(pubs []*benchPub, cons []*benchCons) *BenchResult {
	nw := r.wins.n()
	for _, p := range pubs {
		nw = max(nw, len(p.offered), len(p.acked), len(p.ackErrs), len(p.failed), len(p.ackRecv))
		for w := range p.lat.packed {
			nw = max(nw, w+1)
		}
	}
	for _, c := range cons {
		nw = max(nw, len(c.consumed))
		for w := range c.lat.packed {
			nw = max(nw, w+1)
		}
	}
	// Trim trailing windows past the schedule that hold nothing.
	at := func(s []int64, w int) int64 {
		if w < len(s) {
			return s[w]
		}
		return 0
	}
	wins := make([]BenchWindow, nw)
	for w := range wins {
		bw := &wins[w]
		bw.Start, bw.Step = r.wins.window(w)
		for _, p := range pubs {
			bw.Offered += at(p.offered, w)
			bw.Acked += at(p.acked, w)
			bw.Errors += at(p.failed, w) + at(p.ackErrs, w)
			bw.AcksReceived += at(p.ackRecv, w)
		}
		for _, c := range cons {
			bw.Consumed += at(c.consumed, w)
		}
	}
	for nw > r.wins.n() {
		bw := wins[nw-1]
		if bw.Offered != 0 || bw.Acked != 0 || bw.Errors != 0 || bw.AcksReceived != 0 || bw.Consumed != 0 {
			break
		}
		nw--
	}
	wins = wins[:nw]

	steps := make([]BenchStepResult, len(r.b.o.Steps))
	stepPub := make([]*hdrhistogram.Histogram, len(steps))
	stepE2E := make([]*hdrhistogram.Histogram, len(steps))
	for i := range steps {
		stepPub[i], stepE2E[i] = newHist(), newHist()
	}
	scratch := newHist()
	merge := func(w int, hs []*winHist, stepH []*hdrhistogram.Histogram) Latency {
		scratch.Reset()
		for _, h := range hs {
			if p := h.packed[w]; p != nil {
				p.MergeInto(scratch)
			}
		}
		if s := wins[w].Step; s >= 0 && scratch.TotalCount() > 0 {
			stepH[s].Merge(scratch)
		}
		return latencyOf(scratch)
	}
	pubH := make([]*winHist, len(pubs))
	for i, p := range pubs {
		pubH[i] = &p.lat
	}
	consH := make([]*winHist, len(cons))
	for i, c := range cons {
		consH[i] = &c.lat
	}
	for w := range wins {
		wins[w].PubAck = merge(w, pubH, stepPub)
		wins[w].E2E = merge(w, consH, stepE2E)
		if s := wins[w].Step; s >= 0 {
			st := &steps[s]
			st.OfferedRate += float64(wins[w].Offered)
			st.AckedRate += float64(wins[w].Acked)
			st.AckThroughput += float64(wins[w].AcksReceived)
			st.ConsumedRate += float64(wins[w].Consumed)
			st.Errors += wins[w].Errors
		}
	}
	for i, s := range r.b.o.Steps {
		st := &steps[i]
		st.Rate, st.Duration = s.Rate, s.Duration
		if secs := s.Duration.Seconds(); secs > 0 {
			st.OfferedRate /= secs
			st.AckedRate /= secs
			st.AckThroughput /= secs
			st.ConsumedRate /= secs
		}
		st.PubAck, st.E2E = latencyOf(stepPub[i]), latencyOf(stepE2E[i])
	}
	r.errs.mu.Lock()
	samples := append([]string(nil), r.errs.msgs...)
	r.errs.mu.Unlock()
	return &BenchResult{Windows: wins, Steps: steps, errSamples: samples}
}

var latencyPercentiles = []float64{50, 90, 99, 99.9}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	n := h.TotalCount()
	if n == 0 {
		return Latency{}
	}
	v := h.ValueAtPercentilesSlice(latencyPercentiles)
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{Count: n, P50: ms(v[0]), P90: ms(v[1]), P99: ms(v[2]), P999: ms(v[3]), Max: ms(h.Max())}
}

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
