// Package checker judges a recorded history. Each Checker is shown the
// history's ops once, in order, and returns a Result whose Verdict is
// valid, invalid, unknown or skipped (the check does not apply);
// RunStream (or Run, for a history in memory) reads the history once for
// all of them and combines their verdicts into the run's verdict (a
// benchmark's is none), and ExitCode maps that to the process exit status.
package checker

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"jetstorm/history"
)

// Verdict is a checker's judgement of a history.
type Verdict string

const (
	Valid   Verdict = "valid"   // no anomaly found, and the evidence was complete
	Invalid Verdict = "invalid" // an anomaly is proven
	Unknown Verdict = "unknown" // the history cannot prove either (incomplete, malformed, not checked)
	// Skipped is a check that does not apply to this run (its Message says
	// why): it votes neither way, and is never a run's verdict.
	Skipped Verdict = "skipped"
	// None is a benchmark's verdict: it measured and proved nothing about
	// correctness (no check found an anomaly). It exits 0.
	None Verdict = "none"
)

// Result is one checker's output. Details holds checker-specific data (e.g.
// QueueStats) for reports (see Sections); it is not part of the JSON form.
type Result struct {
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	Message string  `json:"message"`
	Details Details `json:"-"`
}

// Checker judges one history, which it is shown once, op by op, in file
// order: RunStream (or Run) calls Observe with every op of the history,
// then Result once, also for a history with no ops (but not after Observe
// panicked, nor when the context is done). Observe keeps only what the
// judgement needs (typed, not the ops themselves), so a history need never
// be held in memory; Result judges. Neither is called concurrently.
//
// A Checker is single-use: it judges one history, and is not reset by
// Result. Build a new one per history; each checker of this package is
// ready as a zero value (plus its configuration), by pointer:
// &Queue{}, &Linearizable{Timeout: t}.
type Checker interface {
	Name() string
	// Observe is shown every op of the history, in order, once.
	Observe(op history.Op)
	// Result judges the ops observed, after the last one. Its Name may be
	// left empty (Run fills it in).
	Result(ctx context.Context) Result
}

// Combine folds verdicts: Invalid beats Unknown beats Valid; Skipped and
// None ones do not count. No verdicts (or only skipped ones), or an
// unrecognised one, counts as Unknown: absence of evidence is not validity;
// only None ones (benchmarks) combine to None.
func Combine(vs ...Verdict) Verdict {
	out, voted, none := Valid, false, false
	for _, v := range vs {
		switch v {
		case Invalid:
			return Invalid
		case Skipped:
			continue
		case None:
			none = true
			continue
		case Valid:
		default:
			out = Unknown
		}
		voted = true
	}
	if !voted {
		if none {
			return None
		}
		return Unknown
	}
	return out
}

// ExitCode maps a verdict to a process exit status: valid (and a
// benchmark's none) 0, invalid 1, anything else 2.
func ExitCode(v Verdict) int {
	switch v {
	case Valid, None:
		return 0
	case Invalid:
		return 1
	}
	return 2
}

// Run shows every op of h to the checkers and combines their verdicts:
// RunStream over a history held in memory.
func Run(ctx context.Context, h []history.Op, checkers ...Checker) (Verdict, []Result) {
	v, rs, _ := RunStream(ctx, history.Seq(h), checkers...)
	return v, rs
}

// RunOne is Run with one checker: its Result.
func RunOne(ctx context.Context, h []history.Op, c Checker) Result {
	_, rs := Run(ctx, h, c)
	return rs[0]
}

// RunStream reads ops once, from start to end (or to its first error),
// shows each op to every checker in turn, then asks each for its Result, in
// order, and combines their verdicts. A checker that panics (in Observe or
// in Result), or is not asked because ctx is done, yields Unknown rather
// than taking the whole run (and the other checkers) down with it: one that
// panics in Observe is shown no more ops. ctx done before or while reading
// stops the reading: then no checker is asked.
//
// A stream error (a malformed line, or a truncated file: history.Stream)
// ends the reading and is returned; the verdict and results are then those
// of the ops before it, and the caller decides whether they stand (as
// `jetstorm check` does for history.ErrTruncated) or not.
func RunStream(ctx context.Context, ops iter.Seq2[history.Op, error], checkers ...Checker) (Verdict, []Result, error) {
	names := make([]string, len(checkers))
	panics := make([]*Result, len(checkers))
	for i, c := range checkers {
		names[i] = c.Name()
	}
	var streamErr error
	if ctx.Err() == nil {
		for op, err := range ops {
			if err != nil {
				streamErr = err
				break
			}
			for i, c := range checkers {
				if panics[i] == nil {
					panics[i] = observe(c, names[i], op)
				}
			}
			if ctx.Err() != nil {
				break
			}
		}
	}
	results := make([]Result, 0, len(checkers))
	vs := make([]Verdict, 0, len(checkers))
	for i, c := range checkers {
		var r Result
		if p := panics[i]; p != nil {
			r = *p
		} else {
			r = result(ctx, c, names[i])
		}
		results = append(results, r)
		vs = append(vs, r.Verdict)
	}
	return Combine(vs...), results, streamErr
}

// observe shows op to c: the Result to give c when it panicked, else nil.
func observe(c Checker, name string, op history.Op) (r *Result) {
	defer func() {
		if p := recover(); p != nil {
			r = panicked(name, p)
		}
	}()
	c.Observe(op)
	return nil
}

func panicked(name string, p any) *Result {
	return &Result{Name: name, Verdict: Unknown, Message: fmt.Sprintf("checker panicked: %v", p)}
}

// result asks c for its Result.
func result(ctx context.Context, c Checker, name string) (r Result) {
	if err := ctx.Err(); err != nil {
		return Result{Name: name, Verdict: Unknown, Message: "not checked: " + err.Error()}
	}
	defer func() {
		if p := recover(); p != nil {
			r = *panicked(name, p)
		}
	}()
	r = c.Result(ctx)
	if r.Name == "" {
		r.Name = name
	}
	return r
}

// judge is the Result of a checker whose judgement is verdict(stats()):
// Unknown, not checked, when ctx is already done.
func judge[S Details](ctx context.Context, name string, stats func() S, verdict func(S) (Verdict, string)) Result {
	if err := ctx.Err(); err != nil {
		return Result{Name: name, Verdict: Unknown, Message: "not checked: " + err.Error()}
	}
	s := stats()
	v, msg := verdict(s)
	return Result{Name: name, Verdict: v, Message: msg, Details: s}
}

// anomalyVerdict is the verdict that what a check found decides: Unknown
// when the history is malformed (its counts cannot be trusted either way),
// Invalid when an anomaly is proven; decided false when neither, and the
// check goes on to judge its evidence's completeness.
func anomalyVerdict(malformed int, firstBad string, problems []string, summary string) (v Verdict, msg string, decided bool) {
	switch {
	case malformed > 0:
		msg := fmt.Sprintf("malformed history (%d bad ops; first: %s)", malformed, firstBad)
		return Unknown, strings.Join(append([]string{msg}, append(problems, summary)...), "; "), true
	case len(problems) > 0:
		return Invalid, strings.Join(append(problems, summary), "; "), true
	}
	return "", "", false
}

// firstOf is the first of examples, "" when there is none.
func firstOf(examples []string) string {
	if len(examples) == 0 {
		return ""
	}
	return examples[0]
}
