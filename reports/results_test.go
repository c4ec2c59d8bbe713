package reports

import (
	"math"
	"testing"
	"time"

	"jetstorm/checker"
	"jetstorm/history"
)

func TestPublishLatencyFromIntendedStart(t *testing.T) {
	var h []history.Op
	// 100 publishes on one process, each acked 1..100 ms after its invoke.
	for i := 1; i <= 100; i++ {
		t0 := time.Duration(i) * time.Second
		h = append(h,
			history.Op{Process: 1, Type: history.Invoke, F: history.FPublish, Time: t0},
			history.Op{Process: 1, Type: history.OK, F: history.FPublish, Time: t0 + time.Duration(i)*time.Millisecond})
	}
	// Failed and unknown publishes have no latency.
	h = append(h,
		history.Op{Process: 2, Type: history.Invoke, F: history.FPublish, Time: 0},
		history.Op{Process: 2, Type: history.Info, F: history.FPublish, Time: 500 * time.Second})
	l, span := PublishLatency(h)
	if l.Count != 100 {
		t.Fatalf("count %d", l.Count)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= want*0.01+0.01 }
	if !near(l.P50, 50) || !near(l.P99, 99) || !near(l.Max, 100) {
		t.Errorf("latency %+v", l)
	}
	if span != 500*time.Second {
		t.Errorf("span %s", span)
	}
	r := Build(h, Meta{Scenario: "x", Seed: 3}, checker.Valid, []checker.Result{{Name: "queue", Details: checker.QueueStats{Acked: 100}}}, nil)
	if r.Queue == nil || r.ThroughputAckedPerS != 0.2 || r.Seed != 3 {
		t.Errorf("results %+v", r)
	}
}
