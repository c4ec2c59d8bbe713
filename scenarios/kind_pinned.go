package scenarios

import (
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// PinnedOptions are the pinned workload's own keys of the workload
// section. It is the consume workload with one durable whose clients (the
// members) share a priority group, so it takes the consume keys (ack_wait,
// nak, ...; consumers must stay 1) and workload.slack (shared with ttl and
// schedule: here what a takeover may take beyond pinned_ttl plus
// pull_expiry, default 5s).
type PinnedOptions struct {
	// Members pull from the group, member i pinned to node i mod N;
	// default 3.
	Members int `yaml:"members,omitempty"`
	// Priority is the group's policy: pinned (default) or overflow.
	Priority string `yaml:"priority,omitempty"`
	// PinnedTTL (pinned): the server unpins a member that pulls nothing
	// for this long; default 5s.
	PinnedTTL Duration `yaml:"pinned_ttl,omitempty"`
	// PullExpiry is each pull's expiry; default 1s.
	PullExpiry Duration `yaml:"pull_expiry,omitempty"`
	// MinPending (overflow): every member but the first pulls only when at
	// least this many messages are pending; default 20.
	MinPending int64 `yaml:"min_pending,omitempty"`
}

// pinnedKind: the queue workload's publishers, and one durable pull
// consumer whose members share a priority group: one pinned member at a
// time, judged by the Nats-Pin-Id header of the deliveries; another takes
// over in time when it dies or is cut off, and nothing whose double ack
// was confirmed is delivered again.
var pinnedKind = &Kind{
	Defaults: func(s *Scenario) {
		w := &s.Workload
		defaultPtr(&w.Bench.Consumers, 1)
		setDefault(s, &w.Pinned.Members, "workload.members", 3)
		setDefault(s, &w.Consume.ConsumerClients, "workload.consumer_clients", w.Pinned.Members)
		consumeDefaults(s)
		setDefault(s, &w.Pinned.Priority, "workload.priority", "pinned")
		if w.Pinned.Priority == "pinned" {
			setDefault(s, &w.Pinned.PinnedTTL, "workload.pinned_ttl", Duration(5*time.Second))
		} else {
			setDefault(s, &w.Pinned.MinPending, "workload.min_pending", 20)
		}
		setDefault(s, &w.Pinned.PullExpiry, "workload.pull_expiry", Duration(time.Second))
		setDefault(s, &w.Slack, "workload.slack", Duration(5*time.Second))
	},
	Validate: func(s *Scenario, check checkFunc) {
		w, p := s.Workload, s.Workload.Pinned
		check(*w.Bench.Consumers == 1, "workload.consumers", "must be 1 for the pinned workload (one durable, its members share the group), got %d", *w.Bench.Consumers)
		check(w.Consume.ConsumerClients == p.Members, "workload.consumer_clients", "is workload.members (%d) for the pinned workload, got %d", p.Members, w.Consume.ConsumerClients)
		check(w.Consume.Mode == "pull", "workload.mode", "must be pull for the pinned workload (priority groups are pull only), got %q", w.Consume.Mode)
		check(w.Consume.DeliverPolicy == "all", "workload.deliver_policy", "must be all for the pinned workload, got %q", w.Consume.DeliverPolicy)
		check(p.Members >= 2 && p.Members <= 100, "workload.members", "must be 2..100 (a takeover needs another member), got %d", p.Members)
		check(p.Priority == "pinned" || p.Priority == "overflow", "workload.priority", "must be pinned or overflow, got %q", p.Priority)
		if p.Priority == "pinned" {
			check(p.PinnedTTL >= Duration(time.Second), "workload.pinned_ttl", "must be at least 1s, got %s", p.PinnedTTL)
			check(p.MinPending == 0, "workload.min_pending", "is for priority overflow")
		} else {
			check(p.PinnedTTL == 0, "workload.pinned_ttl", "is for priority pinned")
			check(p.MinPending >= 1, "workload.min_pending", "must be at least 1, got %d", p.MinPending)
		}
		check(p.PullExpiry >= Duration(100*time.Millisecond) && p.PullExpiry <= Duration(time.Minute), "workload.pull_expiry", "must be 100ms..1m, got %s", p.PullExpiry)
		check(w.Slack > 0, "workload.slack", "must be positive")
		consumeValidate(s, check)
	},
	New: func(s *Scenario, o RunOptions) workloads.Workload {
		w := newConsume(s, o).(*workloads.Consume)
		p := s.Workload.Pinned
		w.SetGroup(workloads.PriorityGroup{
			Policy: p.Priority, PinnedTTL: p.PinnedTTL.D(), PullExpiry: p.PullExpiry.D(), MinPending: p.MinPending,
			TakeoverSlack: s.Workload.Slack.D(), Tamper: o.PinTamper,
		})
		return w
	},
	Checkers: func(CheckOptions) []checker.Checker {
		// The consume checks judge the publishers and the durable (lost
		// messages, redeliveries after a confirmed ack, stalls); the
		// pinned check judges the group.
		return []checker.Checker{&checker.Queue{}, &checker.PerNode{}, &checker.Consumer{}, &checker.ConsumerReplicas{}, &checker.Pinned{}}
	},
	Progress: []string{history.FDeliver},
}
