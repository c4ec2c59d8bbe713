package scenarios

import (
	"testing"

	"jetstorm/checker"
)

// Appends with an expected last subject sequence through a stream-leader
// kill: the entity logs chain, contention rejects some, and the history
// is linearizable.
func TestOCCLinearizable(t *testing.T) {
	o := runYAML(t, `
name: occ-e2e
seed: 7
cluster: {nodes: 3}
stream: {replicas: 3}
workload: {type: occ, clients: 6, rate: 80, duration: 8s, entities: 2}
timeline:
  - {at: 3s, fault: kill, target: stream-leader, for: 2s}
`, RunOptions{})
	c := o.Results.OCC
	if o.Results.Verdict != checker.Valid || c == nil {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	if c.Acked < 100 || c.Rejected == 0 || c.Reads == 0 || len(c.Nodes) != 3 {
		t.Errorf("occ: %+v", *c)
	}
}
