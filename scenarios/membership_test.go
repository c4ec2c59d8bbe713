package scenarios

import (
	"testing"

	"jetstorm/checker"
)

// A membership replacement end to end: the nodes get a system user, the
// stream leader of a 4-node cluster is removed, wiped and comes back under
// a new name; the replicas check sees the stream with 3 current peers
// again, and nothing acked is lost (the per-node read finds the new peer
// by its new name).
func TestMembershipReplaceRun(t *testing.T) {
	o := runYAML(t, `
name: membership-replace
seed: 1
cluster: {nodes: 4}
stream: {replicas: 3}
workload: {type: queue, clients: 4, rate: 60, duration: 15s, clients_roam: true}
timeline:
  - {at: 3s, fault: membership, target: stream-leader, action: replace, for: 5s}
`, RunOptions{})
	if o.Results.Verdict != checker.Valid {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	checked := false
	for _, c := range o.Results.Checks {
		if c.Name == "replicas" {
			checked = c.Verdict == checker.Valid
			t.Logf("replicas check %s: %s", c.Verdict, c.Message)
		}
	}
	if !checked {
		t.Errorf("no valid replicas check: %+v", o.Results.Checks)
	}
	if len(o.Results.Membership) != 1 || o.Results.Membership[0].NewServer == "" {
		t.Errorf("membership section: %+v", o.Results.Membership)
	}
}
