package workloads

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/checker"
	"jetstorm/clusters"
	"jetstorm/history"
)

func TestMain(m *testing.M) {
	clusters.RunNodeIfChild()
	os.Exit(m.Run())
}

// orderedCluster lists a cluster's nodes in a chosen order: the drain's
// client connects to the first.
type orderedCluster struct {
	clusters.Cluster
	nodes []clusters.Node
}

func (c orderedCluster) Nodes() []clusters.Node { return c.nodes }

// The final drain's consumer sits on a replica that is behind (its route
// links from the stream leader rate-limited while the others take writes):
// the consumer claims the end of the stream early, and the drain records
// the stale read and reads on from the leader to its last sequence, so
// nothing is called lost.
func TestDrainStaleRead(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real 3-node cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	lc := startLagging(t, ctx)
	c, q, js, rec, leader, lag, relay := lc.c, lc.q, lc.js, lc.rec, lc.leader, lc.lag, lc.relay
	var err error
	q.drainOn = lag.Name()
	dctx, dcancel := context.WithTimeout(ctx, 60*time.Second)
	defer dcancel()
	if err := q.Drain(dctx, orderedCluster{c, []clusters.Node{relay, clusters.NodeByName(c, leader), lag}}, rec); err != nil {
		t.Fatalf("drain: %v", err)
	}

	r := checker.RunOne(ctx, rec.Ops(), &checker.Queue{})
	s := r.Details.(checker.QueueStats)
	t.Logf("%s: %s", r.Verdict, r.Message)
	if r.Verdict != checker.Valid || s.Lost != 0 || s.Read != 1100 {
		t.Errorf("verdict %s, lost %d, read %d; want valid, 0, 1100", r.Verdict, s.Lost, s.Read)
	}
	if s.StaleReadCount == 0 {
		t.Fatalf("no stale read recorded; reads by node %v", s.ReadsByNode)
	}
	sr := s.StaleReads[0]
	if sr.Node != lag.Name() || sr.Leader != leader || sr.ClaimedEnd >= sr.LeaderLast || sr.LeaderLast != 1100 || sr.Hid {
		t.Errorf("stale read %+v; want on %s, leader %s, claimed end < 1100, not hiding", sr, lag.Name(), leader)
	}
	if s.ReadsByNode[lag.Name()] == 0 || s.ReadsByNode[leader] == 0 {
		t.Errorf("reads by node %v: want some from %s's consumer and the rest from leader %s", s.ReadsByNode, lag.Name(), leader)
	}
	if !strings.Contains(r.Message, "stale read") {
		t.Errorf("message does not report the stale read: %s", r.Message)
	}

	// What "hid" rests on: once the node's own copy reaches the leader's
	// last sequence, its consumer is asked again. One that still has
	// messages for the reader delivers them (the node had caught up); one
	// that has none left delivers nothing (Confirmed: it would have hidden
	// them).
	for _, l := range []clusters.LinkControl{c.Link(leader, lag.Name()), c.Link(lag.Name(), leader)} {
		l.SetRate(0)
	}
	waitFor(t, ctx, lag.Name()+" to catch up", func() error {
		if last, err := clusters.StreamLastSeq(ctx, lag, q.Stream()); err != nil || last < 1100 {
			return fmt.Errorf("last seq %d, %v", last, err)
		}
		return nil
	})
	st, err := js.Stream(ctx, q.Stream())
	if err != nil {
		t.Fatal(err)
	}
	cons, host, err := q.drainConsumer(ctx, js, st, 1)
	if err != nil || host != lag.Name() {
		t.Fatalf("consumer on %q, %v; want %s", host, err, lag.Name())
	}
	claim := func(d *drainState) history.StaleRead {
		t.Helper()
		if err := q.checkEnd(ctx, d, cons, host, 146); err != nil {
			t.Fatal(err)
		}
		var sr history.StaleRead
		for _, op := range d.rec.Ops() {
			if op.F == history.FStaleRead {
				if err := op.Decode(&sr); err != nil {
					t.Fatal(err)
				}
			}
		}
		return sr
	}
	caughtUp := &drainState{q: q, c: c, js: js, rec: history.NewRecorder(io.Discard, true), next: 147}
	if sr := claim(caughtUp); sr.Confirmed || sr.NodeLast != 1100 || caughtUp.read == 0 {
		t.Errorf("consumer with messages left: %+v, %d read; want not confirmed, node last 1100, reads recorded", sr, caughtUp.read)
	}
	for caughtUp.next <= 1100 { // let the consumer deliver the rest
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			md, _ := m.Metadata()
			caughtUp.record(m, md, host)
		}
	}
	drained := &drainState{q: q, c: c, js: js, rec: history.NewRecorder(io.Discard, true), next: 1101}
	if sr := claim(drained); !sr.Confirmed || drained.read != 0 {
		t.Errorf("consumer with nothing left: %+v; want confirmed", sr)
	}
}

func dial(t *testing.T, n clusters.Node) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(n.ClientURL(), nats.IgnoreDiscoveredServers())
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// publish publishes k values of process p as the queue workload does,
// recording each; every one must be acknowledged.
func publish(t *testing.T, ctx context.Context, js jetstream.JetStream, rec *history.Recorder, q *Queue, p, k int) {
	t.Helper()
	// Random letters: route compression must not shrink the backlog.
	pad := make([]byte, q.o.Payload)
	for i := range pad {
		pad[i] = 'a' + byte(rand.IntN(26))
	}
	for i := 0; i < k; i++ {
		v := fmt.Sprintf("%d-%d", p, i)
		rec.Record(history.Op{Process: p, Type: history.Invoke, F: history.FPublish, Value: v})
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ack, err := js.PublishMsg(pctx, &nats.Msg{Subject: q.subject(), Data: append([]byte(v+" "), pad[:q.o.Payload-len(v)-1]...)}, jetstream.WithMsgID(v))
		cancel()
		if err != nil {
			t.Fatalf("publish %s: %v", v, err)
		}
		rec.Record(history.Op{Process: p, Type: history.OK, F: history.FPublish, Value: v, Seq: ack.Sequence})
	}
}

// waitFor polls f until it returns nil, failing the test after a minute.
func waitFor(t *testing.T, ctx context.Context, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lagging is a 3-node cluster with an R3 stream of 1,100 messages, one of
// whose replicas (lag) holds only the first 100 or so: its route links
// from the stream leader are rate-limited while the rest are written. The
// meta leader is not the stream leader; the client (js) talks to relay.
type lagging struct {
	c            *clusters.ProcessCluster
	q            *Queue
	js           jetstream.JetStream
	rec          *history.Recorder
	leader, meta string
	lag, relay   clusters.Node
}

func startLagging(t *testing.T, ctx context.Context) *lagging {
	t.Helper()
	c, err := clusters.StartProcess(ctx, clusters.ProcessOptions{Dir: t.TempDir(), Nodes: 3, LinkProxies: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	q := NewQueue(QueueOptions{Replicas: 3, Payload: 512, Timeout: 5 * time.Second})
	if err := q.Setup(ctx, c); err != nil {
		t.Fatal(err)
	}

	// Roles: the stream leader must not lead the meta group too, so the
	// consumer's assignment reaches the lagging node over a fast link (the
	// meta leader places consumers on peers whose meta log is caught up).
	// The client talks to the third node, whose links are all fast.
	var leader, meta string
	waitFor(t, ctx, "a stream leader apart from the meta leader", func() error {
		if meta, err = clusters.MetaLeader(ctx, c); err != nil {
			return err
		}
		if leader, err = clusters.StreamLeader(ctx, c, q.Stream()); err != nil {
			return err
		}
		if leader != meta {
			return nil
		}
		for _, n := range c.Nodes() {
			if n.Name() != meta {
				nc, err := nats.Connect(n.ClientURL())
				if err != nil {
					return err
				}
				defer nc.Close()
				if err := clusters.MoveStreamLeader(ctx, nc, q.Stream(), n.Name()); err != nil {
					return err
				}
				break
			}
		}
		return fmt.Errorf("stream leader %s leads the meta group too; moved it", leader)
	})
	var lag, relay clusters.Node
	for _, n := range c.Nodes() {
		switch {
		case n.Name() == leader:
		case lag == nil:
			lag = n
		default:
			relay = n
		}
	}
	t.Logf("stream leader %s, meta leader %s, lagging %s, client on %s", leader, meta, lag.Name(), relay.Name())
	nc, js := dial(t, relay)
	t.Cleanup(func() { nc.Close() })
	rec := history.NewRecorder(io.Discard, true)

	publish(t, ctx, js, rec, q, 0, 100)
	waitFor(t, ctx, lag.Name()+" to hold the first 100", func() error {
		if last, err := clusters.StreamLastSeq(ctx, lag, q.Stream()); err != nil || last < 100 {
			return fmt.Errorf("last seq %d, %v", last, err)
		}
		return nil
	})
	for _, l := range []clusters.LinkControl{c.Link(leader, lag.Name()), c.Link(lag.Name(), leader)} {
		l.SetRate(20_000) // bytes/s: about 30 s of backlog for what follows
	}
	publish(t, ctx, js, rec, q, 1, 1000)
	if last, err := clusters.StreamLastSeq(ctx, lag, q.Stream()); err != nil || last >= 1100 {
		t.Fatalf("%s is not behind: last seq %d, %v", lag.Name(), last, err)
	}

	return &lagging{c: c, q: q, js: js, rec: rec, leader: leader, meta: meta, lag: lag, relay: relay}
}
