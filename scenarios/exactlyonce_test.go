package scenarios

import (
	"testing"

	"jetstorm/checker"
)

// Exactly-once publishing through a cut-off stream leader: the clients
// pinned to it time out and retry with the same Nats-Msg-Id, and the
// stream, deduplicating, stores every value once.
func TestExactlyOnceRetries(t *testing.T) {
	o := runYAML(t, `
name: exactly-once-e2e
seed: 2
cluster: {nodes: 3}
stream: {replicas: 3}
workload: {type: queue, clients: 3, rate: 60, duration: 10s, timeout: 1s, exactly_once: true, retry_for: 20s}
timeline:
  - {at: 3s, fault: partition, target: stream-leader, shape: isolate, for: 4s}
`, RunOptions{})
	q := o.Results.Queue
	if o.Results.Verdict != checker.Valid || q == nil || !q.ExactlyOnce || q.DuplicateWindowMs != 90_000 {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	if q.Retries == 0 || q.Acked < 500 {
		t.Errorf("the partition made no publish retry (or few acked): %+v", *q)
	}
}
