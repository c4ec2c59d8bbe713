package scenarios

import (
	"maps"
	"slices"
	"strings"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// BatchOptions are the batch workload's own keys of the workload section.
// workload.rate is batches (and single publishes) per second, payload
// each message's size.
type BatchOptions struct {
	// BatchSize is the largest batch: each holds 2..batch_size messages;
	// default 5.
	BatchSize int `yaml:"batch_size,omitempty"`
	// Singles is the fraction of ops that are plain single publishes
	// mixed in with the batches; default 0.1.
	Singles *float64 `yaml:"singles,omitempty"`
	// Readers are the read paths read during the load, one reader each:
	// get (STREAM.MSG.GET, the stream leader), direct (direct get, any
	// replica), consumer (an ordered consumer); default all three.
	Readers []string `yaml:"readers,omitempty"`
	// ReadRate is each get or direct reader's reads per second; default 20.
	ReadRate float64 `yaml:"read_rate,omitempty"`
}

// batchKind: atomic batch publishes; every batch must be stored all or
// nothing, on every replica (issue 16).
var batchKind = &Kind{
	Defaults: func(s *Scenario) {
		b := &s.Workload.Batch
		setDefault(s, &b.BatchSize, "workload.batch_size", 5)
		defaultPtr(&b.Singles, 0.1)
		if b.Readers == nil && !s.given("workload.readers") {
			b.Readers = []string{"get", "direct", "consumer"}
		}
		setDefault(s, &b.ReadRate, "workload.read_rate", 20.0)
	},
	Validate: func(s *Scenario, check checkFunc) {
		b := s.Workload.Batch
		check(b.BatchSize >= 2 && b.BatchSize <= 1000, "workload.batch_size", "must be 2..1000 (the server's largest atomic batch), got %d", b.BatchSize)
		check(*b.Singles >= 0 && *b.Singles <= 1, "workload.singles", "must be a fraction 0..1, got %v", *b.Singles)
		paths := slices.Sorted(maps.Keys(workloads.ReadPaths))
		for _, p := range b.Readers {
			check(workloads.ReadPaths[p] != "", "workload.readers", "unknown read path %q (known: %s)", p, strings.Join(paths, ", "))
		}
		check(b.ReadRate > 0, "workload.read_rate", "must be positive, got %v", b.ReadRate)
	},
	New: func(s *Scenario, o RunOptions) workloads.Workload {
		b := s.Workload.Batch
		return workloads.NewBatch(workloads.BatchOptions{
			Queue:   queueBase(s),
			MaxSize: b.BatchSize, Singles: *b.Singles, Readers: b.Readers, ReadRate: b.ReadRate,
			Seed: s.seed(), Break: o.BatchBreak,
		})
	},
	Checkers: func(CheckOptions) []checker.Checker { return []checker.Checker{&checker.Atomic{}} },
	Progress: []string{history.FBatch},
}
