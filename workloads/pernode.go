package workloads

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
	"jetstorm/history"
)

// DrainNodes reads every replica's own copy of the stream, one node at a
// time, for the per-node (split-brain) check. A consumer delivers from the
// store of the server that hosts it, so each node's copy is read through
// an ephemeral R1 consumer placed on that node, in batches: no leader
// moves, and an hour's stream at 10,000 messages a second reads in
// minutes. The cluster places an R1 consumer at random among the stream's
// peers whose meta log is caught up, so it is created again until it
// lands on the node; a node that just restarted may take a while to
// qualify. If none lands there within placeFor, the node is made the
// stream leader and read with STREAM.MSG.GET, which only the leader
// answers from its own store (one request a message: slow, but it works
// where placement does not). Each node's read is bracketed by node-drain
// ops; it is incomplete (info) if the read failed.
func (q *Queue) DrainNodes(ctx context.Context, c clusters.Cluster, rec *history.Recorder) error {
	nc, js, err := connectAll(c, "per-node drain")
	if err != nil {
		return err
	}
	defer nc.Close()
	names, err := q.peers(ctx, js)
	if err != nil {
		return fmt.Errorf("per-node drain: %w", err)
	}
	var errs []error
	for _, name := range names {
		rec.Record(history.Op{Process: -1, Type: history.Invoke, F: history.FNodeDrain, Node: name})
		n, err := q.drainNode(ctx, js, name, rec)
		op := history.Op{Process: -1, Type: history.OK, F: history.FNodeDrain, Node: name, Value: n}
		if err != nil {
			op.Type, op.Err = history.Info, err.Error()
			errs = append(errs, fmt.Errorf("read %s's copy: %w", name, err))
		}
		rec.Record(op)
	}
	return errors.Join(errs...)
}

// peers are the nodes holding a copy of the stream (its leader and
// replicas), sorted.
func (q *Queue) peers(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	info, err := q.info(ctx, js)
	if err != nil {
		return nil, err
	}
	var names []string
	if info.Cluster != nil {
		if info.Cluster.Leader != "" {
			names = append(names, info.Cluster.Leader)
		}
		for _, r := range info.Cluster.Replicas {
			names = append(names, r.Name)
		}
	}
	sort.Strings(names)
	return names, nil
}

func (q *Queue) info(ctx context.Context, js jetstream.JetStream) (*jetstream.StreamInfo, error) {
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := js.Stream(actx, q.o.Stream)
	if err != nil {
		return nil, err
	}
	return st.Info(actx)
}

// nodeReadBatch is how many messages a per-node read fetches at once.
const nodeReadBatch = 2000

func (q *Queue) drainNode(ctx context.Context, js jetstream.JetStream, name string, rec *history.Recorder) (int, error) {
	n, err := q.readNode(ctx, js, name, placeFor, func(m jetstream.Msg, md *jetstream.MsgMetadata) {
		rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FNodeRead, Node: name,
			Value: q.readValue(m.Subject(), m.Headers(), m.Data(), md.Timestamp), Seq: md.Sequence.Stream})
	})
	if errors.Is(err, errNotPlaced) {
		return q.drainNodeAsLeader(ctx, js, name, rec)
	}
	return n, err
}

// readNode reads node name's own copy of the whole stream through an
// ephemeral consumer placed on it (trying for at most budget), calling
// each for every message, and returns how many it read.
func (q *Queue) readNode(ctx context.Context, js jetstream.JetStream, name string, budget time.Duration, each func(jetstream.Msg, *jetstream.MsgMetadata)) (int, error) {
	st, err := js.Stream(ctx, q.o.Stream)
	if err != nil {
		return 0, err
	}
	cons, err := q.consumerOn(ctx, js, st, name, budget)
	if err != nil {
		return 0, err
	}
	defer js.DeleteConsumer(context.Background(), q.o.Stream, cons.CachedInfo().Name)
	if cons.CachedInfo().NumPending == 0 {
		return 0, nil // an empty copy
	}
	return fetchAll(ctx, cons, name, each)
}

// fetchAll reads everything consumer cons (hosted on node name, just
// created) has pending, calling each for every message, and returns how
// many it read.
func fetchAll(ctx context.Context, cons jetstream.Consumer, name string, each func(jetstream.Msg, *jetstream.MsgMetadata)) (int, error) {
	read, early := 0, 0
	for {
		batch, err := cons.Fetch(nodeReadBatch, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return read, err
		}
		got := 0
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return read, err
			}
			got++
			each(m, md)
			read++
			if md.NumPending == 0 {
				return read, nil
			}
		}
		err = batch.Error()
		// A consumer just created on a node: its pull subject may not have
		// reached the client's server yet (seen in CI: "no responders").
		if got == 0 && read == 0 && early < 25 && errors.Is(err, nats.ErrNoResponders) {
			early++
			select {
			case <-ctx.Done():
				return read, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			return read, err
		}
		if got == 0 {
			return read, fmt.Errorf("no messages from %s's copy within 5 s after %d read", name, read)
		}
		if ctx.Err() != nil {
			return read, ctx.Err()
		}
	}
}

// placeFor is how long consumerOn tries to place a consumer on a node.
const placeFor = 30 * time.Second

var errNotPlaced = errors.New("no consumer could be placed on the node")

// consumerOn creates an ephemeral R1 consumer of the whole stream hosted
// on node name, deleting and creating it again while the cluster places it
// elsewhere (after a few quick tries, every 200 ms), for at most budget.
func (q *Queue) consumerOn(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, name string, budget time.Duration) (jetstream.Consumer, error) {
	hosts := map[string]int{}
	var lastErr error
	deadline := time.Now().Add(budget)
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		if attempt >= 10 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		cons, err := st.CreateConsumer(actx, jetstream.ConsumerConfig{
			DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckNonePolicy,
			InactiveThreshold: time.Minute, Replicas: 1, MemoryStorage: true,
		})
		cancel()
		if err != nil {
			lastErr = err // e.g. right after a restart: tried again
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			continue
		}
		host := ""
		if ci := cons.CachedInfo(); ci.Cluster != nil {
			host = ci.Cluster.Leader
		}
		if host == name {
			return cons, nil
		}
		hosts[host]++
		js.DeleteConsumer(context.Background(), q.o.Stream, cons.CachedInfo().Name)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("%w %s in %s (placed on %v; last error: %v)", errNotPlaced, name, budget, hosts, lastErr)
}

// drainNodeAsLeader reads node name's copy as its stream leader
// (readAsLeader), each message a node-read op.
func (q *Queue) drainNodeAsLeader(ctx context.Context, js jetstream.JetStream, name string, rec *history.Recorder) (int, error) {
	return q.readAsLeader(ctx, js, name, func(m *jetstream.RawStreamMsg) {
		rec.Record(history.Op{Process: -1, Type: history.OK, F: history.FNodeRead, Node: name,
			Value: q.readValue(m.Subject, m.Header, m.Data, m.Time), Seq: m.Sequence})
	})
}

// readAsLeader reads node name's copy by making it the stream leader and
// asking for each sequence with STREAM.MSG.GET, which only the leader
// answers, from its own store, calling each for every message.
func (q *Queue) readAsLeader(ctx context.Context, js jetstream.JetStream, name string, each func(*jetstream.RawStreamMsg)) (int, error) {
	if err := clusters.MoveStreamLeader(ctx, js.Conn(), q.o.Stream, name); err != nil {
		return 0, err
	}
	info, err := q.info(ctx, js)
	if err != nil {
		return 0, err
	}
	read := 0
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := getMsg(ctx, js.Conn(), q.o.Stream, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // a gap on this node: the check sees what is missing
		}
		if err != nil {
			return read, fmt.Errorf("get seq %d: %w", seq, err)
		}
		each(m)
		read++
	}
	// Every message must have come from this node's store.
	after, err := q.info(ctx, js)
	if err != nil {
		return read, err
	}
	if after.Cluster == nil || after.Cluster.Leader != name {
		return read, fmt.Errorf("leadership moved away from %s during the read", name)
	}
	return read, nil
}
