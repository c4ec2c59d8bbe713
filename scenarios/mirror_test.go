package scenarios

import (
	"strings"
	"testing"

	"jetstorm/checker"
)

const mirrorScenario = `
name: mirror-e2e
seed: 3
cluster: {nodes: 3, sync_interval: always}
stream: {replicas: 3}
workload: {type: mirror, clients: 4, rate: 100, duration: 8s, converge_after: 150s}
timeline:
  - {at: 3s, fault: kill, target: stream-leader, for: 2s}
`

// Two origins, a mirror of the first and a stream sourcing both, on a real
// cluster through a kill of the first origin's leader: once healed, each
// copy holds exactly its origins' messages and is back to lag 0: valid.
// converge_after is past nats-server's own retry backoff (10 s per failed
// attempt, at most 2 min): a copy whose consumer failed during the kill
// may wait that long, by design.
func TestMirrorConverges(t *testing.T) {
	o := runYAML(t, mirrorScenario, RunOptions{})
	s := o.Results.Mirrors
	if o.Results.Verdict != checker.Valid || s == nil {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	if s.Acked < 300 || s.Messages[s.Mirror] != s.Messages[s.Origins[0]] || s.Messages[s.Sourced] != s.Messages[s.Origins[0]]+s.Messages[s.Origins[1]] ||
		s.Samples < 5 || len(s.CaughtUpAfterMs) != 2 {
		t.Errorf("mirrors: %+v", *s)
	}
	pageShows(t, o.Dir, "lag.png")
}

// A final read of the mirror that leaves out its 10th message: the mirror
// lacks a message its origin holds, a gap: invalid. (No fault: the copies
// need not wait out a retry backoff.)
func TestMirrorGapIsCaught(t *testing.T) {
	o := runYAML(t, strings.Replace(mirrorScenario, "timeline:\n  - {at: 3s, fault: kill, target: stream-leader, for: 2s}\n", "", 1), RunOptions{MirrorHide: func(stream string, seq uint64) bool { return stream == "jetstorm_mirror" && seq == 10 }})
	s := o.Results.Mirrors
	if o.Results.Verdict != checker.Invalid || s == nil || s.Missing[s.Mirror] != 1 || s.Missing[s.Sourced] != 0 ||
		!strings.Contains(s.Anomalies[0], "(sequence 10 of jetstorm): a GAP") {
		t.Fatalf("the gap is not caught: verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
}
