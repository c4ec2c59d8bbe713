package workloads

import (
	"context"
	"io"
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
	c, err := clusters.StartProcess(ctx, clusters.ProcessOptions{Dir: t.TempDir(), Nodes: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	q := NewQueue(QueueOptions{Replicas: 3, Clients: 9, Connections: 2, Rate: 450, Duration: 3 * time.Second, Payload: 64, Timeout: 5 * time.Second})
	if err := q.Setup(ctx, c); err != nil {
		t.Fatal(err)
	}
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
