package checker

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"jetstorm/history"
)

// Recovery judges the final heal (the recover ops): after every fault was
// undone, every node must be healthy within final.recover. A cluster that
// never healed is Unknown, naming each node that never recovered with its
// last health error: what was read from it proves nothing about the writes
// that are missing. (The other checkers still report anomalies proven on
// what could be read, and Invalid beats Unknown.)
//
// Without recover ops (an interrupted run) it is skipped.
//
// Recovery is a Checker: use a new &Recovery{} per history.
type Recovery struct {
	a recoveryAnalysis
}

func (*Recovery) Name() string { return "recovery" }

// Observe implements Checker: it keeps the outcome of the last recover op.
func (r *Recovery) Observe(op history.Op) { r.a.observe(op) }

// RecoveryStats is what the recover ops say; Recovery.Result returns it as
// Details.
type RecoveryStats struct {
	Healed bool `json:"healed"`
	// Unrecovered maps each node that was not healthy at the end to its last
	// health error.
	Unrecovered map[string]string `json:"unrecovered_nodes,omitempty"`
	Err         string            `json:"err,omitempty"`
}

// recoveryAnalysis is AnalyzeRecovery's state between ops. The zero value
// is ready.
type recoveryAnalysis struct {
	s          RecoveryStats
	seen, done bool
	err        error
}

// AnalyzeRecovery reads the last completed recover op of h.
func AnalyzeRecovery(h []history.Op) (RecoveryStats, bool, error) {
	var a recoveryAnalysis
	for _, op := range h {
		a.observe(op)
	}
	return a.stats()
}

// observe takes in one op of the history.
func (a *recoveryAnalysis) observe(op history.Op) {
	if op.F != history.FRecover {
		return
	}
	a.seen = true
	switch op.Type {
	case history.Invoke:
		a.done = false
	case history.OK:
		a.s, a.done, a.err = RecoveryStats{Healed: true}, true, nil
	default:
		a.s, a.done = RecoveryStats{Err: op.Err}, true
		a.err = op.Decode(&a.s.Unrecovered)
	}
}

// stats is the outcome of the last completed recover op, whether there was
// a recover op, and why it is not known.
func (a *recoveryAnalysis) stats() (RecoveryStats, bool, error) {
	if !a.seen {
		return a.s, false, nil
	}
	if !a.done {
		return a.s, true, fmt.Errorf("the final heal never completed")
	}
	return a.s, true, a.err
}

// Result implements Checker: it judges the final heal.
func (c *Recovery) Result(ctx context.Context) Result {
	r := Result{Name: "recovery", Verdict: Unknown}
	if err := ctx.Err(); err != nil {
		r.Message = "not checked: " + err.Error()
		return r
	}
	s, seen, err := c.a.stats()
	r.Details = s
	switch {
	case !seen:
		r.Verdict, r.Message = Skipped, "no final heal in the history (interrupted run?)"
	case err != nil:
		r.Message = "recover op: " + err.Error()
	case s.Healed:
		r.Verdict, r.Message = Valid, "every node healthy after healing"
	default:
		r.Message = "the cluster never healed, so what is missing cannot be judged lost unless a replica that was read proves it"
		if len(s.Unrecovered) > 0 {
			names := make([]string, 0, len(s.Unrecovered))
			for n := range s.Unrecovered {
				names = append(names, n)
			}
			slices.Sort(names)
			for i, n := range names {
				names[i] = n + ": " + s.Unrecovered[n]
			}
			r.Message += "; not recovered: " + strings.Join(names, "; ")
		} else if s.Err != "" {
			r.Message += "; " + s.Err
		}
	}
	return r
}
