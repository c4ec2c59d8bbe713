package workloads

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

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
	// Push makes the durables push consumers (a deliver subject and a
	// deliver group shared by each durable's clients); else pull.
	Push bool
	// Replay, when by_start_sequence or by_start_time ("" or all: none),
	// adds the durable "replay", created ReplayAt after Run starts, that
	// starts at half the stream's last sequence then, or at half the time
	// elapsed then: it must see exactly the stored messages from there on.
	Replay   string
	ReplayAt time.Duration
	// Hide (tests) makes a client ack a delivery without recording it,
	// when it returns true: a consumer that loses a message it acked.
	Hide func(history.Delivery) bool
	// Group, when Group.Policy is set, makes the durables one priority
	// group's (the pinned workload).
	Group PriorityGroup
}

// PriorityGroup is a pull durable's priority group (the pinned workload).
type PriorityGroup struct {
	Policy     string        // pinned or overflow; "": none
	Name       string        // the group's name; default "g"
	PinnedTTL  time.Duration // pinned: the server unpins a client that pulls nothing for this long
	PullExpiry time.Duration // each pull's expiry; default 1s
	// MinPending (overflow): every client but each durable's first pulls
	// with this min_pending (the first, with none, is the primary).
	MinPending int64
	// TakeoverSlack is recorded for the checker: what a takeover may take
	// beyond PinnedTTL plus PullExpiry.
	TakeoverSlack time.Duration
	// Tamper (tests) may change a delivery before it is recorded: a member
	// that records another pin id than the server sent.
	Tamper func(member int, d *history.Delivery)
}

// Consume is the consume workload (issue 13): durable, file-backed,
// explicit-ack pull consumers with the stream's replicas, read during the
// faults by clients that ack, nak, nak with delay, term or ignore each
// delivery; dead-letter advisories captured in <stream>_dlq.
type Consume struct {
	*Queue // publishers, final drain, per-node drain
	o      ConsumeOptions
	mu     sync.Mutex
	names  []string // durable names, by index; the replay durable joins mid-run
}

// replayName is the durable created mid-run with Replay's deliver policy.
const replayName = "replay"

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
	if o.Group.Policy != "" {
		w.SetGroup(o.Group)
	}
	for k := range o.Durables {
		w.names = append(w.names, fmt.Sprintf("durable-%d", k))
	}
	return w
}

// SetGroup makes the durables one priority group's (the pinned workload),
// before Setup.
func (w *Consume) SetGroup(g PriorityGroup) {
	if g.Name == "" {
		g.Name = "g"
	}
	if g.PullExpiry <= 0 {
		g.PullExpiry = time.Second
	}
	w.o.Group, w.o.Push = g, false // priority groups are pull only
}

func (w *Consume) Name() string {
	if w.o.Group.Policy != "" {
		return "pinned"
	}
	return "consume"
}

// Consumers are the durable consumers' names (for pause-consumer): those
// created so far.
func (w *Consume) Consumers() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.names)
}

// DLQ is the stream that captures the dead-letter advisories.
func (w *Consume) DLQ() string { return w.o.Queue.Stream + "_dlq" }

// config is the configuration of the durable name; filter "" reads the
// whole stream.
func (w *Consume) config(name, filter string) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable: name, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait: w.o.AckWait, MaxDeliver: w.o.MaxDeliver, MaxAckPending: w.o.MaxAckPending,
		Replicas: w.o.Queue.Replicas, MemoryStorage: false, FilterSubject: filter,
	}
	if w.o.Push {
		// The group lets the durable's clients share its deliveries.
		cfg.DeliverSubject, cfg.DeliverGroup = "_jetstorm.push."+w.o.Queue.Stream+"."+name, name
	}
	switch g := w.o.Group; g.Policy {
	case "pinned":
		cfg.PriorityPolicy, cfg.PinnedTTL, cfg.PriorityGroups = jetstream.PriorityPolicyPinned, g.PinnedTTL, []string{g.Name}
	case "overflow":
		cfg.PriorityPolicy, cfg.PriorityGroups = jetstream.PriorityPolicyOverflow, []string{g.Name}
	}
	return cfg
}

// filter is durable k's filter subject: its partition on a workqueue
// stream (the server refuses overlapping ones), else the whole stream.
func (w *Consume) filter(k int) string {
	if w.o.Queue.Partitions > 0 {
		return PartitionSubject(w.o.Queue.Stream, k)
	}
	return ""
}

// create creates (or updates) a durable, pull or push.
func (w *Consume) create(ctx context.Context, js jetstream.JetStream, cfg jetstream.ConsumerConfig) error {
	return retry(ctx, "create consumer "+cfg.Durable, func(ctx context.Context) error {
		var err error
		if w.o.Push {
			_, err = js.CreateOrUpdatePushConsumer(ctx, w.o.Queue.Stream, cfg)
		} else {
			_, err = js.CreateOrUpdateConsumer(ctx, w.o.Queue.Stream, cfg)
		}
		return err
	})
}

// record records a durable's FConsumer op from its server config.
func (w *Consume) record(rec *history.Recorder, cfg jetstream.ConsumerConfig, h history.ConsumerConfig) {
	h.Name, h.Filter, h.Retention = cfg.Durable, cfg.FilterSubject, w.o.Queue.Retention
	h.AckWaitMs, h.MaxDeliver, h.MaxAckPending = w.o.AckWait.Milliseconds(), maxDeliver(w.o.MaxDeliver), w.o.MaxAckPending
	h.Replicas, h.Mode, h.DoubleAck, h.StallAfterMs = w.o.Queue.Replicas, "pull", w.o.DoubleAck, w.o.StallAfter.Milliseconds()
	if h.DeliverPolicy == "" {
		h.DeliverPolicy = "all"
	}
	if g := w.o.Group; g.Policy != "" {
		h.Priority, h.Group, h.PinnedTTLMs, h.PullExpiryMs = g.Policy, g.Name, g.PinnedTTL.Milliseconds(), g.PullExpiry.Milliseconds()
		h.MinPending, h.TakeoverSlackMs = g.MinPending, g.TakeoverSlack.Milliseconds()
	}
	if w.o.Push {
		h.Mode = "push"
	}
	rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FConsumer, Value: h})
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
	for k, name := range w.names {
		if err := w.create(ctx, js, w.config(name, w.filter(k))); err != nil {
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
	for k, name := range w.Consumers() {
		w.record(rec, w.config(name, w.filter(k)), history.ConsumerConfig{})
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
	spawn := func(k int, name string) { // durable k's clients
		for j := range w.o.ClientsPer {
			i := k*w.o.ClientsPer + j
			clients.Add(1)
			go func() {
				defer clients.Done()
				cl := &consumerClient{w: w, rec: rec, node: nodes[i%len(nodes)], id: i, durable: name}
				if w.o.Group.Policy != "" && j > 0 {
					// Member 0 (on the first node) pulls first, so it is
					// the first pinned: a scenario knows whose node to cut.
					select {
					case <-cctx.Done():
						return
					case <-time.After(time.Duration(j) * 500 * time.Millisecond):
					}
				}
				cl.run(cctx)
			}()
		}
	}
	for k, name := range w.Consumers() {
		spawn(k, name)
	}
	began := rec.Since() // the history's clock starts before the cluster
	sctx, stopSampler := context.WithCancel(ctx)
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		w.sample(sctx, js, rec)
	}()
	// The replay durable is created by its own goroutine; the catch-up
	// waits for it (at most CatchUp), so it is caught up like the others.
	rctx, stopReplay := context.WithCancel(ctx)
	defer stopReplay()
	replayed := make(chan struct{})
	go func() {
		defer close(replayed)
		if w.o.Replay == "" || w.o.Replay == "all" {
			return
		}
		if err := w.replay(rctx, js, rec, began); err != nil {
			if rctx.Err() != nil {
				err = fmt.Errorf("replay durable: not created within %s after the last publish (replay_at %s): %v", w.o.CatchUp, w.o.ReplayAt, err)
			}
			rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote, Err: err.Error()})
			return
		}
		spawn(w.o.Durables, replayName)
	}()
	pubErr := w.Queue.Run(ctx, c, rec)
	select {
	case <-replayed:
	case <-time.After(w.o.CatchUp):
		stopReplay()
		<-replayed
	}
	w.catchUp(ctx, js, rec)
	stopSampler()
	sampler.Wait()
	stopClients()
	clients.Wait()
	for _, name := range w.Consumers() {
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

// replay waits until ReplayAt after the run began (on the history's
// clock), then creates the replay durable with Replay's deliver policy,
// records it and adds it to the durables.
func (w *Consume) replay(ctx context.Context, js jetstream.JetStream, rec *history.Recorder, began time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(began + w.o.ReplayAt - rec.Since()):
	}
	var last uint64
	err := retry(ctx, "stream info", func(ctx context.Context) error {
		st, err := js.Stream(ctx, w.o.Queue.Stream)
		if err == nil {
			last = st.CachedInfo().State.LastSeq
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("replay durable: %w", err)
	}
	cfg := w.config(replayName, "")
	h := history.ConsumerConfig{DeliverPolicy: w.o.Replay, CreatedAtSeq: last}
	switch w.o.Replay {
	case "by_start_sequence":
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, max(last/2, 1)
		h.StartSeq = cfg.OptStartSeq
	case "by_start_time":
		h.StartTime = began + (rec.Since()-began)/2
		t := rec.Start().Add(h.StartTime)
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	default:
		return fmt.Errorf("replay durable: deliver policy %q", w.o.Replay)
	}
	if err := w.create(ctx, js, cfg); err != nil {
		return fmt.Errorf("replay durable: %w", err)
	}
	w.record(rec, cfg, h)
	w.mu.Lock()
	w.names = append(w.names, replayName)
	w.mu.Unlock()
	return nil
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
	var ci *jetstream.ConsumerInfo
	if w.o.Push {
		cons, err := js.PushConsumer(ictx, w.o.Queue.Stream, name)
		if err != nil {
			return history.ConsumerState{}, err
		}
		ci = cons.CachedInfo()
	} else {
		cons, err := js.Consumer(ictx, w.o.Queue.Stream, name)
		if err != nil {
			return history.ConsumerState{}, err
		}
		ci = cons.CachedInfo()
	}
	s := history.ConsumerState{
		Consumer: name, NumPending: ci.NumPending, NumAckPending: ci.NumAckPending,
		Delivered: ci.Delivered.Stream, DeliveredConsumer: ci.Delivered.Consumer, AckFloor: ci.AckFloor.Stream, Paused: ci.Paused,
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
		for _, name := range w.Consumers() {
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
		for _, name := range w.Consumers() {
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
