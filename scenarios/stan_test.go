package scenarios

import (
	"strings"
	"testing"

	"jetstorm/checker"
	"jetstorm/history"
)

// A NATS Streaming cluster (3 real nats-streaming-server nodes) takes the
// queue workload, a kill of its leader and a partition (its routes through
// link proxies), and is checked as a JetStream run is: valid, with the
// per-node check skipped saying why, and the history saying which system
// ran.
func TestSTANRun(t *testing.T) {
	o := runYAML(t, "name: stan\nseed: 1\ncluster: {system: stan, nodes: 3}\n"+
		"workload: {type: queue, clients: 3, rate: 100, duration: 18s}\n"+
		"timeline:\n  - {at: 3s, fault: kill, for: 4s, target: stream-leader}\n  - {at: 11s, fault: partition, for: 4s, target: stream-leader}\n"+
		"final: {recover: 30s}\n", RunOptions{})
	if o.Results.Verdict != checker.Valid {
		t.Errorf("verdict %s, want valid", o.Results.Verdict)
	}
	var perNode, queue string
	for _, c := range o.Results.Checks {
		switch c.Name {
		case "per-node":
			perNode = string(c.Verdict) + " " + c.Message
		case "queue":
			queue = string(c.Verdict) + " " + c.Message
		}
	}
	if !strings.HasPrefix(perNode, "skipped") || !strings.Contains(perNode, "NATS Streaming") {
		t.Errorf("per-node check: %q, want skipped for NATS Streaming", perNode)
	}
	if !strings.HasPrefix(queue, "valid") || strings.Contains(queue, " 0 read") {
		t.Errorf("queue check: %q", queue)
	}
	h, err := history.ReadFile(o.Dir + "/" + history.FileName)
	if err != nil {
		t.Fatal(err)
	}
	m, err := history.MetaOf(h)
	if err != nil || m.System != "stan" || !strings.HasPrefix(m.ServerVersion, "nats-streaming-server 0.25") {
		t.Errorf("meta: %+v %v", m, err)
	}
	if ops := faultOps(t, o.Dir+"/"+history.FileName); len(ops) != 4 || ops[0] != "invoke kill" || ops[2] != "invoke partition" {
		t.Errorf("faults: %v", ops)
	}
}
