package scenarios

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A bench under a fault of known length: every node paused for 4 s (no
// election: the leader stays leader) makes one outage of 4 s ± 1.5 s,
// which the bench section attributes to the fault, with throughput back
// within seconds of the resume and the p99 during the fault at seconds,
// against milliseconds before it.
func TestBenchPauseAllOutage(t *testing.T) {
	const d = 4 * time.Second
	o := runYAML(t, `
name: bench-pause-all
seed: 1
cluster: {nodes: 3}
stream: {replicas: 3}
workload: {type: bench, publishers: 2, consumers: 0, steps: [{rate: 500, duration: 16s}]}
timeline:
  - {at: 7s, fault: pause, target: all, for: 4s}
`, RunOptions{})
	b := o.Results.Bench
	if b == nil || len(b.Faults) != 1 {
		t.Fatalf("bench section: %+v", b)
	}
	f := b.Faults[0]
	t.Logf("fault %s %v: unavailable %v %v, recovery %v (%v), p99 before %.2f during %.2f after %.2f ms",
		f.Kind, f.Span, f.Unavailable, f.Outages, f.Recovery, f.Recovered, f.Before.P99, f.During.P99, f.After.P99)
	if f.Kind != "pause" || len(f.Nodes) != 3 {
		t.Errorf("fault %s %v, want pause of all 3", f.Kind, f.Nodes)
	}
	if f.Unavailable < d-1500*time.Millisecond || f.Unavailable > d+1500*time.Millisecond || len(f.Outages) != 1 {
		t.Errorf("unavailable %v (%v), want %v ± 1.5s in one outage", f.Unavailable, f.Outages, d)
	}
	if !f.Recovered || f.Recovery > f.Span.Len()+3*time.Second {
		t.Errorf("recovery %v (recovered %v) for a %v fault", f.Recovery, f.Recovered, f.Span.Len())
	}
	if f.During.P99 < 1000 || f.Before.P99 > 500 {
		t.Errorf("p99 before %.2f ms, during %.2f ms: want the pause to show", f.Before.P99, f.During.P99)
	}
	// The formats other tools read: one natsbench.csv row per publisher,
	// OMB's result with a period per 10 s of the 16 s schedule.
	rows, err := csv.NewReader(strings.NewReader(readFile(t, filepath.Join(o.Dir, "natsbench.csv")))).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][0] != "#RunID" || rows[1][1] != "P0" || rows[2][1] != "P1" {
		t.Errorf("natsbench.csv: %v %v", rows, err)
	} else if p99, err := strconv.ParseFloat(rows[1][12], 64); err != nil || rows[0][12] != "P99LatencyMicroSecs" || p99 < 1e6 {
		t.Errorf("natsbench.csv: P0's %s %s µs: want the 4 s pause in it", rows[0][12], rows[1][12])
	}
	var omb struct {
		PublishRate         []float64 `json:"publishRate"`
		PublishLatency99pct []float64 `json:"publishLatency99pct"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(o.Dir, "omb-result.json"))), &omb); err != nil ||
		len(omb.PublishRate) != 2 || len(omb.PublishLatency99pct) != 2 {
		t.Errorf("omb-result.json: %+v %v", omb, err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
