// Package checker judges a recorded history. Each Checker returns a Result
// whose Verdict is valid, invalid, unknown or skipped (the check does not
// apply); Run combines them into the run's verdict (a benchmark's is none)
// and ExitCode maps that to the process exit status.
package checker

import (
	"context"
	"fmt"

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

// Checker judges a history.
type Checker interface {
	Name() string
	Check(ctx context.Context, h []history.Op) Result
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

// Run runs the checkers in order and combines their verdicts. A checker that
// panics, or is skipped because ctx is done, yields Unknown rather than
// taking the whole run (and its other results) down with it.
func Run(ctx context.Context, h []history.Op, checkers ...Checker) (Verdict, []Result) {
	results := make([]Result, 0, len(checkers))
	vs := make([]Verdict, 0, len(checkers))
	for _, c := range checkers {
		r := runOne(ctx, h, c)
		results = append(results, r)
		vs = append(vs, r.Verdict)
	}
	return Combine(vs...), results
}

func runOne(ctx context.Context, h []history.Op, c Checker) (r Result) {
	name := c.Name()
	if err := ctx.Err(); err != nil {
		return Result{Name: name, Verdict: Unknown, Message: "not checked: " + err.Error()}
	}
	defer func() {
		if p := recover(); p != nil {
			r = Result{Name: name, Verdict: Unknown, Message: fmt.Sprintf("checker panicked: %v", p)}
		}
	}()
	r = c.Check(ctx, h)
	if r.Name == "" {
		r.Name = name
	}
	return r
}
