package scenarios

import (
	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/workloads"
)

// ObjectsOptions are the objects workload's own keys of the workload
// section. workload.rate is ops (puts and deletes) a second, default 5:
// objects are big.
type ObjectsOptions struct {
	// Objects is how many object names the clients write; default 8.
	Objects int `yaml:"objects,omitempty"`
	// Sizes are the objects' sizes, drawn at random per put; default
	// [100B, 100KiB, 300KiB, 1MiB] (one chunk to eight).
	Sizes []Size `yaml:"sizes,omitempty"`
	// ChunkSize is a put's chunk size; default 128KiB (nats.go's).
	ChunkSize Size `yaml:"chunk_size,omitempty"`
	// DeleteEvery: every n-th op of a client is a delete; default 10, 0
	// none.
	DeleteEvery *int `yaml:"delete_every,omitempty"`
}

// objectsKind: objects put, read back, overwritten and deleted; an acked
// put reads back whole from the leader and every replica, a failed or
// unknown one is never visible torn, an acked delete stays done.
var objectsKind = &Kind{
	Defaults: func(s *Scenario) {
		o := &s.Workload.Objects
		if !s.given("workload.rate") {
			s.Workload.Rate = 5
		}
		setDefault(s, &o.Objects, "workload.objects", 8)
		if len(o.Sizes) == 0 && !s.given("workload.sizes") {
			o.Sizes = []Size{100, 100 << 10, 300 << 10, 1 << 20}
		}
		setDefault(s, &o.ChunkSize, "workload.chunk_size", Size(128<<10))
		defaultPtr(&o.DeleteEvery, 10)
	},
	Validate: func(s *Scenario, check checkFunc) {
		o := s.Workload.Objects
		check(o.Objects >= 1 && o.Objects <= 1000, "workload.objects", "must be 1..1000, got %d", o.Objects)
		check(len(o.Sizes) > 0, "workload.sizes", "must list at least one size")
		for i, z := range o.Sizes {
			check(z >= 1 && z <= MaxSize, "workload.sizes", "sizes[%d] must be 1B..64MiB, got %s", i, z)
		}
		check(o.ChunkSize >= 1 && o.ChunkSize <= 1<<20, "workload.chunk_size", "must be 1B..1MiB (the server's max payload), got %s", o.ChunkSize)
		check(*o.DeleteEvery >= 0 && *o.DeleteEvery != 1, "workload.delete_every", "must be 0 (none) or at least 2 (1 would only delete), got %d", *o.DeleteEvery)
	},
	New: func(s *Scenario, o RunOptions) workloads.Workload {
		w := newObjects(s)
		w.Tamper = o.ObjectsTamper
		return w
	},
	Checkers: func(CheckOptions) []checker.Checker {
		return []checker.Checker{&checker.Objects{}}
	},
	Progress: []string{history.FObjPut, history.FObjDelete},
}

func newObjects(s *Scenario) *workloads.Objects {
	o := s.Workload.Objects
	sizes := make([]int, len(o.Sizes))
	for i, z := range o.Sizes {
		sizes[i] = z.Bytes()
	}
	return workloads.NewObjects(workloads.ObjectsOptions{
		Queue: queueBase(s), Objects: o.Objects, Sizes: sizes, ChunkSize: o.ChunkSize.Bytes(),
		DeleteEvery: *o.DeleteEvery, Seed: s.seed(),
	})
}
