package workloads

import (
	"context"
	"io"
	"testing"
	"time"

	"jetstorm/clusters"
	"jetstorm/history"
)

// The per-node drain reads each replica's own copy: the replica that is
// behind shows only what it holds, the others all 1,100 messages, each
// read labelled with its node, and every node's read complete.
func TestDrainNodesReadsEachCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real 3-node cluster; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	lc := startLagging(t, ctx)
	rec := history.NewRecorder(io.Discard, true)
	dctx, dcancel := context.WithTimeout(ctx, 60*time.Second)
	defer dcancel()
	// The client on relay: the lagging node's slow links would time out
	// its requests.
	c := orderedCluster{lc.c, []clusters.Node{lc.relay, clusters.NodeByName(lc.c, lc.leader), lc.lag}}
	if err := lc.q.DrainNodes(dctx, c, rec); err != nil {
		t.Fatalf("per-node drain: %v", err)
	}
	reads, complete := map[string]int{}, map[string]bool{}
	for _, op := range rec.Ops() {
		switch {
		case op.F == history.FNodeRead && op.Type == history.OK:
			reads[op.Node]++
		case op.F == history.FNodeDrain && op.Type == history.OK:
			complete[op.Node] = true
		}
	}
	t.Logf("reads by node %v (%s is behind)", reads, lc.lag.Name())
	for _, n := range lc.c.Nodes() {
		got := reads[n.Name()]
		switch {
		case !complete[n.Name()]:
			t.Errorf("%s's read is not complete", n.Name())
		case n.Name() == lc.lag.Name() && (got < 100 || got >= 1100):
			t.Errorf("%s (behind) read %d; want its own copy: at least 100, fewer than 1100", n.Name(), got)
		case n.Name() != lc.lag.Name() && got != 1100:
			t.Errorf("%s read %d, want 1100", n.Name(), got)
		}
	}

	// The fallback when no consumer can be placed on a node: it is made
	// the stream leader and read with STREAM.MSG.GET.
	rec2 := history.NewRecorder(io.Discard, true)
	n, err := lc.q.drainNodeAsLeader(dctx, lc.js, lc.relay.Name(), rec2)
	if err != nil || n != 1100 || len(rec2.Ops()) != 1100 || rec2.Ops()[0].Node != lc.relay.Name() {
		t.Errorf("%s read as leader: %d, %v; want 1100", lc.relay.Name(), n, err)
	}
}
