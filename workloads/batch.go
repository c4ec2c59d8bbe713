package workloads

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"jetstorm/clusters"
	"jetstorm/history"
)

// BatchOptions configures the batch workload.
type BatchOptions struct {
	// Queue are the stream and the publishers' options: Rate is batches
	// (and single publishes) per second, Payload each message's size.
	// NewBatch sets Atomic.
	Queue QueueOptions
	// MaxSize: each batch holds 2..MaxSize messages, drawn uniformly
	// (default 5).
	MaxSize int
	// Singles is the fraction of ops that are plain single publishes
	// (no batch headers) mixed in with the batches.
	Singles float64
	// Readers are the read paths of the readers that run during the
	// load, one reader each, reader k pinned to node k mod N: "get"
	// (STREAM.MSG.GET of the batch subject's last message), "direct"
	// (the same as a batched direct get, any replica answers) and
	// "consumer" (an ordered consumer reading every message).
	Readers []string
	// ReadRate is each get or direct reader's reads per second (default 20).
	ReadRate float64
	// Seed seeds each client's choices (with its id).
	Seed uint64
	// Break (tests): a client commits batch id without its last message
	// (the commit goes with the one before) when it returns true: an
	// acked batch the stream holds only part of.
	Break func(id string) bool
}

// Batch is the atomic batch workload (issue 16): clients pinned to nodes
// publish batches of 2..MaxSize messages to one subject with
// jetstreamext's BatchPublisher (Nats-Batch-Id, -Sequence, -Commit; one
// ack, for the commit), open loop, mixed with single publishes; readers
// read the subject during the faults by each read path; the queue
// workload's drains read the stream back.
type Batch struct {
	*Queue
	o BatchOptions
}

// ReadPaths are the batch readers' read paths, with the history function
// each reader's reads are recorded as.
var ReadPaths = map[string]string{
	"get":      history.FReadGet,
	"direct":   history.FReadDirect,
	"consumer": history.FReadConsumer,
}

// NewBatch fills the defaults.
func NewBatch(o BatchOptions) *Batch {
	o.Queue.Atomic = true
	if o.MaxSize < 2 {
		o.MaxSize = 5
	}
	if o.ReadRate <= 0 {
		o.ReadRate = 20
	}
	if o.Queue.Timeout <= 0 {
		o.Queue.Timeout = 5 * time.Second
	}
	q := NewQueue(o.Queue)
	o.Queue = q.o // with its defaults
	return &Batch{Queue: q, o: o}
}

func (w *Batch) Name() string { return "batch" }

// Run runs the publishers and, until they finish, the readers.
func (w *Batch) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	readErrs := make([]error, len(w.o.Readers))
	nodes := c.Nodes()
	for k, path := range w.o.Readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			readErrs[k] = w.reader(rctx, rec, nodes[k%len(nodes)], k, path)
		}()
	}
	err := runPinned(ctx, c, rec, w.o.Queue.Clients, w.o.Queue.Rate, w.o.Queue.Duration, w.client)
	stop()
	wg.Wait()
	return errors.Join(append([]error{err}, readErrs...)...)
}

func (w *Batch) client(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	nc, js, err := w.connectClient(node, fmt.Sprintf("jetstorm-batch-%d", id))
	if err != nil {
		return err
	}
	defer nc.Close()
	rng := rand.New(rand.NewPCG(w.o.Seed, uint64(id)))
	process, counter := id, 0
	for ; next.Before(end); next = next.Add(interval) {
		if !waitDue(ctx, next) {
			return nil
		}
		bid := fmt.Sprintf("%d-%d", process, counter)
		counter++
		n := 1
		if rng.Float64() >= w.o.Singles {
			n = 2 + rng.IntN(w.o.MaxSize-1)
		}
		name, at := history.BatchName(bid, n), w.nodeOf(nc, node)
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FBatch,
			Value: name, Node: at, Time: next.Sub(rec.Start())})
		seq, typ, err := w.publish(js, bid, n)
		op := history.Op{Process: process, Type: typ, F: history.FBatch, Value: name, Node: at, Seq: seq}
		if err != nil {
			op.Err = err.Error()
		}
		rec.Record(op)
		if typ == history.Info {
			process += w.o.Queue.Clients
			counter = 0
		}
	}
	return nil
}

// body is message i of batch bid of n messages, padded to the payload size.
func (w *Batch) body(bid string, i, n int) []byte {
	b := []byte(history.BatchMsg(bid, i, n))
	if pad := w.o.Queue.Payload - len(b) - 1; pad > 0 {
		b = append(append(b, ' '), bytes.Repeat([]byte{'.'}, pad)...)
	}
	return b
}

// publish sends batch bid of n messages (a plain publish when n is 1) and
// says how it ended: ok with the ack's sequence, fail when it was
// definitely not stored, info when it may have been.
func (w *Batch) publish(js jetstream.JetStream, bid string, n int) (uint64, history.OpType, error) {
	if js.Conn().IsReconnecting() {
		return 0, history.Fail, errNotSent
	}
	subject := w.subject()
	pctx, cancel := context.WithTimeout(context.Background(), w.o.Queue.Timeout)
	defer cancel()
	if n == 1 {
		ack, err := js.PublishMsg(pctx, &nats.Msg{Subject: subject, Data: w.body(bid, 1, 1)})
		if err != nil {
			return 0, Classify(err), err
		}
		return ack.Sequence, history.OK, nil
	}
	bp, err := jetstreamext.NewBatchPublisher(js, jetstreamext.BatchFlowControl{AckFirst: true, AckTimeout: w.o.Queue.Timeout})
	if err != nil {
		return 0, history.Fail, err
	}
	last := n
	if w.o.Break != nil && w.o.Break(bid) {
		last = n - 1 // the broken client: its last message is never sent
	}
	for i := 1; i < last; i++ {
		if err := bp.Add(subject, w.body(bid, i, n)); err != nil {
			// Without its commit a batch is never stored: the server
			// abandons it.
			return 0, history.Fail, fmt.Errorf("not committed: message %d: %w", i, err)
		}
	}
	ack, err := bp.Commit(pctx, subject, w.body(bid, last, n))
	if err != nil {
		return 0, Classify(err), err
	}
	return ack.Sequence, history.OK, nil
}

// subject is the one subject every batch message and single publish goes
// to: the get readers' "last message" is then the last one stored.
func (w *Batch) subject() string { return w.o.Queue.Stream + ".batch" }

// reader reads the batch subject by one path until ctx ends, recording
// each message read; errors are recorded as info ops (no information),
// and the reader goes on.
func (w *Batch) reader(ctx context.Context, rec *history.Recorder, node clusters.Node, k int, path string) error {
	f, ok := ReadPaths[path]
	if !ok {
		return fmt.Errorf("batch reader %d: unknown read path %q", k, path)
	}
	nc, js, err := connectPinned(node, fmt.Sprintf("jetstorm-batch-reader-%d", k))
	if err != nil {
		return err
	}
	defer nc.Close()
	process := history.ReaderProcessBase + k
	record := func(m *jetstream.RawStreamMsg, err error) {
		op := history.Op{Process: process, Type: history.OK, F: f, Node: node.Name()}
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			return // nothing stored yet
		case err != nil:
			op.Type, op.Err = history.Info, err.Error()
		default:
			op.Value, op.Seq = valueOf(m.Data), m.Sequence
		}
		rec.Record(op)
	}
	if path == "consumer" {
		return w.consumeReader(ctx, js, record)
	}
	interval := time.Duration(float64(time.Second) / w.o.ReadRate)
	for next := time.Now(); ; next = next.Add(interval) {
		if !waitDue(ctx, next) {
			return nil
		}
		if nc.IsReconnecting() {
			continue
		}
		gctx, cancel := context.WithTimeout(ctx, w.o.Queue.Timeout)
		var m *jetstream.RawStreamMsg
		if path == "get" {
			m, err = leaderGet(gctx, nc, w.o.Queue.Stream, msgGetRequest{LastFor: w.subject()})
		} else {
			m, err = directLast(gctx, js, w.o.Queue.Stream, w.subject())
		}
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		record(m, err)
	}
}

// directLast is the subject's last message by a batched direct get
// (jetstreamext), which any replica of the stream may answer.
func directLast(ctx context.Context, js jetstream.JetStream, stream, subject string) (*jetstream.RawStreamMsg, error) {
	msgs, err := jetstreamext.GetLastMsgsFor(ctx, js, stream, []string{subject})
	if err != nil {
		if errors.Is(err, jetstreamext.ErrNoMessages) {
			return nil, jetstream.ErrMsgNotFound
		}
		return nil, err
	}
	for m, err := range msgs {
		if errors.Is(err, jetstreamext.ErrNoMessages) {
			return nil, jetstream.ErrMsgNotFound
		}
		return m, err
	}
	return nil, jetstream.ErrMsgNotFound
}

// consumeReader reads every message of the batch subject with an ordered
// consumer (which recreates itself after a fault, from where it was).
func (w *Batch) consumeReader(ctx context.Context, js jetstream.JetStream, record func(*jetstream.RawStreamMsg, error)) error {
	var cons jetstream.Consumer
	err := retry(ctx, "batch consumer reader", func(ctx context.Context) error {
		var err error
		cons, err = js.OrderedConsumer(ctx, w.o.Queue.Stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{w.subject()}})
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			record(nil, err)
			if !waitDue(ctx, time.Now().Add(100*time.Millisecond)) {
				return nil
			}
			continue
		}
		md, err := m.Metadata()
		if err != nil {
			record(nil, err)
			continue
		}
		record(&jetstream.RawStreamMsg{Data: m.Data(), Sequence: md.Sequence.Stream}, nil)
	}
}
