package workloads

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	// Retention is the stream's retention policy: limits (""), workqueue
	// or interest. With workqueue or interest the final drains read from
	// the stream leader (STREAM.MSG.GET) only: a second, unfiltered
	// consumer is refused on a work queue and would ack on an interest
	// stream.
	Retention string
	// Partitions > 0 publishes value counter to <stream>.q.<counter mod
	// Partitions> instead of <stream>.queue (disjoint consumer filters).
	Partitions int
	// Connections > 0: the clients share that many connections, client i
	// connection i mod Connections, pinned to node (i mod Connections) mod
	// N. Each client is still its own process with one publish in flight,
	// but the writes of many go out together: one connection per client
	// (0, the default) costs a flush and a server wakeup per publish.
	Connections int
	// Roam: a client may reconnect to any node (workload.clients_roam). It
	// starts on its node and, when that connection drops (a lame duck, a
	// node cut off from its clients), moves to the next node in order; its
	// ops record the node it was connected to. Default: pinned.
	Roam bool
	// RetryFor > 0: a publish whose outcome is unknown is sent again
	// with the same Nats-Msg-Id until acked, for at most this long
	// (exactly-once publishing, with Duplicates longer than the run).
	RetryFor time.Duration
	// Duplicates is the stream's duplicate window (default 2m).
	Duplicates time.Duration
	// ReadValue, when set, is what the drains record as a message's value
	// (default: its body up to the first space).
	ReadValue func(subject string, h nats.Header, data []byte, stored time.Time) string
	// Counter makes the stream a counter stream (AllowMsgCounter), for the
	// counter workload.
	Counter bool
	// Atomic makes the stream take atomic batch publishes
	// (AllowAtomicPublish) and direct gets (AllowDirect), for the batch
	// workload. The drains still read from the leader (leaderGet).
	Atomic bool
	// Configure, when set, adjusts the stream's config before Setup
	// creates it (the ttl and schedule workloads' stream features).
	Configure func(*jetstream.StreamConfig)
}

// Queue is Jepsen's queue workload: clients pinned to nodes publish unique
// values ("<process>-<counter>", also the Nats-Msg-Id) open loop at a fixed
// total rate; the final drain reads the whole stream back.
type Queue struct {
	o QueueOptions
	// drainOn, when set (tests), makes the final drain recreate its
	// consumer until this node hosts it.
	drainOn string
	urls    []string // every node's client URL (Setup), for roaming clients
}

func NewQueue(o QueueOptions) *Queue {
	if o.Stream == "" {
		o.Stream = "jetstorm"
	}
	if o.Duplicates <= 0 {
		o.Duplicates = 2 * time.Minute
	}
	return &Queue{o: o}
}

func (q *Queue) Name() string    { return "queue" }
func (q *Queue) Stream() string  { return q.o.Stream }
func (q *Queue) subject() string { return q.o.Stream + ".queue" }

// subjectFor is the subject a process's counter-th publish goes to.
func (q *Queue) subjectFor(counter int) string {
	if q.o.Partitions > 0 {
		return PartitionSubject(q.o.Stream, counter%q.o.Partitions)
	}
	return q.subject()
}

// PartitionSubject is the subject of partition k (QueueOptions.Partitions).
func PartitionSubject(stream string, k int) string { return fmt.Sprintf("%s.q.%d", stream, k) }

// retention maps QueueOptions.Retention to the stream's policy.
func (q *Queue) retention() jetstream.RetentionPolicy {
	switch q.o.Retention {
	case "workqueue":
		return jetstream.WorkQueuePolicy
	case "interest":
		return jetstream.InterestPolicy
	}
	return jetstream.LimitsPolicy
}

func (q *Queue) Setup(ctx context.Context, c clusters.Cluster) error {
	q.urls = clusters.ClientURLs(c)
	nc, js, err := connectAll(c, "queue setup")
	if err != nil {
		return err
	}
	defer nc.Close()
	storage := storageOf(q.o.Memory)
	// Retry: right after the cluster forms, the meta leader may still be settling.
	for {
		// Each attempt gets its own deadline: a request the meta leader never
		// answers would otherwise use up the whole setup time.
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cfg := jetstream.StreamConfig{
			Name: q.o.Stream, Subjects: []string{q.o.Stream + ".>"},
			Replicas: q.o.Replicas, Storage: storage,
			Duplicates: q.o.Duplicates, Retention: q.retention(),
			// The drains read with STREAM.MSG.GET (leaderGet), which only
			// the leader answers even where direct gets are allowed.
			AllowDirect: q.o.Atomic, AllowAtomicPublish: q.o.Atomic, AllowMsgCounter: q.o.Counter,
		}
		if q.o.Configure != nil {
			q.o.Configure(&cfg)
		}
		_, err = js.CreateOrUpdateStream(actx, cfg)
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

// Run starts Clients clients, client i pinned to node i mod N (with
// Connections, to its shared connection's node). Each client
// is a sequence of logical processes: process p starts as i and, after an
// op with an unknown outcome, is retired and continues as p+Clients (as
// Jepsen does), so one process never has two ops in flight.
func (q *Queue) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	if q.o.RetryFor > 0 {
		rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FDedup,
			Value: history.Dedup{WindowMs: q.o.Duplicates.Milliseconds(), RetryForMs: q.o.RetryFor.Milliseconds()}})
	}
	var pool *connPool
	if q.o.Connections > 0 {
		pool = &connPool{nodes: c.Nodes(), n: q.o.Connections, connect: q.connectClient, conns: map[int]*nats.Conn{}, js: map[int]jetstream.JetStream{}}
		defer pool.close()
	}
	return runPinned(ctx, c, rec, q.o.Clients, q.o.Rate, q.o.Duration, func(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
		return q.client(ctx, rec, pool, node, id, next, end, interval)
	})
}

// connectClient opens a client's connection to its node: pinned, or with
// Roam the node first and then every other one.
func (q *Queue) connectClient(node clusters.Node, name string) (*nats.Conn, jetstream.JetStream, error) {
	urls := []string{node.ClientURL()}
	if q.o.Roam {
		for _, u := range q.urls {
			if u != node.ClientURL() {
				urls = append(urls, u)
			}
		}
	}
	return connectURLs(node, urls, name)
}

// nodeOf is the node a client's op is recorded at: its own, or with Roam
// the one it is connected to now.
func (q *Queue) nodeOf(nc *nats.Conn, node clusters.Node) string {
	if q.o.Roam {
		if s := nc.ConnectedServerName(); s != "" {
			return s
		}
	}
	return node.Name()
}

// connPool is the connections clients share (QueueOptions.Connections),
// each made at its first use.
type connPool struct {
	nodes   []clusters.Node
	n       int
	connect func(clusters.Node, string) (*nats.Conn, jetstream.JetStream, error)
	mu      sync.Mutex
	conns   map[int]*nats.Conn
	js      map[int]jetstream.JetStream
}

// get is client id's connection and the node it is pinned to.
func (p *connPool) get(id int) (clusters.Node, jetstream.JetStream, error) {
	j := id % p.n
	node := p.nodes[j%len(p.nodes)]
	p.mu.Lock()
	defer p.mu.Unlock()
	if js, ok := p.js[j]; ok {
		return node, js, nil
	}
	nc, js, err := p.connect(node, fmt.Sprintf("jetstorm-queue-conn-%d", j))
	if err != nil {
		return node, nil, err
	}
	p.conns[j], p.js[j] = nc, js
	return node, js, nil
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, nc := range p.conns {
		nc.Close()
	}
}

func (q *Queue) client(ctx context.Context, rec *history.Recorder, pool *connPool, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	var js jetstream.JetStream
	if pool != nil {
		var err error
		if node, js, err = pool.get(id); err != nil {
			return err
		}
	} else {
		nc, njs, err := q.connectClient(node, fmt.Sprintf("jetstorm-queue-%d", id))
		if err != nil {
			return err
		}
		defer nc.Close()
		js = njs
	}
	process, counter := id, 0
	var pad []byte
	for ; next.Before(end); next = next.Add(interval) {
		// Open loop: wait for the intended start; when behind, go at once.
		// The invoke is recorded at the intended time, so latency includes
		// any queueing behind a slow op.
		if !waitDue(ctx, next) {
			return nil
		}
		value, subject := fmt.Sprintf("%d-%d", process, counter), q.subjectFor(counter)
		counter++
		data := queueBody(value, q.o.Payload, &pad)
		at := q.nodeOf(js.Conn(), node)
		inv := history.Op{Process: process, Type: history.Invoke, F: history.FPublish,
			Value: value, Node: at, Time: next.Sub(rec.Start())}
		if q.o.Partitions > 0 { // consumers filter by subject: the checker matches it
			inv.Subject = subject
		}
		rec.Record(inv)
		op := q.publish(ctx, rec, js, process, at, subject, value, data)
		rec.Record(op)
		if op.Type == history.Info {
			process += q.o.Clients
			counter = 0
		}
	}
	return nil
}

// publish publishes value once; with RetryFor, a publish whose outcome is
// unknown is sent again with the same Nats-Msg-Id (each retry recorded as
// a publish-retry op) until it is acked, RetryFor has passed since the
// first attempt, or ctx ends. The completion it returns is ok when an
// attempt was acked, else info when any attempt may have been stored, else
// fail.
func (q *Queue) publish(ctx context.Context, rec *history.Recorder, js jetstream.JetStream, process int, node, subject, value string, data []byte) history.Op {
	op := history.Op{Process: process, F: history.FPublish, Value: value, Node: node}
	first, maybe := time.Now(), false
	for attempt := 0; ; attempt++ {
		var ack *jetstream.PubAck
		var err error
		if js.Conn().IsReconnecting() {
			err = errNotSent // see errNotSent
		} else {
			pctx, cancel := context.WithTimeout(context.Background(), q.o.Timeout)
			ack, err = js.PublishMsg(pctx, &nats.Msg{Subject: subject, Data: data}, jetstream.WithMsgID(value))
			cancel()
		}
		if err == nil {
			op.Type, op.Seq, op.Err = history.OK, ack.Sequence, ""
			return op
		}
		op.Err = err.Error()
		maybe = maybe || Classify(err) == history.Info
		if !maybe || q.o.RetryFor <= 0 || time.Since(first) >= q.o.RetryFor || !waitDue(ctx, time.Now().Add(250*time.Millisecond)) {
			break
		}
		rec.Record(history.Op{Process: process, Type: history.Info, F: history.FPublishRetry, Value: value, Node: node, Err: err.Error()})
	}
	op.Type = history.Fail
	if maybe {
		op.Type = history.Info
	}
	return op
}

// errNotSent is the outcome of a publish on a connection that is
// reconnecting (its node down or cut off): not sent, so Fail. nats.go
// would refuse it too (no reconnect buffer: connect), but as a request it
// first registers a reply entry that it never removes when the publish
// fails (nats.go v1.55.0, Conn.createNewRequestAndSend): a 10-minute soak
// at 10,000/s with a node killed every minute grew by ~60 MB a kill, held
// until the connection closed.
var errNotSent = fmt.Errorf("not sent, the connection is reconnecting: %w", nats.ErrReconnectBufExceeded)

// Drain reads the whole stream once, in order, as a client would, up to
// the stream's last sequence as its leader reports it (stream info, asked
// again at the end), recording one read op per message with the node that
// served it. It reads with a pull consumer; when the consumer claims the
// end of the stream (nothing pending) before the leader's last sequence
// (a consumer hosted on a replica that is behind: docs/findings.md F2),
// that is recorded as a stale-read op and the rest is read with
// STREAM.MSG.GET, which only the stream leader answers (AllowDirect is off).
// It records a drain invoke, then ok when it reached the leader's last
// sequence, or info if it did not (cluster unavailable, timeout): the
// checker then says unknown.
func (q *Queue) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return recordDrain(rec, func() (int, error) { return q.drain(ctx, c, rec) })
}

// readValue is what the drains record of a message they read.
func (q *Queue) readValue(subject string, h nats.Header, data []byte, stored time.Time) string {
	if q.o.ReadValue != nil {
		return q.o.ReadValue(subject, h, data, stored)
	}
	return valueOf(data)
}

// drainState is the final drain's progress.
type drainState struct {
	q     *Queue
	c     clusters.Cluster
	js    jetstream.JetStream
	rec   *history.Recorder
	next  uint64 // the next stream sequence to read
	read  int
	stale bool // a consumer claimed the end early: read the rest from the leader
}

func (q *Queue) drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) (int, error) {
	nc, js, err := connectAll(c, "drain")
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	d := &drainState{q: q, c: c, js: js, rec: rec, next: 1}
	var lastErr error
	gone, consumerErrs := 0, 0
	for {
		if ctx.Err() != nil {
			return d.read, fmt.Errorf("drain: read %d messages, stopped at stream sequence %d: %w (last error: %v)", d.read, d.next, ctx.Err(), lastErr)
		}
		err := q.drainStep(ctx, d, consumerErrs >= 3 || q.retention() != jetstream.LimitsPolicy)
		if err == nil {
			return d.read, nil
		}
		lastErr = err
		if !errors.Is(err, errLeaderRead) {
			consumerErrs++ // after 3, read from the leader directly
		}
		// On a healthy cluster, a stream that stays "not found" is gone with
		// everything in it (e.g. after a power loss took its metadata): the
		// drain is complete, and every acked write in it is lost.
		if gone++; !errors.Is(err, jetstream.ErrStreamNotFound) {
			gone = 0
		} else if gone >= 5 {
			rec.Record(history.Op{Process: -1, Type: history.Info, F: history.FNote,
				Err: fmt.Sprintf("stream %s not found on the healed cluster: nothing left to read", q.o.Stream)})
			return d.read, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// errLeaderRead marks an error of the leader read (STREAM.MSG.GET).
var errLeaderRead = errors.New("leader read")

// drainStep reads from d.next to the leader's last sequence: with a fresh
// pull consumer unless a consumer was already caught stale (or direct is
// set), then from the leader. nil means the read reached the leader's last
// sequence, asked after the read.
func (q *Queue) drainStep(ctx context.Context, d *drainState, direct bool) error {
	for {
		st, info, err := q.leaderInfo(ctx, d.js)
		if err != nil {
			return err
		}
		last := info.State.LastSeq
		if info.State.Msgs == 0 || d.next > last {
			return nil // at (or past) the leader's end, asked after reading
		}
		if d.stale || direct {
			if err := q.readFromLeader(ctx, d, info, last); err != nil {
				return fmt.Errorf("%w: %w", errLeaderRead, err)
			}
			continue
		}
		if err := q.readWithConsumer(ctx, d, st); err != nil {
			return err
		}
	}
}

// leaderInfo asks for the stream's info, which its leader answers.
func (q *Queue) leaderInfo(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, *jetstream.StreamInfo, error) {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second) // per request, as in Setup
	defer cancel()
	st, err := js.Stream(actx, q.o.Stream)
	if err != nil {
		return nil, nil, err
	}
	info, err := st.Info(actx)
	return st, info, err
}

// readFromLeader reads d.next..last with STREAM.MSG.GET, which only the
// stream leader answers from its own store. A sequence the leader does not
// have (deleted, or a gap) is skipped: the check sees what is missing.
func (q *Queue) readFromLeader(ctx context.Context, d *drainState, info *jetstream.StreamInfo, last uint64) error {
	leader := ""
	if info.Cluster != nil {
		leader = info.Cluster.Leader
	}
	for ; d.next <= last; d.next++ {
		m, err := getMsg(ctx, d.js.Conn(), q.o.Stream, d.next)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get seq %d from the leader: %w", d.next, err)
		}
		d.rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FRead,
			Value: q.readValue(m.Subject, m.Header, m.Data, m.Time), Seq: m.Sequence, Node: leader})
		d.read++
	}
	return nil
}

// readWithConsumer reads from d.next with a fresh ephemeral pull consumer,
// advancing d.next as it goes, until the consumer reports nothing pending.
// If that comes before the leader's last sequence, the consumer's host is
// behind: a stale read, recorded, and d.stale set.
func (q *Queue) readWithConsumer(ctx context.Context, d *drainState, st jetstream.Stream) error {
	cons, host, err := q.drainConsumer(ctx, d.js, st, d.next)
	if err != nil {
		return err
	}
	defer d.js.DeleteConsumer(context.Background(), q.o.Stream, cons.CachedInfo().Name)
	for {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return err
		}
		got := 0
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			got++
			if !d.record(m, md, host) {
				continue // never record a message twice
			}
			if md.NumPending == 0 {
				return q.checkEnd(ctx, d, cons, host, md.Sequence.Stream)
			}
		}
		if err := batch.Error(); err != nil {
			return err
		}
		if got == 0 {
			return fmt.Errorf("no messages from sequence %d within 2s (consumer on %s)", d.next, host)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// record records a message the drain's consumer on host delivered, unless
// it was already read; false if it was.
func (d *drainState) record(m jetstream.Msg, md *jetstream.MsgMetadata, host string) bool {
	if md.Sequence.Stream < d.next {
		return false
	}
	d.rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FRead,
		Value: d.q.readValue(m.Subject(), m.Headers(), m.Data(), md.Timestamp), Seq: md.Sequence.Stream, Node: host})
	d.read++
	d.next = md.Sequence.Stream + 1
	return true
}

// checkEnd compares the end a consumer hosted on host claimed with the
// leader's last sequence; a claim short of it is a stale read. If the
// host's own copy (its /jsz, read after the claim) already reaches the
// leader's last sequence, the consumer is asked once more: delivering
// nothing then proves it hid what its node held (Confirmed); delivering
// more means the node had just caught up.
func (q *Queue) checkEnd(ctx context.Context, d *drainState, cons jetstream.Consumer, host string, claimed uint64) error {
	_, info, err := q.leaderInfo(ctx, d.js)
	if err != nil {
		return err
	}
	if claimed >= info.State.LastSeq {
		return nil
	}
	sr := history.StaleRead{ClaimedEnd: claimed, LeaderLast: info.State.LastSeq}
	if info.Cluster != nil {
		sr.Leader = info.Cluster.Leader
	}
	if n := clusters.NodeByName(d.c, host); n == nil || n.MonitorURL() == "" {
		sr.NodeLastErr = "no monitor endpoint for " + host
	} else {
		jctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		sr.NodeLast, err = clusters.StreamLastSeq(jctx, n, q.o.Stream)
		cancel()
		if err != nil {
			sr.NodeLastErr = err.Error()
		}
	}
	if sr.NodeLastErr == "" && sr.NodeLast >= sr.LeaderLast {
		sr.Confirmed = true
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err == nil {
			for m := range batch.Messages() {
				if md, err := m.Metadata(); err == nil {
					d.record(m, md, host)
				}
				sr.Confirmed = false
			}
			err = batch.Error()
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) {
			sr.Confirmed = false // not asked: nothing proven
		}
	}
	d.rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FStaleRead, Node: host, Value: sr})
	d.stale = true
	return nil
}

// drainConsumer creates the drain's ephemeral consumer from sequence next
// and says which node hosts it. With drainOn set (tests), it recreates the
// consumer until that node hosts it.
func (q *Queue) drainConsumer(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, next uint64) (jetstream.Consumer, string, error) {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cons, err := st.CreateOrUpdateConsumer(actx, jetstream.ConsumerConfig{
			DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: next,
			AckPolicy: jetstream.AckNonePolicy, InactiveThreshold: time.Minute,
			Replicas: 1, MemoryStorage: true,
		})
		cancel()
		if err != nil {
			return nil, "", err
		}
		host := ""
		if ci := cons.CachedInfo(); ci.Cluster != nil {
			host = ci.Cluster.Leader
		}
		if q.drainOn == "" || host == q.drainOn || attempt >= 100 || ctx.Err() != nil {
			return cons, host, nil
		}
		js.DeleteConsumer(context.Background(), q.o.Stream, cons.CachedInfo().Name)
	}
}
