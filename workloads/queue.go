package workloads

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// QueueOptions configures the queue workload.
type QueueOptions struct {
	Stream   string // default "jetstorm"
	Replicas int
	Memory   bool // memory storage instead of file
	Clients  int
	Rate     float64       // total publishes per second over all clients
	Duration time.Duration // how long to publish
	Payload  int           // message size in bytes (at least the value's length)
	Timeout  time.Duration // per-publish timeout; a timeout is recorded as info
}

// Queue is Jepsen's queue workload: clients pinned to nodes publish unique
// values ("<process>-<counter>", also the Nats-Msg-Id) open loop at a fixed
// total rate; the final drain reads the whole stream back.
type Queue struct{ o QueueOptions }

func NewQueue(o QueueOptions) *Queue {
	if o.Stream == "" {
		o.Stream = "jetstorm"
	}
	return &Queue{o: o}
}

func (q *Queue) Name() string    { return "queue" }
func (q *Queue) Stream() string  { return q.o.Stream }
func (q *Queue) subject() string { return q.o.Stream + ".queue" }

func (q *Queue) Setup(ctx context.Context, c clusters.Cluster) error {
	nc, js, err := connectAll(c, "queue setup")
	if err != nil {
		return err
	}
	defer nc.Close()
	storage := jetstream.FileStorage
	if q.o.Memory {
		storage = jetstream.MemoryStorage
	}
	// Retry: right after the cluster forms, the meta leader may still be settling.
	for {
		// Each attempt gets its own deadline: a request the meta leader never
		// answers would otherwise use up the whole setup time.
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = js.CreateOrUpdateStream(actx, jetstream.StreamConfig{
			Name: q.o.Stream, Subjects: []string{q.o.Stream + ".>"},
			Replicas: q.o.Replicas, Storage: storage,
			Duplicates: 2 * time.Minute,
			// Reads in the drain must come from the leader, not any replica.
			AllowDirect: false,
		})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("queue setup: create stream %s: %w (last error: %v)", q.o.Stream, ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Run starts Clients clients, client i pinned to node i mod N. Each client
// is a sequence of logical processes: process p starts as i and, after an
// op with an unknown outcome, is retired and continues as p+Clients (as
// Jepsen does), so one process never has two ops in flight.
func (q *Queue) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return runPinned(ctx, c, q.o.Clients, q.o.Rate, q.o.Duration, func(ctx context.Context, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
		return q.client(ctx, rec, node, id, next, end, interval)
	})
}

func (q *Queue) client(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	nc, js, err := connectPinned(node, fmt.Sprintf("jetstorm-queue-%d", id))
	if err != nil {
		return err
	}
	defer nc.Close()
	process, counter := id, 0
	var pad []byte
	for ; next.Before(end); next = next.Add(interval) {
		// Open loop: wait for the intended start; when behind, go at once.
		// The invoke is recorded at the intended time, so latency includes
		// any queueing behind a slow op.
		if !waitDue(ctx, next) {
			return nil
		}
		value := fmt.Sprintf("%d-%d", process, counter)
		counter++
		if n := q.o.Payload - len(value) - 1; n > len(pad) {
			pad = bytes.Repeat([]byte{'.'}, n)
		}
		data := []byte(value)
		if n := q.o.Payload - len(value) - 1; n > 0 {
			data = append(append(data, ' '), pad[:n]...)
		}
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FPublish,
			Value: value, Node: node.Name(), Time: next.Sub(rec.Start())})
		pctx, cancel := context.WithTimeout(context.Background(), q.o.Timeout)
		ack, err := js.PublishMsg(pctx, &nats.Msg{Subject: q.subject(), Data: data}, jetstream.WithMsgID(value))
		cancel()
		op := history.Op{Process: process, Type: Classify(err), F: history.FPublish, Value: value, Node: node.Name()}
		if err != nil {
			op.Err = err.Error()
		} else {
			op.Seq = ack.Sequence
		}
		rec.Record(op)
		if op.Type == history.Info {
			process += q.o.Clients
			counter = 0
		}
	}
	return nil
}

// valueOf extracts the published value from a message body.
func valueOf(data []byte) string {
	if i := bytes.IndexByte(data, ' '); i >= 0 {
		return string(data[:i])
	}
	return string(data)
}

// Drain reads the whole stream once, in order, from the stream leader (via
// a pull consumer), recording one read op per message. It records a drain
// invoke, then ok when it reached the end of the stream, or info if it did
// not (cluster unavailable, timeout): the checker then says unknown.
func (q *Queue) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FDrain})
	read, err := q.drain(ctx, c, rec)
	if err != nil {
		rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FDrain, Value: read, Err: err.Error()})
		return err
	}
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FDrain, Value: read})
	return nil
}

func (q *Queue) drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) (int, error) {
	nc, js, err := connectAll(c, "drain")
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	read := 0
	var nextSeq uint64 = 1 // resume point if a consumer fails midway
	var lastErr error
	gone := 0
	for {
		if ctx.Err() != nil {
			return read, fmt.Errorf("drain: read %d messages, stopped at stream sequence %d: %w (last error: %v)", read, nextSeq, ctx.Err(), lastErr)
		}
		done, n, err := q.drainFrom(ctx, js, rec, &nextSeq)
		read += n
		if done {
			return read, nil
		}
		lastErr = err
		// On a healthy cluster, a stream that stays "not found" is gone with
		// everything in it (e.g. after a power loss took its metadata): the
		// drain is complete, and every acked write in it is lost.
		if gone++; !errors.Is(err, jetstream.ErrStreamNotFound) {
			gone = 0
		} else if gone >= 5 {
			rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote,
				Err: fmt.Sprintf("stream %s not found on the healed cluster: nothing left to read", q.o.Stream)})
			return read, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// drainFrom reads from *next to the end of the stream with a fresh
// ephemeral pull consumer, advancing *next as it goes.
func (q *Queue) drainFrom(ctx context.Context, js jetstream.JetStream, rec *history.Recorder, next *uint64) (done bool, n int, err error) {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second) // per request, as in Setup
	defer cancel()
	st, err := js.Stream(actx, q.o.Stream)
	if err != nil {
		return false, 0, err
	}
	info, err := st.Info(actx)
	if err != nil {
		return false, 0, err
	}
	if info.State.Msgs == 0 || *next > info.State.LastSeq {
		return true, 0, nil
	}
	cons, err := st.CreateOrUpdateConsumer(actx, jetstream.ConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: *next,
		AckPolicy: jetstream.AckNonePolicy, InactiveThreshold: time.Minute,
		Replicas: 1, MemoryStorage: true,
	})
	if err != nil {
		return false, 0, err
	}
	defer js.DeleteConsumer(context.Background(), q.o.Stream, cons.CachedInfo().Name)
	for {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return false, n, err
		}
		got := 0
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return false, n, err
			}
			got++
			if md.Sequence.Stream < *next {
				continue // never record a message twice
			}
			rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FRead,
				Value: valueOf(m.Data()), Seq: md.Sequence.Stream})
			n++
			*next = md.Sequence.Stream + 1
			if md.NumPending == 0 {
				return true, n, nil
			}
		}
		if err := batch.Error(); err != nil {
			return false, n, err
		}
		if got == 0 {
			return false, n, fmt.Errorf("no messages from sequence %d within 2s", *next)
		}
		if ctx.Err() != nil {
			return false, n, ctx.Err()
		}
	}
}
