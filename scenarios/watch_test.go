package scenarios

import (
	"testing"

	"jetstorm/checker"
)

const watchScenario = `
name: watch-e2e
seed: 3
cluster: {nodes: 3}
stream: {replicas: 3}
workload: {type: watch, clients: 3, rate: 30, duration: 10s, keys: 10, restart_every: 2s, converge: 20s}
timeline:
  - {at: 3s, fault: partition, shape: isolate, target: one, for: 3s}
`

// Watchers on a real cluster, one a node, while one node is cut off for
// 3 s: they restart (every ~2 s, and when their connection comes back),
// resume after the last revision they saw, see every acked update in
// order, catch up after the heal and end on the final values: valid.
func TestWatchConverges(t *testing.T) {
	o := runYAML(t, watchScenario, RunOptions{})
	s := o.Results.Watch
	if o.Results.Verdict != checker.Valid || s == nil {
		t.Fatalf("verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
	if s.Acked < 150 || !s.HistoryCoversRun || !s.FinalComplete || len(s.Watchers) != 3 || s.HealsJudged == 0 {
		t.Errorf("watch: %+v", *s)
	}
	for name, w := range s.Watchers {
		if !w.Converged || w.Starts < 3 || w.Seen < s.Acked {
			t.Errorf("watcher %s: %+v", name, w)
		}
	}
	pageShows(t, o.Dir, "<h2>KV watchers</h2>", `<td>history covers the run</td><td class="num">true</td>`)
}

// A watcher that leaves out an update it was delivered (the second one)
// has skipped an acked update the bucket still held: a gap, invalid.
func TestWatchGapIsCaught(t *testing.T) {
	o := runYAML(t, watchScenario, RunOptions{WatchDrop: func(w int, rev uint64) bool { return w == 1 && rev == 2 }})
	s := o.Results.Watch
	if o.Results.Verdict != checker.Invalid || s == nil || s.Gaps != 1 || s.Watchers["4000001@n2"].Gaps != 1 {
		t.Fatalf("the gap is not caught: verdict %s: %+v", o.Results.Verdict, o.Results.Checks)
	}
}
