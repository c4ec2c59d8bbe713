package scenarios

import (
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// MirrorOptions are the mirror workload's own keys of the workload
// section; its publishers are the queue's (clients, rate, payload).
type MirrorOptions struct {
	// ConvergeAfter is how long after the later of the last heal and the
	// last publish the mirror and the sourced stream may take to hold
	// everything their origins hold; past it, a wedge. Default 60s.
	ConvergeAfter Duration `yaml:"converge_after,omitempty"`
}

// mirrorKind: the queue's publishers write to two origin streams; a mirror
// of the first and a stream sourcing both must converge to exactly the
// origins' messages, in order, and catch up within converge_after of the
// last heal (issue 23).
var mirrorKind = &Kind{
	Defaults: func(s *Scenario) {
		if !s.given("workload.rate") {
			s.Workload.Rate = 100
		}
		setDefault(s, &s.Workload.Mirror.ConvergeAfter, "workload.converge_after", Duration(time.Minute))
		// The drain first waits for the copies to catch up, then reads.
		setDefault(s, &s.Final.DrainTimeout, "final.drain_timeout", s.Workload.Mirror.ConvergeAfter+Duration(time.Minute))
	},
	Validate: func(s *Scenario, check checkFunc) {
		ca := s.Workload.Mirror.ConvergeAfter
		check(ca >= Duration(time.Second), "workload.converge_after", "must be at least 1s, got %s", ca)
		check(s.Final.DrainTimeout >= ca+Duration(30*time.Second), "final.drain_timeout",
			"must be at least workload.converge_after (%s) + 30s: the drain waits for the copies to catch up, then reads four streams; got %s", ca, s.Final.DrainTimeout)
	},
	New: func(s *Scenario, o RunOptions) workloads.Workload {
		return workloads.NewMirror(workloads.MirrorOptions{Queue: queueBase(s), ConvergeAfter: s.Workload.Mirror.ConvergeAfter.D(), Hide: o.MirrorHide})
	},
	Checkers: func(CheckOptions) []checker.Checker {
		return []checker.Checker{&checker.Mirror{}}
	},
	Progress: []string{history.FPublish},
}
