package scenarios

import (
	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// OCCOptions are the occ workload's own keys of the workload section.
// workload.rate is ops (appends and reads) per second.
type OCCOptions struct {
	Entities int `yaml:"entities,omitempty"` // entity subjects; default 5
	// Reads is the fraction of ops that read an entity's last message;
	// default 0.2.
	Reads *float64 `yaml:"reads,omitempty"`
}

// occKind: appends with an expected last subject sequence to per-entity
// subjects (event sourcing's optimistic concurrency); the logs must chain
// and the history be linearizable (issue 16).
var occKind = &Kind{
	Defaults: func(s *Scenario) {
		o := &s.Workload.OCC
		setDefault(s, &o.Entities, "workload.entities", 5)
		defaultPtr(&o.Reads, 0.2)
	},
	Validate: func(s *Scenario, check checkFunc) {
		o := s.Workload.OCC
		check(o.Entities >= 1 && o.Entities <= 1000, "workload.entities", "must be 1..1000, got %d", o.Entities)
		check(*o.Reads >= 0 && *o.Reads < 1, "workload.reads", "must be a fraction 0..1 (below 1: appends are the point), got %v", *o.Reads)
	},
	New: func(s *Scenario, _ RunOptions) workloads.Workload {
		w := s.Workload
		return workloads.NewOCC(workloads.OCCOptions{
			Queue:    queueBase(s),
			Entities: w.OCC.Entities, Reads: *w.OCC.Reads, Seed: s.seed(),
		})
	},
	Checkers: func(o CheckOptions) []checker.Checker { return []checker.Checker{&checker.OCC{Timeout: o.Timeout}} },
	Progress: []string{history.FOCCAppend, history.FOCCRead},
}
