package scenarios

import (
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// ScheduleOptions are the schedule workload's own keys of the workload
// section. workload.rate is schedules per second; workload.slack (shared
// with the ttl workload) how long past its time a schedule may take to
// fire after a fault.
type ScheduleOptions struct {
	// Delays: each @at schedule is due this long after its publish (drawn
	// at random, rounded up to the second). Default [2s, 5s].
	Delays []Duration `yaml:"delays,omitempty"`
	// Every > 0: the first `repeating` clients each publish one @every
	// schedule of this interval (nats-server 2.14+; whole seconds).
	Every     Duration `yaml:"every,omitempty"`
	Repeating *int     `yaml:"repeating,omitempty"` // default 2 with every, else 0
	// Tolerance is how far from its time a firing may land; default 500ms.
	Tolerance Duration `yaml:"tolerance,omitempty"`
}

// scheduleKind: each @at schedule fires once, at its time; @every ones
// fire every interval outside faults (issue 21).
var scheduleKind = &Kind{
	Defaults: func(s *Scenario) {
		o := &s.Workload.Schedule
		if !s.given("workload.rate") {
			s.Workload.Rate = 20
		}
		if len(o.Delays) == 0 && !s.given("workload.delays") {
			o.Delays = []Duration{Duration(2 * time.Second), Duration(5 * time.Second)}
		}
		rep := 0
		if o.Every > 0 {
			rep = 2
		}
		defaultPtr(&o.Repeating, rep)
		setDefault(s, &o.Tolerance, "workload.tolerance", Duration(500*time.Millisecond))
		setDefault(s, &s.Workload.Slack, "workload.slack", Duration(5*time.Second))
	},
	Validate: func(s *Scenario, check checkFunc) {
		o := s.Workload.Schedule
		check(len(o.Delays) > 0, "workload.delays", "must list at least one delay")
		for i, d := range o.Delays {
			check(d > 0 && d <= Duration(time.Hour), "workload.delays", "delays[%d] must be 0..1h, got %s", i, d)
		}
		check(o.Every == 0 || (o.Every >= Duration(time.Second) && o.Every.D()%time.Second == 0), "workload.every", "must be 0 (none) or whole seconds, at least 1s, got %s", o.Every)
		check(*o.Repeating >= 0 && *o.Repeating <= s.Workload.Clients, "workload.repeating", "must be 0..workload.clients (%d), got %d", s.Workload.Clients, *o.Repeating)
		check(*o.Repeating == 0 || o.Every > 0, "workload.repeating", "needs workload.every")
		check(o.Tolerance > 0, "workload.tolerance", "must be positive")
		check(s.Workload.Slack > 0, "workload.slack", "must be positive")
	},
	New: func(s *Scenario, o RunOptions) workloads.Workload {
		w := newSchedule(s)
		w.Double = o.ScheduleDouble
		return w
	},
	Duration: func(s *Scenario) time.Duration {
		return s.Workload.Duration.D() + newSchedule(s).Tail()
	},
	Checkers: func(CheckOptions) []checker.Checker {
		return []checker.Checker{&checker.Schedule{}}
	},
	Progress: []string{history.FScheduleAdd},
}

func newSchedule(s *Scenario) *workloads.Schedule {
	o := s.Workload.Schedule
	return workloads.NewSchedule(workloads.ScheduleOptions{
		Queue: queueBase(s), Delays: durations(o.Delays), Every: o.Every.D(), Repeating: *o.Repeating,
		Slack: s.Workload.Slack.D(), Tolerance: o.Tolerance.D(), Seed: s.seed(),
	})
}
