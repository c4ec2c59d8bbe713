package scenarios

import (
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// QueueOptions are the queue workload's own keys of the workload section.
type QueueOptions struct {
	// ExactlyOnce retries every publish whose outcome is unknown with the
	// same Nats-Msg-Id until it is acked, for at most retry_for (default
	// 30s), as the docs recommend; with the duplicate window longer than
	// the run, every value must then be stored exactly once.
	ExactlyOnce bool     `yaml:"exactly_once,omitempty"`
	RetryFor    Duration `yaml:"retry_for,omitempty"`
	// DuplicateWindow is the stream's duplicate window: default 2m, with
	// exactly_once the workload's duration plus retry_for plus 1m.
	DuplicateWindow Duration `yaml:"duplicate_window,omitempty"`
}

// queueBase is the queue options every publishing kind (queue, batch,
// counter, occ) takes from the scenario.
func queueBase(s *Scenario) workloads.QueueOptions {
	w := s.Workload
	return workloads.QueueOptions{
		Replicas: s.Stream.Replicas, Memory: s.Stream.Storage == "memory",
		Clients: w.Clients, Rate: w.Rate, Duration: w.Duration.D(),
		Payload: w.Payload.Bytes(), Timeout: w.Timeout.D(), Roam: w.ClientsRoam,
		Stream: s.stream,
	}
}

// queueKind: publishers on one stream; every acknowledged publish must be
// read back at the end (and from every replica's own copy).
var queueKind = &Kind{
	Defaults: func(s *Scenario) {
		q := &s.Workload.Queue
		window := Duration(2 * time.Minute)
		if q.ExactlyOnce {
			setDefault(s, &q.RetryFor, "workload.retry_for", Duration(30*time.Second))
			window = s.Workload.Duration + q.RetryFor + Duration(time.Minute)
		}
		setDefault(s, &q.DuplicateWindow, "workload.duplicate_window", window)
	},
	Validate: func(s *Scenario, check checkFunc) {
		q := s.Workload.Queue
		check(q.DuplicateWindow > 0, "workload.duplicate_window", "must be positive")
		check(q.RetryFor >= 0, "workload.retry_for", "must not be negative")
		check(q.RetryFor == 0 || q.ExactlyOnce, "workload.retry_for", "applies with exactly_once: true only")
	},
	New: func(s *Scenario, _ RunOptions) workloads.Workload {
		q := queueBase(s)
		if s.Cluster.stan() {
			return workloads.NewSTANQueue(q)
		}
		q.Connections = s.Workload.Connections
		q.RetryFor, q.Duplicates = s.Workload.Queue.RetryFor.D(), s.Workload.Queue.DuplicateWindow.D()
		return workloads.NewQueue(q)
	},
	Checkers: func(o CheckOptions) []checker.Checker {
		// The per-node check is skipped when the run read no replica's
		// own copy (final.per_node off).
		return []checker.Checker{&checker.Queue{Values: o.Values}, &checker.PerNode{Values: o.Values}}
	},
	Progress: []string{history.FPublish},
}
