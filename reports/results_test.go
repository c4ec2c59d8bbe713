package reports

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
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
	l, span := DigestOf(h).PublishLatency()
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
	r := Build(DigestOf(h), history.Meta{Scenario: "x", Seed: 3}, checker.Valid, []checker.Result{{Name: "queue", Details: checker.QueueStats{Acked: 100}}}, nil)
	if r.Queue == nil || r.ThroughputAckedPerS != 0.2 || r.Seed != 3 {
		t.Errorf("results %+v", r)
	}
}

// The summary and index.html say where lost writes are, report stale
// reads, and name the nodes that never recovered.
func TestSummaryVerdictEvidence(t *testing.T) {
	for _, tt := range []struct {
		file string
		want []string
	}{
		{"stale_read", []string{"read back: 4 (served by n1 2, n3 2)", "stale read (allowed): consumer on n3 claimed the end at seq 2 while leader n1 had 4"}},
		{"stale_read_hid", []string{"STALE READ HID DATA: consumer on n3"}},
		{"lost_on_replicas", []string{"lost writes: 0 on no replica read, 1 lost to clients but still on a replica (n2 1, n3 1)"}},
		{"unhealed_unknown", []string{"verdict: UNKNOWN", "node n3 never recovered: not running; log ends: panic: corrupt state"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			dir := t.TempDir()
			b, err := os.ReadFile(filepath.Join("..", "checker", "testdata", tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "history.jsonl"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			h, err := history.ReadFile(filepath.Join(dir, "history.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			v, checks := checker.Run(context.Background(), h, &checker.Queue{}, &checker.PerNode{}, &checker.Recovery{})
			res := Build(DigestOf(h), history.Meta{Scenario: tt.file}, v, checks, nil)
			var sb strings.Builder
			res.Summary(&sb)
			for _, w := range tt.want {
				if !strings.Contains(sb.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, sb.String())
				}
			}
			if err := res.WriteJSON(dir); err != nil {
				t.Fatal(err)
			}
			if err := Write(dir); err != nil {
				t.Fatal(err)
			}
			page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
			if tt.file == "unhealed_unknown" && !strings.Contains(string(page), "never recovered") {
				t.Errorf("index.html does not name the node that never recovered")
			}
			if strings.HasPrefix(tt.file, "stale") && !strings.Contains(string(page), "stale reads") {
				t.Errorf("index.html does not count the stale reads")
			}
		})
	}
}
