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
type Recovery struct{}

func (Recovery) Name() string { return "recovery" }

// RecoveryStats is what the recover ops say; Recovery.Check returns it as
// Details.
type RecoveryStats struct {
	Healed bool `json:"healed"`
	// Unrecovered maps each node that was not healthy at the end to its last
	// health error.
	Unrecovered map[string]string `json:"unrecovered_nodes,omitempty"`
	Err         string            `json:"err,omitempty"`
}

// AnalyzeRecovery reads the last completed recover op of h.
func AnalyzeRecovery(h []history.Op) (RecoveryStats, bool, error) {
	var s RecoveryStats
	seen, done := false, false
	var err error
	for _, op := range h {
		if op.F != history.FRecover {
			continue
		}
		seen = true
		switch op.Type {
		case history.Invoke:
			done = false
		case history.OK:
			s, done, err = RecoveryStats{Healed: true}, true, nil
		default:
			s, done = RecoveryStats{Err: op.Err}, true
			err = op.Decode(&s.Unrecovered)
		}
	}
	if !seen {
		return s, false, nil
	}
	if !done {
		return s, true, fmt.Errorf("the final heal never completed")
	}
	return s, true, err
}

// Check judges the final heal.
func (Recovery) Check(ctx context.Context, h []history.Op) Result {
	r := Result{Name: "recovery", Verdict: Unknown}
	if err := ctx.Err(); err != nil {
		r.Message = "not checked: " + err.Error()
		return r
	}
	s, seen, err := AnalyzeRecovery(h)
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
