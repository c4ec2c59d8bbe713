package checker

import (
	"strings"
	"testing"
)

// A node's read that began and never ended (a history cut after its
// invoke) leaves that node's copy incomplete: the replicas cannot be
// judged, so the verdict is unknown, never valid.
func TestCopiesNodeReadNeverEnded(t *testing.T) {
	counterValid := []string{
		"counter-add|invoke|0 0-0 5", "counter-add|ok|0 0-0 5 5|1",
		"drain|invoke", "read|ok|0 0-0 5 5|1", "drain|ok",
		"counter-final|ok|0 final 0 5|1",
	}
	for _, tc := range []struct {
		name  string
		check func() Checker
		h     []string
	}{
		{"counter", func() Checker { return &Counter{} }, counterValid},
		{"occ", func() Checker { return &OCC{} }, occLog1},
	} {
		if r := RunOne(t.Context(), opsOf(t, tc.h...), tc.check()); r.Verdict != Valid {
			t.Fatalf("%s: the base history: %s %s", tc.name, r.Verdict, r.Message)
		}
		h := append(append([]string{}, tc.h...), "node-drain|invoke|||n1")
		r := RunOne(t.Context(), opsOf(t, h...), tc.check())
		if r.Verdict != Unknown || !strings.Contains(r.Message, "per-node drain incomplete on n1") {
			t.Errorf("%s: %s %s", tc.name, r.Verdict, r.Message)
		}
	}
}
