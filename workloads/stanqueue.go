package workloads

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/stan.go"

	"jetstorm/clusters"
	"jetstorm/history"
)

// STANQueue is the queue workload on NATS Streaming (cluster.system:
// stan): the same clients, values, processes and history as Queue, so the
// same checker judges it, through the STAN client. A STAN publish is acked
// by the Raft leader once the message is stored (a replicated write); the
// ack carries no sequence, so order is judged on the drain's sequences.
// The final drain is a durable queue subscription with manual acks, read
// up to the channel's last sequence as the leader's /streaming/channelsz
// reports it (STAN has no pending count to trust). Only the leader serves
// clients (other nodes relay over NATS) and it has no leadership
// transfer, so there is no per-node read.
type STANQueue struct {
	o QueueOptions
}

func NewSTANQueue(o QueueOptions) *STANQueue {
	if o.Stream == "" {
		o.Stream = "jetstorm"
	}
	return &STANQueue{o: o}
}

func (q *STANQueue) Name() string   { return "queue" }
func (q *STANQueue) Stream() string { return q.o.Stream }

// channel is the STAN channel the clients publish to.
func (q *STANQueue) channel() string { return q.o.Stream + ".queue" }

// stanConnect opens a STAN connection over a NATS connection to url (the
// same pinned, unbuffered connection the JetStream clients use: a publish
// while it reconnects fails at once, not sent).
func stanConnect(url, clientID string, pubTimeout time.Duration, lost func()) (stan.Conn, error) {
	nc, err := connect(url, clientID)
	if err != nil {
		return nil, err
	}
	sc, err := stan.Connect(clusters.STANClusterID, clientID, stan.NatsConn(nc), stan.PubAckWait(pubTimeout),
		stan.ConnectWait(5*time.Second), stan.Pings(1, 5),
		stan.SetConnectionLostHandler(func(stan.Conn, error) {
			if lost != nil {
				lost()
			}
		}))
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &ownedConn{Conn: sc, nc: nc}, nil
}

// ownedConn closes the NATS connection it was made over with it (a STAN
// connection given one with NatsConn leaves it open).
type ownedConn struct {
	stan.Conn
	nc *nats.Conn
}

func (c *ownedConn) Close() error {
	err := c.Conn.Close()
	c.nc.Close()
	return err
}

// Setup waits until a STAN client can connect (the streaming servers have
// a leader); channels are created by their first publish.
func (q *STANQueue) Setup(ctx context.Context, c clusters.Cluster) error {
	return retry(ctx, "stan setup", func(ctx context.Context) error {
		sc, err := stanConnect(c.Nodes()[0].ClientURL(), "jetstorm-setup", 5*time.Second, nil)
		if err != nil {
			return err
		}
		return sc.Close()
	})
}

// Run runs the clients as Queue.Run does: client i pinned to node i mod
// N, one publish in flight, a new process after an unknown outcome.
func (q *STANQueue) Run(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return runPinned(ctx, c, rec, q.o.Clients, q.o.Rate, q.o.Duration, q.client)
}

// stanClient is one client's connection, remade after it is lost.
type stanClient struct {
	q       *STANQueue
	node    clusters.Node
	id, gen int
	sc      stan.Conn
	lost    chan struct{} // closed by the connection-lost handler
	retryAt time.Time
}

// conn is the client's connection, (re)made if it has none or lost it;
// nil while it cannot connect (then the publish is not sent).
func (cl *stanClient) conn() (stan.Conn, error) {
	if cl.sc != nil {
		select {
		case <-cl.lost:
			cl.sc.Close()
			cl.sc = nil
		default:
			return cl.sc, nil
		}
	}
	if time.Now().Before(cl.retryAt) {
		return nil, errors.New("not connected (reconnecting)")
	}
	cl.gen++
	lost := make(chan struct{})
	var once sync.Once
	// A fresh client id each time: the server keeps a lost client's id
	// registered until its heartbeats fail.
	sc, err := stanConnect(cl.node.ClientURL(), fmt.Sprintf("jetstorm-queue-%d-%d", cl.id, cl.gen), cl.q.o.Timeout,
		func() { once.Do(func() { close(lost) }) })
	if err != nil {
		cl.retryAt = time.Now().Add(250 * time.Millisecond)
		return nil, fmt.Errorf("not connected: %w", err)
	}
	cl.sc, cl.lost = sc, lost
	return sc, nil
}

func (q *STANQueue) client(ctx context.Context, rec *history.Recorder, node clusters.Node, id int, next, end time.Time, interval time.Duration) error {
	cl := &stanClient{q: q, node: node, id: id}
	defer func() {
		if cl.sc != nil {
			cl.sc.Close()
		}
	}()
	process, counter := id, 0
	var pad []byte
	for ; next.Before(end); next = next.Add(interval) {
		if !waitDue(ctx, next) {
			return nil
		}
		value := fmt.Sprintf("%d-%d", process, counter)
		counter++
		data := queueBody(value, q.o.Payload, &pad)
		rec.Record(history.Op{Process: process, Type: history.Invoke, F: history.FPublish,
			Value: value, Node: node.Name(), Time: next.Sub(rec.Start())})
		op := history.Op{Process: process, F: history.FPublish, Value: value, Node: node.Name()}
		op.Type, op.Err = cl.publish(data)
		rec.Record(op)
		if op.Type == history.Info {
			process += q.o.Clients
			counter = 0
		}
	}
	return nil
}

// publish sends one message and waits for its ack. What failed before the
// message left (no connection, the NATS connection reconnecting) is Fail;
// anything after it left (ack timeout, connection closed while waiting, an
// error in the ack) is Info: it may have been stored.
func (cl *stanClient) publish(data []byte) (history.OpType, string) {
	sc, err := cl.conn()
	if err != nil {
		return history.Fail, err.Error()
	}
	done := make(chan error, 1)
	if _, err := sc.PublishAsync(cl.q.channel(), data, func(_ string, err error) { done <- err }); err != nil {
		// The client closes the connection on missed pings while a
		// publish may be going out on the NATS connection under it: a
		// closed connection proves nothing was sent only when it was
		// closed (lost) before this publish began, which cl.conn checked.
		if errors.Is(err, stan.ErrConnectionClosed) {
			return history.Info, err.Error()
		}
		return history.Fail, "not sent: " + err.Error()
	}
	select {
	case err := <-done:
		if err == nil {
			return history.OK, ""
		}
		return history.Info, err.Error()
	case <-time.After(cl.q.o.Timeout + 5*time.Second): // the client's own ack timer fires first
		return history.Info, "no ack and no ack timeout"
	}
}

// Drain reads the channel back whole (see STANQueue), recording a read op
// per message (value, sequence, the leader that served it) between a
// drain invoke and ok, or info when it could not reach the last sequence.
func (q *STANQueue) Drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	return recordDrain(rec, func() (int, error) { return q.drain(ctx, c, rec) })
}

// channelLast asks the leader for the channel's last sequence (0: the
// channel does not exist: nothing was stored).
func (q *STANQueue) channelLast(ctx context.Context, c clusters.Cluster) (string, uint64, error) {
	leader, err := clusters.STANLeader(ctx, c)
	if err != nil {
		return "", 0, err
	}
	var ch struct {
		LastSeq uint64 `json:"last_seq"`
	}
	err = clusters.GetJSON(ctx, clusters.NodeByName(c, leader), "/streaming/channelsz?channel="+url.QueryEscape(q.channel()), &ch)
	if err != nil && clusters.IsNotFound(err) {
		return leader, 0, nil
	}
	return leader, ch.LastSeq, err
}

func (q *STANQueue) drain(ctx context.Context, c clusters.Cluster, rec *history.Recorder) (int, error) {
	leader, last, err := q.channelLast(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("drain: the channel's last sequence: %w", err)
	}
	if last == 0 {
		return 0, nil
	}
	sc, err := stanConnect(clusters.NodeByName(c, leader).ClientURL(), "jetstorm-drain", 10*time.Second, nil)
	if err != nil {
		return 0, fmt.Errorf("drain: connect: %w", err)
	}
	defer sc.Close()
	var (
		mu   sync.Mutex
		seen = map[uint64]bool{}
		high uint64
		got  = make(chan struct{}, 1)
	)
	sub, err := sc.QueueSubscribe(q.channel(), "jetstorm-drain", func(m *stan.Msg) {
		mu.Lock()
		if !seen[m.Sequence] { // a redelivery is the same write read again
			seen[m.Sequence] = true
			high = max(high, m.Sequence)
			rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FRead,
				Value: valueOf(m.Data), Seq: m.Sequence, Node: leader})
		}
		mu.Unlock()
		_ = m.Ack()
		select {
		case got <- struct{}{}:
		default:
		}
	}, stan.DurableName("jetstorm-drain"), stan.DeliverAllAvailable(), stan.SetManualAckMode(),
		stan.AckWait(30*time.Second), stan.MaxInflight(1024))
	if err != nil {
		return 0, fmt.Errorf("drain: subscribe: %w", err)
	}
	defer sub.Close()
	for {
		mu.Lock()
		h, n := high, len(seen)
		mu.Unlock()
		if h >= last {
			// In order from one subscriber: everything up to the last
			// sequence has come. Asked again: nothing more was stored.
			if _, again, err := q.channelLast(ctx, c); err == nil && again > last {
				last = again
				continue
			}
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, fmt.Errorf("drain: read up to seq %d of %d: %w", h, last, ctx.Err())
		case <-got:
		case <-time.After(time.Second):
		}
	}
}
