package scenarios

import (
	"path/filepath"
	"testing"

	"jetstorm/checker"
	"jetstorm/history"
)

// A lame duck restart of n1 under roaming queue clients: n1's client
// moves to another node and its publishes there are acked while n1 is
// away; nothing is lost. The server closes its clients one by one, in a
// random order, up to a second apart, after its 2 s grace: the load runs
// long enough after the signal for n1's client to be closed (a 12 s load
// ended first in CI once).
func TestLameDuckRoamingClientsMove(t *testing.T) {
	o := runYAML(t, `
name: lame-duck-roam
seed: 1
cluster: {nodes: 3}
stream: {replicas: 3}
workload: {type: queue, clients: 3, rate: 60, duration: 25s, clients_roam: true}
timeline:
  - {at: 3s, fault: lame-duck, target: n1, for: 5s}
`, RunOptions{})
	if o.Results.Verdict != checker.Valid {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	h, err := history.ReadFile(filepath.Join(o.Dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var from, to int64 = -1, -1
	moved := 0
	for _, op := range h {
		switch {
		case op.F == history.FFault && op.Type == history.Invoke:
			from = op.Index
		case op.F == history.FFault && op.Type == history.OK:
			to = op.Index
		case op.F == history.FPublish && op.Type == history.OK && op.Process%3 == 0 && from >= 0 && to < 0 && op.Node != "n1":
			moved++ // client 0, whose node is n1, acked on another node during the fault
		}
	}
	if from < 0 || to < 0 || moved == 0 {
		t.Errorf("fault ops at %d..%d; publishes of n1's client acked elsewhere meanwhile: %d", from, to, moved)
	}
}
