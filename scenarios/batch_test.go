package scenarios

import (
	"strings"
	"testing"

	"jetstorm/checker"
)

const batchScenario = `
name: batch-e2e
seed: 3
cluster: {nodes: 3}
stream: {replicas: 3}
workload: {type: batch, clients: 3, rate: 60, duration: 8s, batch_size: 4, read_rate: 10}
timeline:
  - {at: 3s, fault: kill, target: stream-leader, for: 2s}
`

func runBatch(t *testing.T, brk func(string) bool) *Outcome {
	t.Helper()
	return runYAML(t, batchScenario, RunOptions{BatchBreak: brk})
}

// Atomic batches on a healthy-then-killed R3 cluster are all or nothing,
// and the check saw real batches, reads on every path and every replica.
func TestBatchAtomic(t *testing.T) {
	o := runBatch(t, nil)
	b := o.Results.Batches
	if o.Results.Verdict != checker.Valid || b == nil {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	if b.Acked < 100 || b.Stored < b.Acked || len(b.Nodes) != 3 || b.Reads["get"].Reads == 0 ||
		b.Reads["direct"].Reads == 0 || b.Reads["consumer"].Reads == 0 {
		t.Errorf("batches: %+v", *b)
	}
}

// A client that commits batches without their last message: the server
// stores what it was sent, so the acked batches are partial: invalid.
func TestBatchBrokenClientIsCaught(t *testing.T) {
	o := runBatch(t, func(id string) bool { return strings.HasSuffix(id, "-3") })
	b := o.Results.Batches
	if o.Results.Verdict != checker.Invalid || b == nil || b.Partial == 0 {
		t.Fatalf("partial batches not caught: verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
}
