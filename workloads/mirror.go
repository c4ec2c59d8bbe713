package workloads

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// MirrorOptions configures the mirror workload.
type MirrorOptions struct {
	// Queue are the publishers and the first origin stream (Queue.Stream):
	// value "P-C" goes to origin C mod 2. NewMirror sets Partitions and
	// Configure.
	Queue QueueOptions
	// ConvergeAfter is how long after the last heal the mirror and the
	// sourced stream may take to hold everything their origins hold.
	ConvergeAfter time.Duration
	// SampleInterval is how often the copies' lag is sampled.
	SampleInterval time.Duration
	// Hide (tests) makes the final read leave out a message of a stream
	// (by its sequence there) when it returns true: a gap.
	Hide func(stream string, seq uint64) bool
}

// Mirror is the mirror workload (issue 23): the queue's publishers write
// to two origin streams (subjects <stream>.q.0 and <stream>.q.1); stream
// <stream>_mirror mirrors the first, <stream>_sourced sources both, all on
// the same cluster. A sampler records how far each copy is behind every
// SampleInterval; after the heal the drain waits for both to catch up (at
// most ConvergeAfter) and reads all four streams whole.
type Mirror struct {
	q               *Queue // not embedded: no replica's copy is read (not a NodeDrainer)
	o               MirrorOptions
	origins         []string
	mirror, sourced string
	mu              sync.Mutex
	stopSampler     func()
	samplerDone     chan struct{}
	// caughtUp, set by Drain, is closed by the next sample that finds both
	// copies caught up.
	caughtUp chan struct{}
}

// NewMirror fills the defaults.
func NewMirror(o MirrorOptions) *Mirror {
	if o.ConvergeAfter <= 0 {
		o.ConvergeAfter = time.Minute
	}
	if o.SampleInterval <= 0 {
		o.SampleInterval = time.Second
	}
	if o.Queue.Stream == "" {
		o.Queue.Stream = "jetstorm"
	}
	a := o.Queue.Stream
	o.Queue.Partitions = 2
	o.Queue.Configure = func(cfg *jetstream.StreamConfig) { cfg.Subjects = []string{PartitionSubject(a, 0)} }
	w := &Mirror{origins: []string{a, a + "_b"}, mirror: a + "_mirror", sourced: a + "_sourced"}
	w.q = NewQueue(o.Queue)
	o.Queue = w.q.o
	w.o = o
	return w
}

func (w *Mirror) Name() string   { return "mirror" }
func (w *Mirror) Stream() string { return w.q.Stream() }

// Streams are the origins, the mirror and the sourced stream.
func (w *Mirror) Streams() []string {
	return append(append([]string{}, w.origins...), w.mirror, w.sourced)
}

// Setup creates the first origin (the queue's), the second, the mirror
// and the sourced stream, each with the queue's replicas and storage.
func (w *Mirror) Setup(ctx context.Context, c clusters.Cluster) error {
	if err := w.q.Setup(ctx, c); err != nil {
		return err
	}
	nc, js, err := connectAll(c, "mirror setup")
	if err != nil {
		return err
	}
	defer nc.Close()
	storage := storageOf(w.o.Queue.Memory)
	for _, cfg := range []jetstream.StreamConfig{
		{Name: w.origins[1], Subjects: []string{PartitionSubject(w.origins[0], 1)}},
		{Name: w.mirror, Mirror: &jetstream.StreamSource{Name: w.origins[0]}},
		{Name: w.sourced, Sources: []*jetstream.StreamSource{{Name: w.origins[0]}, {Name: w.origins[1]}}},
	} {
		cfg.Replicas, cfg.Storage = w.o.Queue.Replicas, storage
		if err := retry(ctx, "mirror setup: create "+cfg.Name, func(ctx context.Context) error {
			_, err := js.CreateOrUpdateStream(ctx, cfg)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// Run records the rules, starts the sampler (it goes on until Drain) and
// runs the publishers.
func (w *Mirror) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FMirrorRules, Value: history.MirrorRules{
		Origins: w.origins, Mirror: w.mirror, Sourced: w.sourced, ConvergeAfterMs: w.o.ConvergeAfter.Milliseconds()}})
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	w.mu.Lock()
	w.stopSampler, w.samplerDone = stop, done
	w.mu.Unlock()
	go func() {
		defer close(done)
		w.sample(sctx, c, rec)
	}()
	return w.q.Run(ctx, c, rec)
}

// MirrorProcess is the history process of the lag sampler.
const MirrorProcess = 5_000_000

// sample records the copies' lag every SampleInterval until ctx ends.
func (w *Mirror) sample(ctx context.Context, c clusters.Cluster, rec *history.Recorder) {
	nc, js, err := connectAll(c, "mirror sampler")
	if err != nil {
		rec.Record(history.Op{Process: MirrorProcess, Type: history.Info, F: history.FMirrorLag, Err: err.Error()})
		return
	}
	defer nc.Close()
	tick := time.NewTicker(w.o.SampleInterval)
	defer tick.Stop()
	for ctx.Err() == nil {
		lag, err := w.lag(ctx, js)
		if ctx.Err() != nil {
			return
		}
		op := history.Op{Process: MirrorProcess, Type: history.OK, F: history.FMirrorLag, Value: lag}
		if err != nil {
			op.Type, op.Value, op.Err = history.Info, nil, err.Error()
		}
		rec.Record(op)
		if err == nil && lag.Mirror == 0 && lag.Sourced == 0 {
			w.mu.Lock()
			if w.caughtUp != nil { // recorded first: the check sees the sample
				close(w.caughtUp)
				w.caughtUp = nil
			}
			w.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// lag reads the four streams' info.
func (w *Mirror) lag(ctx context.Context, js jetstream.JetStream) (history.MirrorLag, error) {
	var infos []*jetstream.StreamInfo
	for _, name := range w.Streams() {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		st, err := js.Stream(actx, name)
		cancel()
		if err != nil {
			return history.MirrorLag{}, fmt.Errorf("%s: %w", name, err)
		}
		infos = append(infos, st.CachedInfo())
	}
	a, b, m, s := infos[0], infos[1], infos[2], infos[3]
	lag := history.MirrorLag{
		Mirror:  int64(a.State.LastSeq) - int64(m.State.LastSeq),
		Sourced: int64(a.State.Msgs+b.State.Msgs) - int64(s.State.Msgs),
	}
	if m.Mirror != nil {
		lag.MirrorReported = m.Mirror.Lag
	}
	for _, src := range s.Sources {
		lag.SourcedReported += src.Lag
	}
	return lag, nil
}

// Drain waits (at most ConvergeAfter) for a sample that finds both copies
// caught up, stops the sampler, and reads the four streams whole.
func (w *Mirror) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	caught := make(chan struct{})
	w.mu.Lock()
	stop, done := w.stopSampler, w.samplerDone
	w.caughtUp = caught
	w.mu.Unlock()
	if stop != nil {
		select {
		case <-caught:
		case <-time.After(w.o.ConvergeAfter + 2*w.o.SampleInterval): // samples past it: a wedge is judged
		case <-ctx.Done():
		}
		stop()
		<-done
	}
	nc, js, err := connectAll(c, "mirror drain")
	if err != nil {
		return err
	}
	defer nc.Close()
	var errs []error
	for _, name := range w.Streams() {
		rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FStreamDrain, Value: name})
		_, err := w.readStream(ctx, js, name, func(m jetstream.Msg, md *jetstream.MsgMetadata) {
			if w.o.Hide != nil && w.o.Hide(name, md.Sequence.Stream) {
				return
			}
			rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FStreamRead,
				Value: history.StreamEntry{Stream: name, Value: w.q.readValue(m.Subject(), m.Headers(), m.Data(), md.Timestamp)}.String(), Seq: md.Sequence.Stream})
		})
		op := history.Op{Process: -1, Type: history.OK, F: history.FStreamDrain, Value: name}
		if err != nil {
			op.Type, op.Err = history.Info, err.Error()
			errs = append(errs, fmt.Errorf("read %s: %w", name, err))
		}
		rec.Record(op)
	}
	return errors.Join(errs...)
}

// readStream reads stream name whole through an ephemeral consumer.
func (w *Mirror) readStream(ctx context.Context, js jetstream.JetStream, name string, each func(jetstream.Msg, *jetstream.MsgMetadata)) (int, error) {
	var cons jetstream.Consumer
	if err := retry(ctx, "read "+name, func(ctx context.Context) error {
		st, err := js.Stream(ctx, name)
		if err != nil {
			return err
		}
		cons, err = st.CreateConsumer(ctx, jetstream.ConsumerConfig{
			DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckNonePolicy,
			InactiveThreshold: time.Minute, Replicas: 1, MemoryStorage: true,
		})
		return err
	}); err != nil {
		return 0, err
	}
	defer js.DeleteConsumer(context.Background(), name, cons.CachedInfo().Name)
	if cons.CachedInfo().NumPending == 0 {
		return 0, nil
	}
	return fetchAll(ctx, cons, name, each)
}
