package scenarios

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"time"

	"jetstorm/checker"
	"jetstorm/history"
	"jetstorm/reports"
)

// FinishOptions are the settings of the finish path.
type FinishOptions struct {
	// CheckTimeout bounds expensive checks (linearizability); default 60s.
	CheckTimeout time.Duration
	// RunErrs are run errors the history may lack (it could not be written).
	RunErrs []string
	Log     *slog.Logger // warnings (e.g. a report that failed); nil: none
}

// HistoryError is a run directory whose history cannot be judged at all
// (missing, malformed, no meta op): a usage error.
type HistoryError struct{ Err error }

func (e *HistoryError) Error() string { return e.Err.Error() }
func (e *HistoryError) Unwrap() error { return e.Err }

// Finish is the one finish path of a run directory, after a run and for
// `jetstorm check`: read history.jsonl, run the checks of the workload kind
// its meta op names (and those every run gets), write results.json with
// the kind's own sections, then the report. A history cut mid-line (jetstorm
// died while writing) is judged on every complete line, saying so in the
// results' errors. The error is for a directory that cannot be checked.
func Finish(ctx context.Context, dir string, o FinishOptions) (*reports.Results, error) {
	path := history.File(dir)
	defer tightGC()()
	// A skim first (meta, faults, run errors: what the checks are and what
	// they need to know from the start), then one pass over every op,
	// shown to the checkers and the report's digest at once.
	skim, err := history.Skim(path)
	if err != nil {
		return nil, &HistoryError{err}
	}
	var meta history.Meta
	if skim.Meta == nil {
		err = fmt.Errorf("history has no %q op", history.FMeta)
	} else {
		err = skim.Meta.Decode(&meta)
	}
	if err != nil {
		return nil, &HistoryError{fmt.Errorf("%s: %w", path, err)}
	}
	// A history that names no kind is the default kind's (as a scenario).
	kind, err := kindOf(cmp.Or(meta.Workload, "queue"))
	if err != nil {
		return nil, &HistoryError{fmt.Errorf("%s: %w", path, err)}
	}
	// The run's errors: those given, a cut history (its message, with the
	// count of ops checked, once they are), those the history records.
	withHistory := func(errs []string) []string {
		for _, op := range skim.RunErrors {
			if !slices.Contains(errs, op.Err) {
				errs = append(errs, op.Err)
			}
		}
		return errs
	}
	runErrs := slices.Clone(o.RunErrs)
	checkErrs := slices.Clone(runErrs)
	if skim.Truncated {
		checkErrs = append(checkErrs, history.ErrTruncated.Error())
	}
	checkErrs = withHistory(checkErrs)
	timeout := o.CheckTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	values := &checker.Values{}
	d := reports.NewDigest(skim, values)
	verdict, checks, err := checker.RunStream(ctx, d.Tee(history.Stream(path)), checkersFor(kind, CheckOptions{Dir: dir, Timeout: timeout, RunErrs: checkErrs, Values: values})...)
	d.Close()
	if errors.Is(err, history.ErrTruncated) {
		runErrs = append(runErrs, fmt.Sprintf("%v; checked the %d complete ops before it", err, d.Ops()))
		if o.Log != nil {
			o.Log.Warn(runErrs[len(runErrs)-1])
		}
	} else if err != nil {
		return nil, &HistoryError{err}
	}
	runErrs = withHistory(runErrs)
	res := reports.Build(d, meta, verdict, checks, runErrs)
	if kind.Results != nil {
		if err := kind.Results(dir, res); err != nil {
			res.Errors = append(res.Errors, err.Error())
		}
	}
	if kind.Benchmark && res.Verdict == checker.Valid {
		res.Verdict = checker.None // measured; no correctness claim
	}
	if err := res.WriteJSON(dir); err != nil {
		return nil, err
	}
	if err := reports.WriteDigest(dir, d); err != nil && o.Log != nil {
		o.Log.Warn("report", "err", err) // the verdict stands without the plots
	}
	return res, nil
}

// checkersFor are the checks a run of kind gets: the kind's own, then the
// crash check of the node logs, the recovery check of the final heal and
// the replicas check of membership changes.
func checkersFor(kind *Kind, o CheckOptions) []checker.Checker {
	var cs []checker.Checker
	if kind.Checkers != nil {
		cs = kind.Checkers(o)
	}
	return append(cs, nodeLogChecker(o.Dir), &checker.Recovery{}, &checker.Replicas{})
}

// PrintSummary prints the results for people, then the kind's own table
// (the bench steps).
func PrintSummary(w io.Writer, res *reports.Results) {
	res.Summary(w)
	if k, ok := Kinds[res.Meta.Workload]; ok && k.Print != nil {
		k.Print(w, res)
	}
}

// Report rebuilds the plots, index.html and junit.xml of a saved run (or
// sweep) directory.
func Report(dir string) error {
	defer tightGC()()
	return reports.Write(dir)
}

// tightGC makes the collector run more often than the default (unless
// GOGC is set), until the function it returns is called. A check or a
// report keeps a few bytes per publish, and what it throws away (decoded
// ops) is short-lived, so the heap stays near what is live: for an hour's
// soak that is hundreds of MB, and the default would let it double.
func tightGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(10)
	return func() { debug.SetGCPercent(old) }
}

// ExitCode is the process exit status of a verdict: 0 valid or none (a
// benchmark that ran to the end), 1 invalid, 2 unknown.
func ExitCode(v checker.Verdict) int { return checker.ExitCode(v) }
