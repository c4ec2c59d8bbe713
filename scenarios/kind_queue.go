package scenarios

import (
	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// queueKind: publishers on one stream; every acknowledged publish must be
// read back at the end (and from every replica's own copy).
var queueKind = &Kind{
	Defaults: func(*Scenario) {},
	New: func(s *Scenario, _ RunOptions) workloads.Workload {
		w := s.Workload
		return workloads.NewQueue(workloads.QueueOptions{
			Replicas: s.Stream.Replicas, Memory: s.Stream.Storage == "memory",
			Clients: w.Clients, Rate: w.Rate, Duration: w.Duration.D(),
			Payload: w.Payload.Bytes(), Timeout: w.Timeout.D(), Connections: w.Connections,
		})
	},
	Checkers: func(o CheckOptions) []checker.Checker {
		// The per-node check is skipped when the run read no replica's
		// own copy (final.per_node off).
		return []checker.Checker{&checker.Queue{Values: o.Values}, &checker.PerNode{Values: o.Values}}
	},
	Progress: []string{history.FPublish},
}
