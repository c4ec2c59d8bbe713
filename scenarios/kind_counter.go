package scenarios

import (
	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// CounterOptions are the counter workload's own keys of the workload
// section. workload.rate is increments per second.
type CounterOptions struct {
	Counters int `yaml:"counters,omitempty"` // counter subjects; default 3
	MaxIncr  int `yaml:"max_incr,omitempty"` // increments are random in -max_incr..max_incr, never 0; default 100
}

// counterKind: Nats-Incr increments to a few counters of a counter stream;
// each counter's stored chain must add up, hold every acked increment
// once, and agree on every replica (issue 16).
var counterKind = &Kind{
	Defaults: func(s *Scenario) {
		c := &s.Workload.Counter
		setDefault(s, &c.Counters, "workload.counters", 3)
		setDefault(s, &c.MaxIncr, "workload.max_incr", 100)
	},
	Validate: func(s *Scenario, check checkFunc) {
		c := s.Workload.Counter
		check(c.Counters >= 1 && c.Counters <= 1000, "workload.counters", "must be 1..1000, got %d", c.Counters)
		check(c.MaxIncr >= 1 && c.MaxIncr <= 1_000_000_000, "workload.max_incr", "must be 1..1e9, got %d", c.MaxIncr)
	},
	New: func(s *Scenario, o RunOptions) workloads.Workload {
		w := s.Workload
		return workloads.NewCounter(workloads.CounterOptions{
			Queue:    queueBase(s),
			Counters: w.Counter.Counters, MaxIncr: w.Counter.MaxIncr, Seed: s.seed(), Double: o.CounterDouble,
		})
	},
	Checkers: func(CheckOptions) []checker.Checker { return []checker.Checker{&checker.Counter{}} },
	Progress: []string{history.FCounterAdd},
}
