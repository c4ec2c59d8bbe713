package reports

import (
	"bytes"
	"context"
	"testing"

	"jetstorm/checker"
	"jetstorm/history"
)

// The loss plots take the lost values from the checkers' sections of
// results.json when their lists are complete, and from the history's reads
// otherwise (no section, or a capped list): both draw the same plots.
func TestLossFiguresFromCheckersMatchHistory(t *testing.T) {
	h := synthHistory(true)
	_, checks := checker.Run(context.Background(), h, &checker.Queue{}, &checker.PerNode{})
	res := Build(DigestOf(h), history.Meta{}, checker.Invalid, checks, nil)
	if res.Queue == nil || res.Queue.Lost == 0 || len(res.Queue.LostValues) != res.Queue.Lost {
		t.Fatalf("want some lost values, all listed: %+v", res.Queue)
	}
	if n2 := res.PerNode["n2"]; n2.Lost <= len(n2.LostValues) {
		t.Fatalf("want n2's lost list capped: %d lost, %d listed", n2.Lost, len(n2.LostValues))
	}
	render := func(res *Results) [][]byte {
		r := &run{res: res, d: DigestOf(h)}
		var out [][]byte
		for _, f := range r.lossFigures() {
			_, svg, err := f.render()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, svg)
		}
		return out
	}
	fromCheckers := render(res)
	fromHistory := render(&Results{})
	if len(fromCheckers) != 3 || len(fromHistory) != len(fromCheckers) {
		t.Fatalf("%d figures from the checkers, %d from the history; want 3 (all, n1, n2)", len(fromCheckers), len(fromHistory))
	}
	for i := range fromCheckers {
		if !bytes.Equal(fromCheckers[i], fromHistory[i]) {
			t.Errorf("figure %d differs", i)
		}
	}
}
