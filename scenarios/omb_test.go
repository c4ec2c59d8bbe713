package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// OMB's sample workload 1-topic-1-partition-1kb maps to a bench: one
// producer at 50,000/s for 15 minutes, 1 KiB messages, one consumer on
// the one subject; the keys jetstorm does not use are named with their
// lines. --set still applies.
func TestLoadOMBSample(t *testing.T) {
	s, notes, err := LoadOMB("testdata/omb/1-topic-1-partition-1kb.yaml", []string{"cluster.nodes=5"})
	if err != nil {
		t.Fatal(err)
	}
	w := s.Workload
	if s.Name != "omb-1-topic-1-partition-1Kb" || w.Type != "bench" || w.Payload.Bytes() != 1024 || w.Bench.Publishers != 1 ||
		*w.Bench.Consumers != 1 || w.Bench.Subjects != 1 || len(w.Bench.Steps) != 1 ||
		w.Bench.Steps[0].Rate != 50000 || w.Bench.Steps[0].Duration.D() != 15*time.Minute || s.Cluster.Nodes != 5 || s.Stream.Replicas != 3 {
		t.Errorf("scenario %+v %+v", s, w.Bench)
	}
	if len(notes) != 2 || !strings.Contains(notes[0], "1-topic-1-partition-1kb.yaml:7: keyDistributor is not used") ||
		!strings.Contains(notes[1], ":9: payloadFile") {
		t.Errorf("notes %q", notes)
	}
}

// What OMB says and jetstorm cannot do yet, or a malformed file, is an
// error naming the line; producerRate 0 is a capacity search; a warm-up
// is a first step at the same rate.
func TestLoadOMBMapping(t *testing.T) {
	base := "name: t\ntopics: 1\npartitionsPerTopic: 4\nmessageSize: 256\nsubscriptionsPerTopic: 1\nconsumerPerSubscription: 2\nproducersPerTopic: 3\n"
	load := func(extra string) (*Scenario, error) {
		p := filepath.Join(t.TempDir(), "w.yaml")
		if err := os.WriteFile(p, []byte(base+extra), 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, err := LoadOMB(p, nil)
		return s, err
	}
	s, err := load("producerRate: 1000\ntestDurationMinutes: 2\nwarmupDurationMinutes: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Workload.Bench.Steps; len(st) != 2 || st[0].Duration.D() != time.Minute || st[1].Duration.D() != 2*time.Minute ||
		st[1].Rate != 1000 || s.Workload.Bench.Subjects != 4 || *s.Workload.Bench.Consumers != 2 || s.Workload.Bench.Publishers != 3 {
		t.Errorf("warm-up: %+v", s.Workload.Bench)
	}
	s, err = load("producerRate: 0\nproducerStartRate: 2000\ntestDurationMinutes: 5\n")
	if err != nil || s.Capacity == nil || s.Capacity.Start != 2000 {
		t.Errorf("producerRate 0: %+v %v", s, err)
	}
	s, err = load("producerRate: 1000\ntestDurationMinutes: 2\nconsumerBacklogSizeGB: 0.5\nproducerPauseDuringDrain: true\n")
	if err != nil || s.Workload.Bench.Backlog == nil || s.Workload.Bench.Backlog.Size != 1<<29 || !s.Workload.Bench.Backlog.StopPublishing {
		t.Errorf("backlog: %+v %v", s.Workload.Bench.Backlog, err)
	}
	for _, tt := range []struct{ extra, want string }{
		{"producerRate: 10\ntestDurationMinutes: 1\ntopics: 2\n", "w.yaml:10: topics: is 2"},
		{"producerRate: 10\ntestDurationMinutes: 1\nconsumerBacklogSizeGB: 2000\n", "w.yaml:10: consumerBacklogSizeGB: must be 0..1024, got 2000"},
		{"producerRate: 0\ntestDurationMinutes: 1\nconsumerBacklogSizeGB: 1\n", "w.yaml:10: consumerBacklogSizeGB: needs a producerRate"},
		{"producerRate: lots\n", `w.yaml:8: producerRate: cannot unmarshal !!str`},
		{"producerRate: 10\nreplicationFactor: 3\n", `w.yaml:9: "replicationFactor" is not an OMB workload key`},
		{"producerRate: 10\n", "testDurationMinutes: must be positive"},
		{"producerRate: 10\ntestDurationMinutes: 1\nmessageSize: 8\n", "w.yaml:10: messageSize: is 8"},
	} {
		if _, err := load(tt.extra); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.extra, err, tt.want)
		}
	}
}
