package checker

import (
	"fmt"
	"strings"
	"testing"

	"jetstorm/history"
)

// opsOf builds a history from "f|type|value|seq|node|process" lines
// (trailing fields optional; "" value: none).
func opsOf(t *testing.T, lines ...string) []history.Op {
	t.Helper()
	var h []history.Op
	for i, l := range lines {
		f := strings.Split(l, "|")
		op := history.Op{Index: int64(i), Process: -1, F: f[0], Type: history.OpType(f[1])}
		if len(f) > 2 && f[2] != "" {
			op.Value = f[2]
		}
		if len(f) > 3 && f[3] != "" {
			fmt.Sscan(f[3], &op.Seq)
		}
		if len(f) > 4 {
			op.Node = f[4]
		}
		if len(f) > 5 {
			fmt.Sscan(f[5], &op.Process)
		}
		if len(f) > 6 {
			op.Err = f[6]
		}
		h = append(h, op)
	}
	return h
}

func counterOf(t *testing.T, lines ...string) (Result, CounterStats) {
	t.Helper()
	r := RunOne(t.Context(), opsOf(t, lines...), &Counter{})
	s, _ := r.Details.(CounterStats)
	return r, s
}

// counterBase: two acked increments to counter 0, the second one lost.
var counterBase = []string{
	"counter-add|invoke|0 0-0 5", "counter-add|ok|0 0-0 5 5|1",
	"counter-add|invoke|0 0-1 2", "counter-add|ok|0 0-1 2 7|2",
	"recover|ok",
	"drain|invoke", "read|ok|0 0-0 5 5|1", "drain|ok",
	"counter-final|ok|0 final 0 5|1",
}

// On a cluster that never healed, a missing acked increment is not proven
// lost; on one that healed it is.
func TestCounterUnhealed(t *testing.T) {
	if r, s := counterOf(t, counterBase...); r.Verdict != Invalid || s.Lost != 1 || !strings.Contains(r.Message, "no replica's own copy read") == (r.Verdict == Valid) {
		t.Errorf("healed: %s %s", r.Verdict, r.Message)
	}
	lines := append([]string{}, counterBase...)
	lines[4] = "recover|info"
	lines = append(lines, "node-drain|invoke|||n1", "node-read|ok|0 0-0 5 5|1|n1", "node-drain|ok|||n1")
	if r, s := counterOf(t, lines...); r.Verdict != Unknown || !s.Unhealed || !strings.Contains(r.Message, "never healed") {
		t.Errorf("unhealed: %s %s", r.Verdict, r.Message)
	}
}

// A replica whose read did not finish: the replicas cannot be judged.
func TestCounterIncompleteNode(t *testing.T) {
	lines := append([]string{}, counterBase[:2]...)
	lines = append(lines, "drain|invoke", "read|ok|0 0-0 5 5|1", "drain|ok", "counter-final|ok|0 final 0 5|1",
		"node-drain|invoke|||n1", "node-drain|info|||n1")
	r, _ := counterOf(t, lines...)
	if r.Verdict != Unknown || !strings.Contains(r.Message, "per-node drain incomplete on n1") {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
	lines = lines[:len(lines)-2]
	if r, _ := counterOf(t, lines...); r.Verdict != Valid || !strings.Contains(r.Message, "no replica's own copy read") {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
}

// Ops that break the protocol make the check unknown.
func TestCounterMalformedOps(t *testing.T) {
	for _, lines := range [][]string{
		{"counter-add|invoke|0 0-0 5", "counter-add|ok|0 0-0 5 5|1", "counter-add|invoke|0 0-0 5"},
		{"counter-add|ok|0 0-0 5 5|1"},
		{"counter-add|invoke|0 0-0 5", "counter-add|ok|0 0-0 6 6|1"},
		{"counter-add|invoke|0 0-0 5", "counter-add|ok|1 0-0 5 5|1"},
		{"counter-add|invoke|0 0-0 5", "counter-add|ok|0 0-0 5|1"},
		{"counter-add|invoke|0 0-0 5", "counter-add|ok|0 0-0 5 5|1", "counter-add|fail|0 0-0 5"},
		{"counter-add|invoke|zero"},
		{"counter-final|ok|0 final 0|1"},
		{"counter-final|ok|garbage|1"},
	} {
		r, s := counterOf(t, append(lines, "drain|invoke", "drain|ok")...)
		if r.Verdict != Unknown || s.Malformed != 1 {
			t.Errorf("%v: %s %s", lines, r.Verdict, r.Message)
		}
	}
}

// Stored increments that differ from their publish, and messages that are
// no increment, are unexpected.
func TestCounterStoredDiffers(t *testing.T) {
	for _, stored := range []string{"0 0-0 6 6", "1 0-0 5 5", "? {\"val\":\"5\"}", "0 0-0 5"} {
		r, s := counterOf(t, "counter-add|invoke|0 0-0 5", "counter-add|info|0 0-0 5",
			"drain|invoke", "read|ok|"+stored+"|1", "drain|ok")
		if r.Verdict != Invalid || s.Unexpected != 1 {
			t.Errorf("%s: %s %s", stored, r.Verdict, r.Message)
		}
	}
}

// Replicas differ in one field of one link, or one holds a link more.
func TestCounterChainsDiffer(t *testing.T) {
	for _, other := range [][]string{
		{"0 0-0 5 5|2"}, {"0 0-1 5 5|1"}, {"0 0-0 4 5|1"}, {"0 0-0 5 6|1"},
		{"0 0-0 5 5|1", "0 0-1 2 7|2"}, {},
	} {
		lines := []string{"counter-add|invoke|0 0-0 5", "counter-add|ok|0 0-0 5 5|1",
			"counter-add|invoke|0 0-1 2", "counter-add|info|0 0-1 2",
			"drain|invoke", "read|ok|0 0-0 5 5|1", "drain|ok", "counter-final|ok|0 final 0 5|1",
			"node-drain|invoke|||n1"}
		for _, o := range other {
			v, seq, _ := strings.Cut(o, "|")
			lines = append(lines, "node-read|ok|"+v+"|"+seq+"|n1")
		}
		r, s := counterOf(t, append(lines, "node-drain|ok|||n1")...)
		if r.Verdict != Invalid || s.Disagreements != 1 {
			t.Errorf("%v: %s %s", other, r.Verdict, r.Message)
		}
	}
}

// A final value with no chain, or a chain with no final value.
func TestCounterFinalWithoutChain(t *testing.T) {
	r, s := counterOf(t, "counter-add|invoke|0 0-0 5", "counter-add|fail|0 0-0 5",
		"drain|invoke", "drain|ok", "counter-final|ok|0 final 0 0|1")
	if r.Verdict != Invalid || s.FinalMismatch != 1 {
		t.Errorf("final without chain: %s %s", r.Verdict, r.Message)
	}
	r, s = counterOf(t, "counter-add|invoke|0 0-0 5", "counter-add|ok|0 0-0 5 5|1",
		"drain|invoke", "read|ok|0 0-0 5 5|1", "drain|ok")
	if r.Verdict != Invalid || s.FinalMismatch != 1 {
		t.Errorf("chain without final: %s %s", r.Verdict, r.Message)
	}
}

// An increment stored 256 times is still counted applied more than once.
func TestCounterManyDuplicates(t *testing.T) {
	lines := []string{"counter-add|invoke|0 0-0 1", "counter-add|info|0 0-0 1", "drain|invoke"}
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("read|ok|0 0-0 1 %d|%d", i+1, i+1))
	}
	r, s := counterOf(t, append(lines, "drain|ok", "counter-final|ok|0 final 0 300|300")...)
	if r.Verdict != Invalid || s.Duplicated != 1 || s.Applied != 1 || !strings.Contains(r.Message, "applied 255 times") {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
}

// A cluster that never healed, with nothing lost, is still valid.
func TestCounterUnhealedNothingLost(t *testing.T) {
	lines := append([]string{}, counterBase[:2]...)
	lines = append(lines, "recover|info", "drain|invoke", "read|ok|0 0-0 5 5|1", "drain|ok", "counter-final|ok|0 final 0 5|1")
	if r, _ := counterOf(t, lines...); r.Verdict != Valid {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
}
