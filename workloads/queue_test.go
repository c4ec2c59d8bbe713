package workloads

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"jetstorm/checker"
	"jetstorm/clusters"
	"jetstorm/history"
)

// Clients sharing connections (QueueOptions.Connections): 9 processes on 2
// connections, pinned to the first two nodes, each its own process; the
// run is valid.
func TestQueueSharedConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real 3-node cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, q := startQueue(t, ctx, QueueOptions{Replicas: 3, Clients: 9, Connections: 2, Rate: 450, Duration: 3 * time.Second, Payload: 64, Timeout: 5 * time.Second})
	rec := history.NewRecorder(io.Discard, true)
	if err := q.Run(ctx, c, rec); err != nil {
		t.Fatal(err)
	}
	if err := q.Drain(ctx, c, rec); err != nil {
		t.Fatal(err)
	}
	nodes, procs := map[string]int{}, map[int]bool{}
	for _, op := range rec.Ops() {
		if op.F == history.FPublish && op.Type == history.Invoke {
			nodes[op.Node]++
			procs[op.Process] = true
		}
	}
	first, second := c.Nodes()[0].Name(), c.Nodes()[1].Name()
	if len(nodes) != 2 || nodes[first] == 0 || nodes[second] == 0 || len(procs) != 9 {
		t.Errorf("publishes by node %v from %d processes; want %s and %s only, 9 processes", nodes, len(procs), first, second)
	}
	r := checker.RunOne(ctx, rec.Ops(), &checker.Queue{})
	if r.Verdict != checker.Valid {
		t.Errorf("%s: %s", r.Verdict, r.Message)
	}
}

// A client whose node is down does not send (its connection is
// reconnecting): those publishes are Fail, "not sent", and never reach
// nats.go's request path, which would keep a reply entry for each.
func TestQueueNotSentWhileReconnecting(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real 3-node cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, q := startQueue(t, ctx, QueueOptions{Replicas: 3, Clients: 3, Rate: 300, Duration: 6 * time.Second, Payload: 64, Timeout: 2 * time.Second})
	rec := history.NewRecorder(io.Discard, true)
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, c, rec) }()
	down := c.Nodes()[0]
	waitFor(t, ctx, "publishes through "+down.Name(), func() error {
		if rec.Count(history.FPublish, history.OK) < 50 {
			return errors.New("not yet")
		}
		return nil
	})
	if err := down.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	notSent := 0
	for _, op := range rec.Ops() {
		if op.F == history.FPublish && op.Type == history.Fail && strings.HasPrefix(op.Err, "not sent, the connection is reconnecting") {
			notSent++
			if op.Node != down.Name() {
				t.Errorf("not sent on %s, whose node is up: %+v", op.Node, op)
			}
		}
	}
	if notSent < 50 {
		t.Errorf("%d publishes not sent while %s was down; want most of its 3 s of load (about 300)", notSent, down.Name())
	}
}

// startQueue starts a 3-node process cluster (closed at the test's end)
// and sets up a queue workload of options o on it.
func startQueue(t *testing.T, ctx context.Context, o QueueOptions) (*clusters.ProcessCluster, *Queue) {
	t.Helper()
	c, err := clusters.StartProcess(ctx, clusters.ProcessOptions{Dir: t.TempDir(), Nodes: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	q := NewQueue(o)
	if err := q.Setup(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c, q
}
