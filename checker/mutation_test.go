package checker

// Tests that kill mutants: small deliberate bugs in the checkers that the
// other tests let through (issue 11; `make mutate` finds the next ones, and
// MUTANTS.md lists those that change nothing). Each test names the mutant
// it is there for.

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"jetstorm/history"
)

// qpub is a publish invoke and its completion (none when typ is "").
func qpub(p int, v string, typ history.OpType) []history.Op {
	ops := []history.Op{{Process: p, Type: history.Invoke, F: history.FPublish, Value: v}}
	if typ != "" {
		ops = append(ops, history.Op{Process: p, Type: typ, F: history.FPublish, Value: v})
	}
	return ops
}

// qdrain is a complete drain reading vals at seqs.
func qdrain(vals []string, seqs []uint64) []history.Op {
	ops := []history.Op{{Process: -1, Type: history.Invoke, F: history.FDrain}}
	for i, v := range vals {
		ops = append(ops, history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: v, Seq: seqs[i]})
	}
	return append(ops, history.Op{Process: -1, Type: history.OK, F: history.FDrain})
}

func cat(parts ...[]history.Op) []history.Op {
	var h []history.Op
	for _, p := range parts {
		h = append(h, p...)
	}
	for i := range h {
		h[i].Index = int64(i)
	}
	return h
}

func TestQueueMutants(t *testing.T) {
	tests := []struct {
		name    string
		h       []history.Op
		verdict Verdict
		stats   QueueStats
		msg     []string
	}{
		// Kills `st.seq <= prev.seq` → `st.seq < prev.seq` (AnalyzeQueue): two
		// acked values of one process stored at one sequence are not in
		// publish order.
		{"two acked values at one seq",
			cat(qpub(0, "0-1", history.OK), qpub(0, "0-2", history.OK), qdrain([]string{"0-1", "0-2"}, []uint64{1, 1})),
			Invalid, QueueStats{Attempted: 2, Acked: 2, Read: 2, OrderViolations: 1,
				OrderExamples: []string{"process 0: 0-2 (seq 1) read before 0-1 (seq 1)"}, LostValues: []string{}, DrainComplete: true},
			[]string{"1 ORDER violations"}},
		// Kills `vals[i].out = max(vals[i].out, o)` → `vals[i].out = o`
		// (settle): the strongest outcome of a retried value wins, not the
		// last. Info then fail: maybe stored, so reading it recovers it.
		{"info then fail retry, read",
			cat(qpub(0, "0-1", history.Info), qpub(1, "0-1", history.Fail), qdrain([]string{"0-1"}, []uint64{1})),
			Valid, QueueStats{Attempted: 2, Failed: 1, Indeterminate: 1, Read: 1, Recovered: 1,
				LostValues: []string{}, DrainComplete: true},
			[]string{"1 recovered"}},
		// Kills dropping the `v != vals[p.val].v` check (AnalyzeQueue): a
		// completion naming another value than its invoke breaks the pairing.
		{"completion value differs from invoke",
			cat([]history.Op{
				{Process: 0, Type: history.Invoke, F: history.FPublish, Value: "0-1"},
				{Process: 0, Type: history.OK, F: history.FPublish, Value: "0-2"},
			}, qdrain([]string{"0-1"}, []uint64{1})),
			Unknown, QueueStats{Attempted: 1, Acked: 1, Read: 1, LostValues: []string{}, DrainComplete: true, Malformed: 1,
				MalformedExamples: []string{`op 1: publish ok value "0-2" differs from invoke op 0 value "0-1"`}},
			[]string{"malformed", "differs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Queue{}.Check(context.Background(), tt.h)
			if r.Verdict != tt.verdict {
				t.Errorf("got %s, want %s; message: %s", r.Verdict, tt.verdict, r.Message)
			}
			if got := r.Details.(QueueStats); !reflect.DeepEqual(got, tt.stats) {
				t.Errorf("stats:\n got %+v\nwant %+v", got, tt.stats)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message %q lacks %q", r.Message, m)
				}
			}
		})
	}
}

func TestPerNodeMutants(t *testing.T) {
	both := map[string]bool{"n1": true, "n2": true}
	tests := []struct {
		name    string
		h       []history.Op
		verdict Verdict
		stats   PerNodeStats
		msg     []string
	}{
		// Kills `k > 1` → `k > 2` (AnalyzePerNode's pairwise loop): the
		// other disagreement tests all have three complete nodes. n1 holds
		// an unacked 1-0 that n2 lacks; no acked write is lost anywhere.
		{"two complete nodes disagree",
			append(nodeHistory([]string{"0-0"}, map[string][]string{"n1": {"0-0", "1-0"}, "n2": {"0-0"}}, both),
				qpub(1, "1-0", "")...),
			Invalid, PerNodeStats{
				Nodes: map[string]NodeStats{
					"n1": {Complete: true, Read: 2, LostValues: []string{}},
					"n2": {Complete: true, Read: 1, MissingVsOthers: 1, LostValues: []string{}}},
				Disagreements: []string{"n2 lacks 1 value n1 has (first: 1-0)"}},
			[]string{"SPLIT BRAIN", "0 divergent seqs", "n2 lacks 1 value n1 has (first: 1-0)"}},
		// Kills a publish counted as acked on any completion but OK, e.g.
		// `op.Type == history.OK` → `op.Type != history.Fail`: an info
		// publish that no node holds is not lost.
		{"info publish on no node",
			append(nodeHistory([]string{"0-0"}, map[string][]string{"n1": {"0-0"}, "n2": {"0-0"}}, both),
				qpub(1, "1-0", history.Info)...),
			Valid, PerNodeStats{Nodes: map[string]NodeStats{
				"n1": {Complete: true, Read: 1, LostValues: []string{}},
				"n2": {Complete: true, Read: 1, LostValues: []string{}}}},
			[]string{"2 nodes, 2 complete: n1 1 read/0 lost, n2 1 read/0 lost"}},
		// Kills dropping `&& s.Malformed == 0` from the "skipped" case
		// (perNodeVerdict): node ops that are all malformed are not "no
		// node ops".
		{"only malformed node ops",
			cat(qpub(0, "0-0", history.OK), []history.Op{
				{Type: history.Invoke, F: history.FNodeDrain},
				{Type: history.OK, F: history.FNodeRead, Value: "0-0", Seq: 1},
				{Type: history.OK, F: history.FNodeDrain}}),
			Unknown, PerNodeStats{Nodes: map[string]NodeStats{}, Malformed: 3,
				MalformedExamples: []string{"op 2: node-drain invoke has no node", "op 3: node-read has no node", "op 4: node-drain ok has no node"}},
			[]string{"malformed history (3 bad ops; first: op 2: node-drain invoke has no node)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := PerNode{}.Check(context.Background(), tt.h)
			if r.Verdict != tt.verdict {
				t.Errorf("got %s, want %s; message: %s", r.Verdict, tt.verdict, r.Message)
			}
			if strings.HasPrefix(r.Message, "skipped") && tt.verdict != Valid {
				t.Errorf("skipped: %s", r.Message)
			}
			if got := r.Details.(PerNodeStats); !reflect.DeepEqual(got, tt.stats) {
				t.Errorf("stats:\n got %+v\nwant %+v", got, tt.stats)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message %q lacks %q", r.Message, m)
				}
			}
		})
	}
}

func TestLinearizableMutants(t *testing.T) {
	put := func(p int, t0, t1 int, v string, rev uint64) []history.Op {
		return kvOp(p, history.FKVPut, time.Duration(t0), time.Duration(t1), kvv("x", v, 0), history.OK, kvv("x", v, rev), "")
	}
	get := func(p int, t0, t1 int, v string, rev uint64) []history.Op {
		return kvOp(p, history.FKVGet, time.Duration(t0), time.Duration(t1), kvv("x", "", 0), history.OK, kvv("x", v, rev), "")
	}
	// A completion with no invoke: malformed.
	stray := []history.Op{{Process: 9, Type: history.OK, F: history.FKVGet, Value: kvv("y", "w", 0), Time: 200}}
	tests := []struct {
		name    string
		h       []history.Op
		verdict Verdict
		result  string // porcupine's
		msg     []string
	}{
		// Kills a get model that accepts "absent" whatever the state (kvStep):
		// after an acked put, a get that finds no value is not linearizable.
		// The get has no revision, so only porcupine can tell.
		{"get absent after put", cat(put(0, 10, 20, "v1", 1), get(1, 30, 40, "", 0)),
			Invalid, "Illegal", []string{"NOT linearizable", "key(s) x"}},
		// Kills `err == ""` → false in casFailIsPrecondition: a failed cas
		// with no error text (hand-written histories) is a precondition
		// failure, a lie here since the revision it expected was current.
		{"failed cas, empty error, revision matched", cat(put(0, 10, 20, "v1", 1), get(1, 25, 30, "v1", 1),
			kvOp(1, history.FKVCas, 40, 50, kvcas("x", "v3", 1), history.Fail, nil, ""),
			get(2, 60, 70, "v1", 1)),
			Invalid, "Illegal", []string{"NOT linearizable", "1 cas of which 1 failed"}},
		// Kills swapping the verdict's first two cases (Check): a revision
		// mismatch is proven by itself, so it stays Invalid in a history
		// that is also malformed...
		// (The get reads the latest value, so porcupine finds no fault.)
		{"rev mismatch and malformed", cat(put(0, 10, 20, "v1", 1), put(0, 30, 40, "v2", 2), get(1, 50, 60, "v2", 1), stray),
			Invalid, "Ok", []string{`read value "v2" of key x at rev 1`}},
		// ...and kills moving the porcupine-Illegal case above the malformed
		// one: an illegal verdict that rests on a malformed history is
		// Unknown (package comment).
		{"illegal and malformed", cat(put(0, 10, 20, "v1", 1), put(0, 30, 40, "v2", 2), get(1, 50, 60, "v1", 1), stray),
			Unknown, "Illegal", []string{"malformed history: 1 bad kv ops", `porcupine said "Illegal"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Linearizable{}.Check(context.Background(), tt.h)
			st := linStats(t, r)
			if r.Verdict != tt.verdict || st.Result != tt.result {
				t.Errorf("got %s (porcupine %q), want %s (%q); message: %s", r.Verdict, st.Result, tt.verdict, tt.result, r.Message)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message %q lacks %q", r.Message, m)
				}
			}
		})
	}
}

// constChecker always returns its verdict.
type constChecker Verdict

func (constChecker) Name() string { return "const" }
func (c constChecker) Check(context.Context, []history.Op) Result {
	return Result{Verdict: Verdict(c), Message: "checked"}
}

// Kills dropping the ctx check from runOne: a checker skipped because the
// context is done is Unknown "not checked", even one that ignores ctx and
// would say valid (Queue checks ctx itself, so TestRun cannot tell).
func TestRunCancelledIsNotChecked(t *testing.T) {
	if v, rs := Run(context.Background(), nil, constChecker(Valid)); v != Valid || rs[0].Name != "const" {
		t.Fatalf("%s %+v", v, rs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v, rs := Run(ctx, nil, constChecker(Valid))
	if v != Unknown || len(rs) != 1 || rs[0].Verdict != Unknown || rs[0].Name != "const" ||
		rs[0].Message != "not checked: context canceled" {
		t.Fatalf("%s %+v", v, rs)
	}
}
