package scenarios

import (
	"path/filepath"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// KVOptions are the kv workload's own keys of the workload section.
type KVOptions struct {
	Keys int `yaml:"keys,omitempty"` // number of keys; default 5
	// DirectReads keeps the bucket's direct gets, which any replica may
	// answer: not linearizable by design. Default: leader reads.
	DirectReads bool `yaml:"direct_reads,omitempty"`
}

// kvKind: clients doing get / put / compare-and-set on a few keys of a KV
// bucket; the history must be linearizable.
var kvKind = &Kind{
	Defaults: func(s *Scenario) {
		setDefault(s, &s.Workload.KV.Keys, "workload.keys", 5)
	},
	Validate: func(s *Scenario, check checkFunc) {
		k := s.Workload.KV.Keys
		check(k >= 1 && k <= 1000, "workload.keys", "must be 1..1000, got %d", k)
	},
	New: func(s *Scenario, o RunOptions) workloads.Workload {
		w := s.Workload
		return workloads.NewKV(workloads.KVOptions{
			Replicas: s.Stream.Replicas, Memory: s.Stream.Storage == "memory", Keys: w.KV.Keys, Bucket: s.stream,
			Clients: w.Clients, Rate: w.Rate, Duration: w.Duration.D(), Timeout: w.Timeout.D(),
			DirectReads: w.KV.DirectReads, Wrap: o.KVWrap,
		})
	},
	Checkers: func(o CheckOptions) []checker.Checker {
		// porcupine's timeline goes to history.html.
		return []checker.Checker{&checker.Linearizable{Timeout: o.Timeout, HTMLPath: filepath.Join(o.Dir, "history.html")}}
	},
	Progress: []string{history.FKVPut, history.FKVGet, history.FKVCas},
}
