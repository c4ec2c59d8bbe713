package scenarios

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"jetstorm/checker"
	"jetstorm/reports"
	"jetstorm/workloads"
)

// Kind is one kind of workload (workload.type): everything the harness does
// differently for it. Adding a workload is its file in workloads/, one
// kind_<name>.go here with its options struct and its Kind, one inline
// field in Workload and one line in Kinds.
type Kind struct {
	// Defaults fills the kind's options after the common ones.
	Defaults func(s *Scenario)
	// Validate checks the kind's options; check records each failure at
	// its key. Nil: nothing to check.
	Validate func(s *Scenario, check checkFunc)
	// New builds the workload of a run.
	New func(s *Scenario, o RunOptions) workloads.Workload
	// Duration is how long the load is scheduled to run (progress, faults).
	// Nil: workload.duration.
	Duration func(s *Scenario) time.Duration
	// Checkers judge a history of this kind; every run also gets the
	// crashes and recovery checks (see checkersFor).
	Checkers func(o CheckOptions) []checker.Checker
	// Progress names the history functions whose ok ops are the work done.
	Progress []string
	// Save writes the workload's own result files into the run directory
	// once it has run (nil: none): the finish path, which also serves
	// `jetstorm check`, reads them from there.
	Save func(w workloads.Workload, o SaveOptions) error
	// Results adds the kind's sections to results.json from the run
	// directory's files (nil: none). It runs after the checks.
	Results func(dir string, res *reports.Results) error
	// Benchmark: the kind measures; it proves nothing about correctness. Its
	// verdict is none when it ran to the end and no check found an anomaly.
	Benchmark bool
	// Print prints the kind's own table after the summary (nil: none).
	Print func(w io.Writer, res *reports.Results)
}

// Kinds are the workload kinds by workload.type.
var Kinds = map[string]*Kind{
	"queue":    queueKind,
	"kv":       kvKind,
	"bench":    benchKind,
	"consume":  consumeKind,
	"batch":    batchKind,
	"counter":  counterKind,
	"occ":      occKind,
	"ttl":      ttlKind,
	"schedule": scheduleKind,
	"watch":    watchKind,
	"objects":  objectsKind,
	"mirror":   mirrorKind,
	"pinned":   pinnedKind,
}

// KindNames lists the workload kinds, sorted.
func KindNames() []string { return slices.Sorted(maps.Keys(Kinds)) }

// kindOf returns the kind named by a scenario or a history's meta op.
func kindOf(name string) (*Kind, error) {
	if k, ok := Kinds[name]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("workload %q is not a known kind (known: %s)", name, strings.Join(KindNames(), ", "))
}

// kind is the scenario's workload kind (validated at load).
func (s *Scenario) kind() *Kind { return Kinds[s.Workload.Type] }

// loadDuration is how long the workload is scheduled to run.
func (s *Scenario) loadDuration() time.Duration {
	if k := s.kind(); k != nil && k.Duration != nil {
		return k.Duration(s)
	}
	return s.Workload.Duration.D()
}

// checkFunc records a validation failure at key when ok is false.
type checkFunc func(ok bool, key, format string, args ...any)

// CheckOptions are what a kind's checkers may need.
type CheckOptions struct {
	Dir     string        // the run directory
	Timeout time.Duration // search limit of expensive checks (linearizability)
	// RunErrs are the errors of the run itself (recorded in the history):
	// a run that did not get to the end.
	RunErrs []string
	// Values are what the history says of each value, shared by the
	// checks that need it of every value and the report (checker.View),
	// so that it is kept once.
	Values *checker.Values
}

// SaveOptions are what a kind's Save may need.
type SaveOptions struct {
	Dir      string    // the run directory
	Origin   time.Time // the history's time origin
	Scenario string    // the scenario's name
}

// seed is the scenario's seed, 0 when it has none (yet).
func (s *Scenario) seed() uint64 {
	if s.Seed == nil {
		return 0
	}
	return *s.Seed
}
