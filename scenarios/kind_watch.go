package scenarios

import (
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// WatchOptions are the watch workload's own keys of the workload section.
// It shares keys (default 20 here) with kv, kv_history (the bucket's
// depth, default 64) with bench, and restart_every (how often each
// watcher watches again, default 10s) with consume.
type WatchOptions struct {
	// Watchers watch every key, watcher i pinned to node i mod N; default
	// one a node.
	Watchers int `yaml:"watchers,omitempty"`
	// Converge is how long every watcher may take to catch up after a heal
	// and to show the final values after the final reads; default 30s.
	Converge Duration `yaml:"converge,omitempty"`
}

// watchKind: writers put to a KV bucket's keys while watchers pinned to
// nodes watch them, restarting during faults from the revision after the
// last they saw; what they see must be what was written, in order, with
// no acked update skipped, and converge after every heal (issue 22).
var watchKind = &Kind{
	Defaults: func(s *Scenario) {
		w := &s.Workload
		if !s.given("workload.rate") {
			w.Rate = 20
		}
		setDefault(s, &w.KV.Keys, "workload.keys", 20)
		setDefault(s, &w.Bench.KVHistory, "workload.kv_history", 64)
		setDefault(s, &w.Consume.RestartEvery, "workload.restart_every", Duration(10*time.Second))
		setDefault(s, &w.Watch.Converge, "workload.converge", Duration(30*time.Second))
	},
	Validate: func(s *Scenario, check checkFunc) {
		w := s.Workload
		check(w.KV.Keys >= 1 && w.KV.Keys <= 10000, "workload.keys", "must be 1..10000, got %d", w.KV.Keys)
		check(w.Bench.KVHistory >= 1 && w.Bench.KVHistory <= 64, "workload.kv_history", "must be 1..64 (a bucket keeps at most 64 revisions of a key), got %d", w.Bench.KVHistory)
		check(w.Consume.RestartEvery >= 0, "workload.restart_every", "must not be negative")
		check(w.Watch.Watchers >= 0, "workload.watchers", "must not be negative")
		check(w.Watch.Converge >= Duration(time.Second), "workload.converge", "must be at least 1s, got %s", w.Watch.Converge)
	},
	New: func(s *Scenario, o RunOptions) workloads.Workload {
		w := s.Workload
		return workloads.NewWatch(workloads.WatchOptions{
			Bucket: s.stream, Replicas: s.Stream.Replicas, Memory: s.Stream.Storage == "memory", Keys: w.KV.Keys,
			Clients: w.Clients, Rate: w.Rate, Duration: w.Duration.D(), Timeout: w.Timeout.D(),
			Watchers: w.Watch.Watchers, History: w.Bench.KVHistory, RestartEvery: w.Consume.RestartEvery.D(),
			Converge: w.Watch.Converge.D(), Seed: s.seed(), Drop: o.WatchDrop,
		})
	},
	Checkers: func(CheckOptions) []checker.Checker {
		return []checker.Checker{&checker.Watch{}}
	},
	Progress: []string{history.FWatchPut},
}
