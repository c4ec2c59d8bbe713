package scenarios

import (
	"strings"
	"testing"

	"jetstorm/checker"
)

const counterScenario = `
name: counter-e2e
seed: 4
cluster: {nodes: 3}
stream: {replicas: 3}
workload: {type: counter, clients: 3, rate: 60, duration: 8s, counters: 2}
timeline:
  - {at: 3s, fault: kill, target: stream-leader, for: 2s}
`

func runCounter(t *testing.T, double func(string) bool) *Outcome {
	t.Helper()
	return runYAML(t, counterScenario, RunOptions{CounterDouble: double})
}

// Counters through a stream-leader kill add up on every replica, and the
// check saw real increments and every replica's chain.
func TestCounterChains(t *testing.T) {
	o := runCounter(t, nil)
	c := o.Results.Counters
	if o.Results.Verdict != checker.Valid || c == nil {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	if c.Acked < 100 || c.Applied < c.Acked || len(c.Nodes) != 3 || len(c.Values) != 2 || !c.Values["0"].HasFinal {
		t.Errorf("counters: %+v", *c)
	}
}

// A client that double-applies increments (sends one twice, records it
// once): the stored chains hold them twice: invalid.
func TestCounterDoubleApplyIsCaught(t *testing.T) {
	o := runCounter(t, func(op string) bool { return strings.HasSuffix(op, "-5") })
	c := o.Results.Counters
	if o.Results.Verdict != checker.Invalid || c == nil || c.Duplicated == 0 {
		t.Fatalf("double-applied increments not caught: verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
}
