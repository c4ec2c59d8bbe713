package workloads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// ConsumeOptions configures the consume workload: the queue workload's
// publishers, plus durable consumers read by pinned clients during the
// faults.
type ConsumeOptions struct {
	// Queue are the publishers' options; NewConsume sets Partitions on a
	// workqueue stream (one filter subject per durable).
	Queue QueueOptions
	// Durables is the number of durable consumers (D), ClientsPer the
	// clients attached to each (C): D*C clients, client i pinned to node
	// i mod N.
	Durables, ClientsPer int
	AckWait              time.Duration
	MaxDeliver           int // -1: unlimited
	MaxAckPending        int // -1: unlimited
	// DoubleAck acks with DoubleAck (confirmed by the server) and then
	// reads the consumer's delivered sequence (Ack.DeliveredAfter).
	DoubleAck bool
	// Fractions of deliveries answered with a nak, a nak with NakDelayFor,
	// nothing at all (ack_wait expires), or a term; the rest are acked.
	Nak, NakDelay, NoAck, Term float64
	NakDelayFor                time.Duration // default 1s
	// RestartEvery detaches each client and attaches it again to its
	// durable (by name) this often; 0: never.
	RestartEvery time.Duration
	// CatchUp bounds the consuming after the last publish, until every
	// durable has nothing pending and nothing awaiting an ack.
	CatchUp time.Duration
	// Seed seeds each client's reply choices (with its id).
	Seed uint64
	// StallAfter is recorded with each consumer for the checker: how long
	// it may receive nothing with messages pending after the last fault.
	StallAfter time.Duration
	// Hide (tests) makes a client ack a delivery without recording it,
	// when it returns true: a consumer that loses a message it acked.
	Hide func(history.Delivery) bool
}

// Consume is the consume workload (issue 13): durable, file-backed,
// explicit-ack pull consumers with the stream's replicas, read during the
// faults by clients that ack, nak, nak with delay, term or ignore each
// delivery; dead-letter advisories captured in <stream>_dlq.
type Consume struct {
	*Queue // publishers, final drain, per-node drain
	o      ConsumeOptions
	names  []string // durable names, by index
}

// NewConsume fills the defaults.
func NewConsume(o ConsumeOptions) *Consume {
	if o.Queue.Stream == "" {
		o.Queue.Stream = "jetstorm"
	}
	if o.Queue.Retention == "" {
		o.Queue.Retention = "limits"
	}
	if o.Queue.Retention == "workqueue" {
		o.Queue.Partitions = o.Durables
	}
	o.Durables, o.ClientsPer = max(o.Durables, 1), max(o.ClientsPer, 1)
	if o.AckWait <= 0 {
		o.AckWait = 5 * time.Second
	}
	if o.NakDelayFor <= 0 {
		o.NakDelayFor = time.Second
	}
	if o.Queue.Timeout <= 0 {
		o.Queue.Timeout = 5 * time.Second
	}
	if o.CatchUp <= 0 {
		o.CatchUp = time.Minute
	}
	w := &Consume{Queue: NewQueue(o.Queue), o: o}
	for k := range o.Durables {
		w.names = append(w.names, fmt.Sprintf("durable-%d", k))
	}
	return w
}

func (w *Consume) Name() string { return "consume" }

// Consumers are the durable consumers' names (for pause-consumer).
func (w *Consume) Consumers() []string { return w.names }

// DLQ is the stream that captures the dead-letter advisories.
func (w *Consume) DLQ() string { return w.o.Queue.Stream + "_dlq" }

// config is durable k's configuration.
func (w *Consume) config(k int) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable: w.names[k], AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait: w.o.AckWait, MaxDeliver: w.o.MaxDeliver, MaxAckPending: w.o.MaxAckPending,
		Replicas: w.o.Queue.Replicas, MemoryStorage: false,
	}
	if w.o.Queue.Partitions > 0 {
		cfg.FilterSubject = PartitionSubject(w.o.Queue.Stream, k)
	}
	return cfg
}

// Setup creates the stream (with its retention), the dead-letter stream
// and the durables. Their FConsumer ops are recorded at the start of Run
// (Setup has no recorder), before anything is published.
func (w *Consume) Setup(ctx context.Context, c clusters.Cluster) error {
	if err := w.Queue.Setup(ctx, c); err != nil {
		return err
	}
	nc, js, err := connectAll(c, "consume setup")
	if err != nil {
		return err
	}
	defer nc.Close()
	st := w.o.Queue.Stream
	err = retry(ctx, "create stream "+w.DLQ(), func(ctx context.Context) error {
		_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: w.DLQ(), Replicas: w.o.Queue.Replicas, Storage: jetstream.FileStorage,
			Subjects: []string{
				"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + st + ".>",
				"$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED." + st + ".>",
			},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("consume setup: %w", err)
	}
	for k := range w.names {
		err := retry(ctx, "create consumer "+w.names[k], func(ctx context.Context) error {
			_, err := js.CreateOrUpdateConsumer(ctx, st, w.config(k))
			return err
		})
		if err != nil {
			return fmt.Errorf("consume setup: %w", err)
		}
	}
	return nil
}

// Run records the durables, starts the consumer clients and the sampler,
// publishes as the queue workload does, then keeps consuming until every
// durable has nothing pending and nothing awaiting an ack (or CatchUp
// passed), records each durable's final state, and stops the clients.
func (w *Consume) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	for k, name := range w.names {
		cfg := w.config(k)
		rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FConsumer, Value: history.ConsumerConfig{
			Name: name, Filter: cfg.FilterSubject, Retention: w.o.Queue.Retention,
			AckWaitMs: w.o.AckWait.Milliseconds(), MaxDeliver: maxDeliver(w.o.MaxDeliver),
			MaxAckPending: w.o.MaxAckPending, DeliverPolicy: "all", Replicas: w.o.Queue.Replicas,
			Mode: "pull", DoubleAck: w.o.DoubleAck, StallAfterMs: w.o.StallAfter.Milliseconds(),
		}})
	}
	nc, js, err := connectAll(c, "consume sampler")
	if err != nil {
		return err
	}
	defer nc.Close()
	cctx, stopClients := context.WithCancel(ctx)
	defer stopClients()
	var clients, sampler sync.WaitGroup
	nodes := c.Nodes()
	for i := range w.o.Durables * w.o.ClientsPer {
		clients.Add(1)
		go func() {
			defer clients.Done()
			cl := &consumerClient{w: w, rec: rec, node: nodes[i%len(nodes)], id: i, durable: w.names[i/w.o.ClientsPer]}
			cl.run(cctx)
		}()
	}
	sctx, stopSampler := context.WithCancel(ctx)
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		w.sample(sctx, js, rec)
	}()
	pubErr := w.Queue.Run(ctx, c, rec)
	w.catchUp(ctx, js, rec)
	stopClients()
	clients.Wait()
	stopSampler()
	sampler.Wait()
	for _, name := range w.names {
		if s, err := w.state(ctx, js, name); err == nil {
			s.Final = true
			rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FConsumerState, Node: s.Leader, Value: s})
		} else {
			rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote,
				Err: fmt.Sprintf("final state of consumer %s: %v", name, err)})
		}
	}
	return pubErr
}

// maxDeliver is the history's form: -1 for unlimited.
func maxDeliver(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// state reads a durable's info from its leader.
func (w *Consume) state(ctx context.Context, js jetstream.JetStream, name string) (history.ConsumerState, error) {
	ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cons, err := js.Consumer(ictx, w.o.Queue.Stream, name)
	if err != nil {
		return history.ConsumerState{}, err
	}
	ci := cons.CachedInfo()
	s := history.ConsumerState{
		Consumer: name, NumPending: ci.NumPending, NumAckPending: ci.NumAckPending,
		Delivered: ci.Delivered.Stream, AckFloor: ci.AckFloor.Stream, Paused: ci.Paused,
	}
	if ci.Cluster != nil {
		s.Leader = ci.Cluster.Leader
	}
	return s, nil
}

// sample records every durable's state once a second until ctx ends.
func (w *Consume) sample(ctx context.Context, js jetstream.JetStream, rec *history.Recorder) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for _, name := range w.names {
			if s, err := w.state(ctx, js, name); err == nil {
				rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FConsumerState, Node: s.Leader, Value: s})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// catchUp waits, after the last publish, until every durable has nothing
// pending and nothing awaiting an ack, or CatchUp passed (a note then).
func (w *Consume) catchUp(ctx context.Context, js jetstream.JetStream, rec *history.Recorder) {
	deadline := time.Now().Add(w.o.CatchUp)
	var behind []string
	for time.Now().Before(deadline) && ctx.Err() == nil {
		behind = behind[:0]
		for _, name := range w.names {
			s, err := w.state(ctx, js, name)
			switch {
			case err != nil:
				behind = append(behind, fmt.Sprintf("%s: %v", name, err))
			case s.NumPending > 0 || s.NumAckPending > 0:
				behind = append(behind, fmt.Sprintf("%s: %d pending, %d awaiting an ack", name, s.NumPending, s.NumAckPending))
			}
		}
		if len(behind) == 0 {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote,
		Err: fmt.Sprintf("consumers did not catch up within %s after the last publish: %s", w.o.CatchUp, strings.Join(behind, "; "))})
}

// Drain reads the dead letters back (one FDeadLetter op per advisory),
// then drains the stream as the queue workload does.
func (w *Consume) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	dlErr := w.deadLetters(ctx, c, rec)
	if dlErr != nil {
		rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote, Err: dlErr.Error()})
	}
	return errors.Join(dlErr, w.Queue.Drain(ctx, c, rec))
}

// advisory holds the fields of both dead-letter advisories (max_deliver
// and terminated) the history needs.
type advisory struct {
	Type       string `json:"type"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// deadLetters reads the dead-letter stream from its leader.
func (w *Consume) deadLetters(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	nc, js, err := connectAll(c, "dead letters")
	if err != nil {
		return err
	}
	defer nc.Close()
	var st jetstream.Stream
	var info *jetstream.StreamInfo
	err = retry(ctx, "dead-letter stream "+w.DLQ(), func(ctx context.Context) error {
		var err error
		if st, err = js.Stream(ctx, w.DLQ()); err == nil {
			info, err = st.Info(ctx)
		}
		return err
	})
	if err != nil || info.State.Msgs == 0 {
		return err
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := getMsg(ctx, st, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("dead letters: get seq %d: %w", seq, err)
		}
		var a advisory
		if err := json.Unmarshal(m.Data, &a); err != nil {
			return fmt.Errorf("dead letters: seq %d on %s: %w", seq, m.Subject, err)
		}
		kind := "max_deliveries"
		if strings.Contains(m.Subject, ".MSG_TERMINATED.") {
			kind = "terminated"
		}
		rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FDeadLetter, Seq: a.StreamSeq,
			Value: history.DeadLetter{Consumer: a.Consumer, Kind: kind, StreamSeq: a.StreamSeq, Deliveries: a.Deliveries}})
	}
	return nil
}

// DrainNodes records each node's own copy of every durable's state (its
// /jsz, final FConsumerState ops, Node the node), then reads each
// replica's copy of the stream as the queue workload does.
func (w *Consume) DrainNodes(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	var errs []error
	for _, n := range c.Nodes() {
		if n.MonitorURL() == "" {
			continue
		}
		if err := w.nodeStates(ctx, n, rec); err != nil {
			rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote, Node: n.Name(), Err: err.Error()})
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, w.Queue.DrainNodes(ctx, c, rec))...)
}

// nodeStates reads n's /jsz with consumer details.
func (w *Consume) nodeStates(ctx context.Context, n clusters.Node, rec *history.Recorder) error {
	jctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var info server.JSInfo
	if err := clusters.GetJSON(jctx, n, "/jsz?consumers=true", &info); err != nil {
		return fmt.Errorf("consumer states on %s: %w", n.Name(), err)
	}
	for _, a := range info.AccountDetails {
		for _, sd := range a.Streams {
			if sd.Name != w.o.Queue.Stream {
				continue
			}
			for _, ci := range sd.Consumer {
				if ci == nil {
					continue
				}
				s := history.ConsumerState{
					Consumer: ci.Name, NumPending: ci.NumPending, NumAckPending: ci.NumAckPending,
					Delivered: ci.Delivered.Stream, AckFloor: ci.AckFloor.Stream, Final: true, Paused: ci.Paused,
				}
				if ci.Cluster != nil {
					s.Leader = ci.Cluster.Leader
				}
				rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FConsumerState, Node: n.Name(), Value: s})
			}
		}
	}
	return nil
}
