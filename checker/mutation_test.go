package checker

// Tests that kill mutants: small deliberate bugs in the checkers that the
// other tests let through (issue 11; `make mutate` finds the next ones, and
// MUTANTS.md lists those that change nothing). Each test names the mutant
// it is there for.

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

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
			r := checkOps(context.Background(), &Queue{}, tt.h)
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
			r := checkOps(context.Background(), &PerNode{}, tt.h)
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
			r := checkOps(context.Background(), &Linearizable{}, tt.h)
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

func (constChecker) Name() string       { return "const" }
func (constChecker) Observe(history.Op) {}
func (c constChecker) Result(context.Context) Result {
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

// --- found by make mutate ---

// The example lists are capped; the counts are not.
func TestLinearizableExampleCaps(t *testing.T) {
	ops := kvOp(0, history.FKVPut, 10, 20, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), "")
	for i := range 25 {
		at := time.Duration(30 + 10*i)
		ops = append(ops, kvOp(1, history.FKVGet, at, at+5, kvv("x", "", 0), history.OK, kvv("x", "v1", 7), "")...)
		ops = append(ops, history.Op{Process: 100 + i, Type: history.OK, F: history.FKVGet, Value: kvv("x", "v1", 1), Time: at + 6})
	}
	st := linStats(t, checkOps(context.Background(), &Linearizable{}, index(ops)))
	if st.RevMismatchCount != 25 || len(st.RevMismatches) != maxLinExamples || st.Malformed != 25 || len(st.MalformedExamples) != maxLinExamples {
		t.Fatalf("mismatches %d (%d listed), malformed %d (%d listed)", st.RevMismatchCount, len(st.RevMismatches), st.Malformed, len(st.MalformedExamples))
	}
}

// A revision mismatch mentions porcupine's verdict only when it is
// Illegal; a message never ends in an empty list of notes.
func TestLinearizableMessageParts(t *testing.T) {
	put := func(v string, rev uint64, t0 time.Duration) []history.Op {
		return kvOp(0, history.FKVPut, t0, t0+10, kvv("x", v, 0), history.OK, kvv("x", v, rev), "")
	}
	get := func(v string, rev uint64, t0 time.Duration) []history.Op {
		return kvOp(1, history.FKVGet, t0, t0+10, kvv("x", "", 0), history.OK, kvv("x", v, rev), "")
	}
	// The latest value at the wrong revision: porcupine is happy.
	r := checkOps(context.Background(), &Linearizable{}, cat(put("v1", 1, 10), put("v2", 2, 30), get("v2", 1, 50)))
	if r.Verdict != Invalid || strings.Contains(r.Message, "also not linearizable") {
		t.Errorf("%s: %s", r.Verdict, r.Message)
	}
	// A stale value at the wrong revision: both.
	r = checkOps(context.Background(), &Linearizable{}, cat(put("v1", 1, 10), put("v2", 2, 30), get("v1", 2, 50)))
	if r.Verdict != Invalid || !strings.HasSuffix(r.Message, "; also not linearizable on x (longest linearizable prefix: 2 of 3 ops)") {
		t.Errorf("%s: %s", r.Verdict, r.Message)
	}
	r = checkOps(context.Background(), &Linearizable{}, loadKV(t, "kv_valid"))
	if r.Verdict != Valid || strings.HasSuffix(strings.TrimSpace(r.Message), ";") {
		t.Errorf("%s: %q", r.Verdict, r.Message)
	}
}

// Fault windows become annotations: an end closes the open fault of its
// own process, else one with its description, else the oldest; an end with
// nothing open marks the moment; a fault never ended runs to the last op.
func TestParseKVFaultAnnotations(t *testing.T) {
	fault := func(p int, typ history.OpType, at time.Duration, kind, node, err string) history.Op {
		return history.Op{Process: p, Type: typ, F: history.FFault, Time: at, Err: err,
			Value: map[string]any{"kind": kind, "nodes": []any{node}}}
	}
	h := []history.Op{
		fault(-2, history.Invoke, 0, "kill", "n1", ""),
		fault(-3, history.Invoke, 0, "kill", "n1", ""), // same description, another process
		fault(-4, history.Invoke, 5, "pause", "n2", ""),
		fault(-5, history.Invoke, 6, "partition", "n3", ""),
		fault(-3, history.OK, 10, "kill", "n1", ""),                 // its own process: the second
		fault(-9, history.OK, 20, "pause", "n2", ""),                // no process: by description
		fault(-2, history.Info, 30, "partition", "n3", "no leader"), // its own process, whatever the description
		fault(-8, history.OK, 40, "clock", "n1", ""),                // nothing of that: the oldest open one
		fault(-7, history.OK, 50, "clock", "n2", ""),                // nothing open at all
		fault(-6, history.Invoke, 60, "kill", "n3", ""),             // never ended
		{Process: 1, Type: history.Invoke, F: history.FKVGet, Value: kvv("x", "", 0), Time: 70},
	}
	var st LinearizableStats
	_, faults := parseKV(h, &st)
	type span struct {
		desc       string
		start, end int64
		heal       bool // details say the heal failed
		open       bool // details say it never ended
	}
	var got []span
	for _, a := range faults {
		if a.Tag != "nemesis" {
			t.Errorf("tag %q", a.Tag)
		}
		got = append(got, span{a.Description, a.Start, a.End, strings.Contains(a.Details, "heal failed: no leader"), strings.Contains(a.Details, "not ended")})
	}
	want := []span{
		{"kill n1", 0, 30, false, false}, // process -2's, closed (info) by a partition end of process -2
		{"kill n1", 0, 10, false, false},
		{"pause n2", 5, 20, false, false},
		{"partition n3", 6, 40, false, false},
		{"clock n2 (end)", 50, 50, false, false},
		{"kill n3", 60, 70, false, true},
	}
	want[0].heal = true
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("annotations\n got %+v\nwant %+v", got, want)
	}
	if !strings.Contains(faults[0].Details, `"kind":"partition"`) || strings.Contains(faults[1].Details, "heal") {
		t.Errorf("details: %q / %q", faults[0].Details, faults[1].Details)
	}
	// A fault that starts and ends at time 0 ended.
	_, faults = parseKV([]history.Op{fault(-2, history.Invoke, 0, "kill", "n1", ""), fault(-2, history.OK, 0, "kill", "n1", "")}, &st)
	if len(faults) != 1 || faults[0].End != 0 || strings.Contains(faults[0].Details, "not ended") {
		t.Errorf("%+v", faults)
	}
}

// A completion's node, when it has one, is where the op ended up.
func TestParseKVNode(t *testing.T) {
	h := index(append(
		kvOp(0, history.FKVPut, 10, 20, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), ""),
		kvOp(1, history.FKVPut, 30, 40, kvv("x", "v2", 0), history.OK, kvv("x", "v2", 2), "")...))
	h[0].Node, h[1].Node = "n1", "n2"
	h[2].Node = "n3"
	var st LinearizableStats
	calls, _ := parseKV(h, &st)
	if len(calls) != 2 || calls[0].node != "n2" || calls[1].node != "n3" {
		t.Fatalf("%+v %+v", calls[0], calls[1])
	}
}

func TestCasFailIsPrecondition(t *testing.T) {
	for err, want := range map[string]bool{
		"":           true,
		wrongLastSeq: true,
		"nats: API error: code=400 err_code=10071 description=whatever":            true,
		"nats: wrong last sequence: 5":                                             true,
		"nats: key revision mismatch":                                              true,
		"nats: API error: code=400 err_code=10164 description=wrong last sequence": false,
		"nats: no responders available for request":                                false,
		"nats: timeout": false,
	} {
		if got := casFailIsPrecondition(err); got != want {
			t.Errorf("casFailIsPrecondition(%q) = %v, want %v", err, got, want)
		}
	}
}

// Histories that pin the exactness of buildKVOps' rewrites (see the file
// comment of linearizable.go): each is checked against the verdict
// porcupine gives on the history without them, where that one is cheap.
func TestLinearizableRewriteEdges(t *testing.T) {
	ok := func(p int, f string, t0, t1 time.Duration, in, out map[string]any) []history.Op {
		return kvOp(p, f, t0, t1, in, history.OK, out, "")
	}
	info := func(p int, f string, t0 time.Duration, in map[string]any) []history.Op {
		return kvOp(p, f, t0, t0+1000, in, history.Info, nil, "timeout")
	}
	failCas := func(p int, t0, t1 time.Duration, expect uint64) []history.Op {
		return kvOp(p, history.FKVCas, t0, t1, kvcas("x", fmt.Sprintf("c%d", t0), expect), history.Fail, nil, wrongLastSeq)
	}
	put := func(v string, rev uint64, t0, t1 time.Duration) []history.Op {
		return ok(0, history.FKVPut, t0, t1, kvv("x", v, 0), kvv("x", v, rev))
	}
	get := func(v string, rev uint64, t0, t1 time.Duration) []history.Op {
		return ok(1, history.FKVGet, t0, t1, kvv("x", "", 0), kvv("x", v, rev))
	}
	tests := []struct {
		name string
		h    []history.Op
		want Verdict
	}{
		// The info cas expected v1, written by an info put that a get read:
		// the model knows v1 was there before the cas, so the cas could
		// only apply while x was v1, long before the failed cas needed v2
		// gone. Kills `c.typ == history.Info` → != and `c.value != ""` → ==
		// in writtenBy.
		{"stale cas on a read info write", cat(
			info(2, history.FKVPut, 10, kvv("x", "v1", 0)), get("v1", 1, 21, 22),
			put("v2", 2, 25, 30), get("v2", 2, 31, 32),
			info(3, history.FKVCas, 35, kvcas("x", "v3", 1)),
			failCas(1, 40, 50, 2)), Invalid},
		// An info put with no value field (value "") is not "read" by a
		// get of the absent key: it may never have happened. Kills the &&
		// → || mutants of `c.value != "" && observed[c.value] && ok`.
		{"info put of no value", cat(
			get("", 0, 1, 3), put("v1", 1, 10, 20),
			info(2, history.FKVPut, 22, kvv("x", "", 0)), get("v1", 1, 25, 27)), Valid},
		// An unread info put invoked at the very time a failed cas returns
		// may have been applied before the cas took effect (porcupine orders
		// a call before a return at the same time). Kills `t < c.call` → <=
		// (lastCasFail).
		{"info put invoked as a failed cas returns", cat(
			put("v1", 1, 10, 20), get("v1", 1, 21, 22),
			info(2, history.FKVPut, 50, kvv("x", "v2", 0)),
			failCas(1, 40, 50, 1)), Valid},
		// An info cas expecting the absent key, invoked once x is set, can
		// never apply. Kills `in.expect == ""` → !=.
		{"info cas expecting absent after a put", cat(
			put("v1", 1, 10, 20), get("v1", 1, 21, 22),
			info(2, history.FKVCas, 30, kvcas("x", "v3", 0)),
			failCas(1, 40, 50, 1)), Invalid},
		// An info cas invoked before the write of the value it expects
		// returned may apply after it: unconditional. Kills `ok && t <
		// c.call` → || (writtenBy).
		{"info cas before its expected write returned", cat(
			info(2, history.FKVCas, 30, kvcas("x", "v3", 1)),
			put("v1", 1, 35, 40), get("v1", 1, 41, 42),
			failCas(1, 50, 60, 1)), Valid},
		// The same when the write returns at the very time the cas is
		// invoked: ties are concurrent, so the token is unconditional, and
		// this history (not linearizable: the cas expecting v1 cannot have
		// removed v2) is accepted by the weaker check. Pins `t < c.call`
		// (writtenBy); `<=` would be sound too, and more precise: whoever
		// makes it so flips this case to Invalid.
		{"info cas invoked as its expected write returns", cat(
			put("v1", 1, 10, 20), get("v1", 1, 21, 22),
			info(2, history.FKVCas, 20, kvcas("x", "v3", 1)),
			put("v2", 2, 25, 30), get("v2", 2, 31, 32),
			failCas(1, 40, 50, 2)), Valid},
		// One unread info put explains one failed cas, not two. Kills
		// `s.free - 1` → + (kvStep).
		{"one info put, two failed cas", cat(
			put("v1", 1, 10, 20), get("v1", 1, 21, 22),
			info(2, history.FKVPut, 25, kvv("x", "v2", 0)),
			failCas(1, 30, 40, 1),
			put("v3", 3, 45, 50), get("v3", 3, 51, 52),
			failCas(1, 55, 60, 3)), Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkOps(context.Background(), &Linearizable{}, tt.h)
			if r.Verdict != tt.want {
				t.Errorf("got %s, want %s: %s", r.Verdict, tt.want, r.Message)
			}
		})
	}
}

// A failed cas without an expected revision is dropped, and so is an
// unread info put that only it could have observed. Kills `c.f ==
// history.FKVCas && c.hasExpect` → || (lastCasFail).
func TestLinearizableCasWithoutExpectation(t *testing.T) {
	var ops []history.Op
	ops = append(ops, kvOp(0, history.FKVPut, 10, 20, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), "")...)
	ops = append(ops, kvOp(2, history.FKVPut, 25, 1000, kvv("x", "v2", 0), history.Info, nil, "timeout")...)
	ops = append(ops, kvOp(1, history.FKVCas, 30, 40, kvv("x", "v3", 0), history.Fail, nil, wrongLastSeq)...)
	r := checkOps(context.Background(), &Linearizable{}, index(ops))
	st := linStats(t, r)
	st.Elapsed = ""
	want := LinearizableStats{Ops: 1, Keys: 1, Puts: 2, Cas: 1, Indeterminate: 1, UnresolvedCas: 1, Dropped: 2, Result: "Ok"}
	if r.Verdict != Valid || !reflect.DeepEqual(st, want) {
		t.Fatalf("%s: %s\n got %+v\nwant %+v", r.Verdict, r.Message, st, want)
	}
}

// Each op gets the lowest client row free at its call, in call order; an op
// called when another returns overlaps it.
func TestAssignClients(t *testing.T) {
	ops := []porcupine.Operation{
		{Call: 0, Return: 10}, {Call: 0, Return: 5}, // same call: input order
		{Call: 5, Return: 8},   // at a return: still busy
		{Call: 11, Return: 12}, // after all: row 0 again
		{Call: 12, Return: 13},
	}
	assignClients(ops)
	var got []int
	for _, op := range ops {
		got = append(got, op.ClientId)
	}
	if want := []int{0, 1, 2, 0, 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("clients %v, want %v", got, want)
	}
}

// The visualization's texts.
func TestKVDescriptions(t *testing.T) {
	m := kvModel()
	if got := m.DescribeState([]any{kvState{value: "v1", free: 1, cond: 2}, kvState{}}); got != "{v1 [3 unread indeterminate writes pending], (absent)}" {
		t.Errorf("state %q", got)
	}
	if got := m.DescribeState([]any{kvState{value: unreadValue}}); got != "{(a value never read)}" {
		t.Errorf("state %q", got)
	}
	for meta, want := range map[kvMeta]string{
		{index: 3, done: 7, process: 2, typ: history.OK}:                          "ops 3→7, process 2, ok",
		{index: 0, done: 0, process: 1, typ: history.OK, node: "n1"}:              "ops 0→0, process 1, ok, node n1",
		{index: 3, done: -1, process: 2, typ: history.Info, err: "nats: timeout"}: "op 3, process 2, never completed, err: nats: timeout",
	} {
		if got := m.DescribeOperationMetadata(meta); got != want {
			t.Errorf("metadata %q, want %q", got, want)
		}
	}
	// Tokens: a put, a cas whose expectation the model tracks, one it does
	// not, one with an unknown expectation.
	var ops []history.Op
	ops = append(ops, kvOp(0, history.FKVPut, 10, 20, kvv("x", "v1", 0), history.OK, kvv("x", "v1", 1), "")...)
	ops = append(ops, kvOp(1, history.FKVGet, 21, 22, kvv("x", "", 0), history.OK, kvv("x", "v1", 1), "")...)
	ops = append(ops, kvOp(2, history.FKVPut, 25, 1000, kvv("x", "p", 0), history.Info, nil, "")...)
	ops = append(ops, kvOp(3, history.FKVCas, 26, 1000, kvcas("x", "c1", 1), history.Info, nil, "")...)
	ops = append(ops, kvOp(4, history.FKVCas, 5, 1000, kvcas("x", "c2", 1), history.Info, nil, "")...)
	ops = append(ops, kvOp(5, history.FKVCas, 27, 1000, kvcas("x", "c3", 77), history.Info, nil, "")...)
	ops = append(ops, kvOp(1, history.FKVCas, 40, 50, kvcas("x", "v9", 1), history.Fail, nil, wrongLastSeq)...)
	var st LinearizableStats
	calls, _ := parseKV(index(ops), &st)
	pops, _ := buildKVOps(calls, &st)
	var got []string
	for _, op := range pops {
		got = append(got, describeKVOp(op.Input, op.Output))
	}
	want := []string{"put x=v1 @1", "get x → v1 @1",
		"put x=p (indeterminate, never read)", "cas x: v1 → c1 (indeterminate, never read)",
		"cas x: v1 (or any) → c2 (indeterminate, never read)", "cas x: rev 77 (unknown value) → c3 (indeterminate, never read)",
		"cas x: v1 → v9 (failed)"}
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("descriptions\n got %q\nwant %q", got, want)
	}
}

func TestDescribeFault(t *testing.T) {
	for _, tt := range []struct {
		v             any
		desc, details string
	}{
		{map[string]any{"kind": "kill", "nodes": []string{"n1", "n2"}}, "kill n1,n2", `{"kind":"kill","nodes":["n1","n2"]}`},
		{map[string]any{"kind": "clock", "nodes": "n3"}, "clock n3", `{"kind":"clock","nodes":"n3"}`},
		{map[string]any{"kind": "pause"}, "pause", `{"kind":"pause"}`},
		{nil, "fault", "null"},
	} {
		if desc, details := describeFault(tt.v); desc != tt.desc || details != tt.details {
			t.Errorf("describeFault(%v) = %q, %q; want %q, %q", tt.v, desc, details, tt.desc, tt.details)
		}
	}
}

// An op value in memory may be any type that marshals to an object.
func TestKVFields(t *testing.T) {
	type val struct {
		Key string `json:"key"`
		Rev uint64 `json:"rev"`
	}
	m := kvFields(val{"x", 7})
	if k, _ := kvString(m["key"]); k != "x" {
		t.Fatalf("%v", m)
	}
	if r, ok := kvUint(m["rev"]); !ok || r != 7 {
		t.Fatalf("%v", m)
	}
	if m := kvFields(func() {}); m != nil {
		t.Fatalf("%v", m)
	}
}

func TestKVUint(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want uint64
		ok   bool
	}{
		{float64(0), 0, true}, {float64(3), 3, true}, {float64(-1), 0, false}, {1.5, 0, false},
		{json.Number("5"), 5, true}, {json.Number("-5"), 0, false},
		{0, 0, true}, {-1, 0, false}, {int64(0), 0, true}, {int64(-1), 0, false},
		{int32(0), 0, true}, {int32(-1), 0, false}, {uint(4), 4, true}, {uint32(4), 4, true},
		{"5", 0, false}, {nil, 0, false},
	} {
		if got, ok := kvUint(tt.v); got != tt.want || ok != tt.ok {
			t.Errorf("kvUint(%T %v) = %d, %v; want %d, %v", tt.v, tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

// Queue.Check itself answers a cancelled context with Unknown (Run never
// calls it then).
func TestQueueCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := checkOps(ctx, &Queue{}, nil); r.Verdict != Unknown || r.Name != "queue" || r.Message != "not checked: context canceled" {
		t.Fatalf("%+v", r)
	}
}

func TestQueueMalformedCap(t *testing.T) {
	var h []history.Op
	for i := range 12 {
		h = append(h, history.Op{Index: int64(i), Process: i, Type: history.OK, F: history.FPublish, Value: "v"})
	}
	if s := AnalyzeQueue(h); s.Malformed != 12 || len(s.MalformedExamples) != 10 {
		t.Fatalf("malformed %d, %d listed", s.Malformed, len(s.MalformedExamples))
	}
}

// A copy read without a sequence does not erase the sequence of another
// copy. Kills `op.Seq > 0 &&` → `||` and `op.Seq > 0` → `>= 0`.
func TestQueueSeqlessDuplicate(t *testing.T) {
	h := cat(qpub(0, "0-1", history.OK), qpub(0, "0-2", history.OK), qdrain([]string{"0-1", "0-2", "0-2"}, []uint64{2, 1, 0}))
	if s := AnalyzeQueue(h); s.OrderViolations != 1 || s.Duplicated != 1 {
		t.Fatalf("%+v", s)
	}
}

// Message parts appear only when they say something.
func TestQueueMessageParts(t *testing.T) {
	r := checkOps(context.Background(), &Queue{}, cat(qpub(0, "0-1", history.OK), qdrain([]string{"0-1"}, []uint64{1})))
	if r.Verdict != Valid || strings.Contains(r.Message, "duplicated") {
		t.Errorf("%s: %s", r.Verdict, r.Message)
	}
	r = checkOps(context.Background(), &Queue{}, cat(qpub(0, "0-1", history.OK), qpub(0, "0-2", history.OK), qdrain([]string{"0-1"}, []uint64{1})))
	if r.Verdict != Invalid || !strings.Contains(r.Message, "postfix 1") || strings.Contains(r.Message, "middle:") {
		t.Errorf("%s: %s", r.Verdict, r.Message)
	}
	if got := examples([]string{"a", "b", "c", "d", "e"}, 5); got != "a, b, c, d, e" {
		t.Errorf("examples: %q", got)
	}
	if got := examples([]string{"a", "b", "c", "d", "e"}, 6); got != "a, b, c, d, e, ..." {
		t.Errorf("examples: %q", got)
	}
}

// nodeReads appends node-drains of the given nodes, each reading vals[i] at
// seqs[i] (1, 2, ... when seqs is nil).
func nodeReads(h []history.Op, node string, vals []string, seqs []uint64) []history.Op {
	h = append(h, history.Op{Process: -1, Type: history.Invoke, F: history.FNodeDrain, Node: node})
	for i, v := range vals {
		seq := uint64(i + 1)
		if seqs != nil {
			seq = seqs[i]
		}
		h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FNodeRead, Node: node, Value: v, Seq: seq})
	}
	return append(h, history.Op{Process: -1, Type: history.OK, F: history.FNodeDrain, Node: node})
}

func acked(vals ...string) []history.Op {
	var h []history.Op
	for _, v := range vals {
		h = append(h, qpub(0, v, history.OK)...)
	}
	return h
}

func seqVals(n int, format string) []string {
	var vs []string
	for i := range n {
		vs = append(vs, fmt.Sprintf(format, i))
	}
	return vs
}

func TestPerNodeCaps(t *testing.T) {
	t.Run("malformed", func(t *testing.T) {
		var h []history.Op
		for i := range 12 {
			h = append(h, history.Op{Index: int64(i), Type: history.OK, F: history.FNodeRead, Value: "v"})
		}
		if s := AnalyzePerNode(h); s.Malformed != 12 || len(s.MalformedExamples) != 10 {
			t.Fatalf("malformed %d, %d listed", s.Malformed, len(s.MalformedExamples))
		}
	})
	t.Run("unexpected", func(t *testing.T) {
		s := AnalyzePerNode(nodeReads(nil, "n1", seqVals(25, "9-%d"), nil))
		if n := s.Nodes["n1"]; n.Unexpected != 25 || len(n.UnexpectedValues) != maxNodeValues {
			t.Fatalf("%+v", n)
		}
	})
	// Six complete nodes with a value each: 30 ordered pairs disagree.
	t.Run("pairs", func(t *testing.T) {
		vals := seqVals(6, "%d-0")
		h := acked(vals...)
		for i, v := range vals {
			h = nodeReads(h, fmt.Sprintf("n%d", i), []string{v}, []uint64{uint64(i + 1)})
		}
		if s := AnalyzePerNode(h); len(s.Disagreements) != maxNodeValues || s.Nodes["n0"].MissingVsOthers != 5 {
			t.Fatalf("%d disagreements: %+v", len(s.Disagreements), s)
		}
	})
	// One pair disagrees, and 25 sequences diverge: 20 listed in all.
	t.Run("pairs and divergent", func(t *testing.T) {
		vals := seqVals(26, "0-%d")
		h := acked(append(vals, "1-0")...)
		rot := append(append([]string(nil), vals[1:]...), vals[0])
		h = nodeReads(h, "n1", append(vals, "1-0"), nil)
		h = nodeReads(h, "n2", rot, nil)
		s := AnalyzePerNode(h)
		if s.Divergent != 26 || len(s.Disagreements) != maxNodeValues || s.Disagreements[0] != "n2 lacks 1 value n1 has (first: 1-0)" {
			t.Fatalf("%d divergent, %q", s.Divergent, s.Disagreements)
		}
	})
}

// Value indices past the first 64-bit word: the first value a node lacks,
// and an unexpected value.
func TestPerNodeBeyondFirstWord(t *testing.T) {
	vals := seqVals(100, "0-%d")
	n2 := append(append([]string(nil), vals[:70]...), vals[71:]...)
	seqs := make([]uint64, 0, 99)
	for i := range 100 {
		if i != 70 {
			seqs = append(seqs, uint64(i+1))
		}
	}
	h := acked(vals...)
	h = nodeReads(h, "n1", append(vals, "9-9"), nil)
	h = nodeReads(h, "n2", n2, seqs)
	s := AnalyzePerNode(h)
	if want := []string{"n2 lacks 2 values n1 has (first: 0-70)"}; !reflect.DeepEqual(s.Disagreements, want) {
		t.Errorf("disagreements %q, want %q", s.Disagreements, want)
	}
	if n := s.Nodes["n1"]; n.Unexpected != 1 || !reflect.DeepEqual(n.UnexpectedValues, []string{"9-9"}) {
		t.Errorf("n1 %+v", n)
	}
}

// Sequences at the edge of the dense table (2 × the history's length +
// 1024) and past it are compared too, however the dense part grew.
func TestPerNodeSeqTableEdge(t *testing.T) {
	h := acked("0-0", "0-1")
	var reads [2][]history.Op
	reads[0] = nodeReads(nil, "n1", []string{"0-0", "0-1", "0-0", "0-1"}, []uint64{10, 0, 0, 0})
	reads[1] = nodeReads(nil, "n2", []string{"0-1", "0-0"}, []uint64{0, 0})
	h = append(append(h, reads[0]...), reads[1]...)
	limit := 2*uint64(len(h)) + 1024
	// n1: 0-0 @10, 0-1 @limit-1 (the dense part grows to the limit), 0-0
	// @limit, 0-1 @limit+5; n2: 0-1 @limit, 0-0 @limit+5.
	set := func(node string, seqs ...uint64) {
		i := 0
		for j := range h {
			if h[j].F == history.FNodeRead && h[j].Node == node && h[j].Seq == 0 {
				h[j].Seq = seqs[i]
				i++
			}
		}
	}
	set("n1", limit-1, limit, limit+5)
	set("n2", limit, limit+5)
	s := AnalyzePerNode(h)
	want := []string{fmt.Sprintf("seq %d: n1 read 0-0, n2 read 0-1", limit), fmt.Sprintf("seq %d: n1 read 0-1, n2 read 0-0", limit+5)}
	if s.Divergent != 2 || !reflect.DeepEqual(s.Disagreements, want) {
		t.Fatalf("%d divergent: %q, want %q", s.Divergent, s.Disagreements, want)
	}
}

// The dense table's limit grows with the ops observed: a sequence first
// read past it lives in the sparse table, and stays there once the limit
// has grown past it, so a third value read there is not counted again.
func TestPerNodeSeqTableLimitGrows(t *testing.T) {
	h := []history.Op{{Type: history.OK, F: history.FNodeRead, Node: "n1", Value: "0-0", Seq: 1100}}
	for range 40 {
		h = append(h, history.Op{Type: history.OK, F: history.FNote})
	}
	h = append(h, history.Op{Type: history.OK, F: history.FNodeRead, Node: "n2", Value: "0-1", Seq: 1100},
		history.Op{Type: history.OK, F: history.FNodeRead, Node: "n3", Value: "0-2", Seq: 1100})
	s := AnalyzePerNode(h)
	if want := []string{"seq 1100: n1 read 0-0, n2 read 0-1"}; s.Divergent != 1 || !reflect.DeepEqual(s.Disagreements, want) {
		t.Fatalf("%d divergent: %q, want %q", s.Divergent, s.Disagreements, want)
	}
}

// A far sequence read after many ops still goes to the sparse table (the
// limit counts the ops observed up).
func TestPerNodeFarSeqAfterManyOps(t *testing.T) {
	var h []history.Op
	for range 600 {
		h = append(h, history.Op{Type: history.OK, F: history.FNote})
	}
	h = append(h, history.Op{Type: history.OK, F: history.FNodeRead, Node: "n1", Value: "0-0", Seq: 1 << 62},
		history.Op{Type: history.OK, F: history.FNodeRead, Node: "n2", Value: "0-1", Seq: 1 << 62})
	s := AnalyzePerNode(h)
	if want := []string{"seq 4611686018427387904: n1 read 0-0, n2 read 0-1"}; s.Divergent != 1 || !reflect.DeepEqual(s.Disagreements, want) {
		t.Fatalf("%d divergent: %q, want %q", s.Divergent, s.Disagreements, want)
	}
}
