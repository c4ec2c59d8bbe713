// Output: the summary at the end of a run.

package main

import (
	"fmt"
	"path/filepath"
	"time"
)

// report prints the stale equivalence entries, the survivors and the
// summary line, and returns the exit status: 1 when a mutant survives.
// filtered (-only) keeps unmatched entries from being called stale.
func report(o options, muts []*mutant, entries []*equivEntry, filtered bool, start time.Time) int {
	var n, nKilled, nSurvived, nEquiv, nTimeout int
	var survivors []*mutant
	for _, m := range muts {
		switch m.status {
		case notRun:
			continue
		case killed:
			nKilled++
		case timedOut:
			nKilled++
			nTimeout++
		case survived:
			if m.equiv != nil {
				nEquiv++
			} else {
				nSurvived++
				survivors = append(survivors, m)
			}
		}
		n++
	}
	for _, e := range entries {
		used, usedKilled := false, false
		for _, m := range muts {
			if m.equiv == e {
				used = true
				usedKilled = usedKilled || m.status == killed || m.status == timedOut
			}
		}
		switch {
		case !used && !filtered:
			fmt.Fprintf(o.out, "stale equivalence entry (no such mutant): %s:%d: %s\n", filepath.Base(o.equiv), e.line, e.key())
		case usedKilled:
			fmt.Fprintf(o.out, "stale equivalence entry (its mutant is killed now): %s:%d: %s\n", filepath.Base(o.equiv), e.line, e.key())
		}
	}
	if len(survivors) > 0 {
		fmt.Fprintf(o.out, "\n%d surviving %s (kill with a test, or list in %s with the reason it is equivalent):\n",
			len(survivors), plural(len(survivors), "mutant", "mutants"), filepath.Base(o.equiv))
		for _, m := range survivors {
			fmt.Fprintf(o.out, "  - `%s` `%s` `%s` `%s` (line %d, col %d)\n", m.file, m.fn, m.expr, m.mutation, m.line, m.col)
		}
	}
	fmt.Fprintf(o.out, "mutate: %v\n", time.Since(start).Round(time.Second))
	fmt.Fprintf(o.out, "mutants: %d, killed %d, survived %d (equivalent %d, timed out %d)\n", n, nKilled, nSurvived, nEquiv, nTimeout)
	if nSurvived > 0 {
		return 1
	}
	return 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
