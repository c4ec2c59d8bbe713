package checker

import (
	"fmt"
	"strings"
	"testing"

	"jetstorm/history"
)

// batchOps builds a batch history: each item is "f type value seq [node]"
// (seq and node optional), in order.
func batchOps(t *testing.T, lines ...string) []history.Op {
	t.Helper()
	var h []history.Op
	procs := map[string]int{}
	for i, l := range lines {
		f := strings.Fields(l)
		op := history.Op{Index: int64(i), Process: -1, F: f[0], Type: history.OpType(f[1])}
		if len(f) > 2 && f[2] != "_" {
			op.Value = f[2]
		}
		if len(f) > 3 {
			fmt.Sscan(f[3], &op.Seq)
		}
		if len(f) > 4 {
			op.Node = f[4]
		}
		if op.F == history.FBatch {
			id, _, _ := history.ParseBatchName(f[2])
			if _, ok := procs[id]; !ok {
				procs[id] = len(procs)
			}
			op.Process = procs[id]
		}
		h = append(h, op)
	}
	return h
}

func atomicOf(t *testing.T, h []history.Op) (Result, AtomicStats) {
	t.Helper()
	r := RunOne(t.Context(), h, &Atomic{})
	s, _ := r.Details.(AtomicStats)
	return r, s
}

// On a cluster that never healed, an acked batch the drain lacks is lost
// only when no replica read may hold it: without per-node reads, unknown.
func TestAtomicUnhealed(t *testing.T) {
	lines := []string{
		"batch-publish invoke 0-0/2", "batch-publish ok 0-0/2 2",
		"batch-publish invoke 1-0/2", "batch-publish ok 1-0/2 4",
		"recover info",
		"drain invoke", "read ok 0-0:1/2 1", "read ok 0-0:2/2 2", "drain ok",
	}
	r, s := atomicOf(t, batchOps(t, lines...))
	if r.Verdict != Unknown || !s.Unhealed || s.Lost != 1 || s.LostProven != 0 || !strings.Contains(r.Message, "never healed") {
		t.Errorf("unhealed: %s %s %+v", r.Verdict, r.Message, s)
	}
	lines[4] = "recover ok"
	if r, s := atomicOf(t, batchOps(t, lines...)); r.Verdict != Invalid || s.Unhealed || s.Lost != 1 {
		t.Errorf("healed: %s %s", r.Verdict, r.Message)
	}
}

// The publish protocol: a batch published twice, a completion without its
// invoke or of another size, a name that is none: unknown.
func TestAtomicMalformedOps(t *testing.T) {
	for _, lines := range [][]string{
		{"batch-publish invoke 0-0/2", "batch-publish ok 0-0/2 2", "batch-publish invoke 0-0/2"},
		{"batch-publish ok 0-0/2 2"},
		{"batch-publish invoke 0-0/2", "batch-publish ok 0-0/3 2"},
		{"batch-publish invoke 0-0/2", "batch-publish ok 0-0/2 2", "batch-publish ok 0-0/2 2"},
		{"batch-publish invoke 0-0/70000"},
		{"batch-publish invoke nobatch"},
	} {
		h := batchOps(t, append(lines, "drain invoke", "drain ok")...)
		if r, s := atomicOf(t, h); r.Verdict != Unknown || s.Malformed != 1 || !strings.HasPrefix(r.Message, "malformed history (1 bad ops") {
			t.Errorf("%v: %s %s", lines, r.Verdict, r.Message)
		}
	}
}

// A reader that read a message of no published batch, or of a batch of
// another size, proves it by itself; a failed read is only counted.
func TestAtomicReaderUnexpected(t *testing.T) {
	for _, msg := range []string{"9-9:1/1", "0-0:1/3"} {
		h := batchOps(t, "batch-publish invoke 0-0/2", "batch-publish ok 0-0/2 2",
			"read-get ok "+msg+" 1 n1", "read-direct info", "read-direct info",
			"drain invoke", "read ok 0-0:1/2 1", "read ok 0-0:2/2 2", "drain ok")
		r, s := atomicOf(t, h)
		if r.Verdict != Invalid || s.Unexpected != 1 || s.Reads["direct"].Errors != 2 || s.Reads["get"].Reads != 1 ||
			!strings.Contains(r.Message, "unexpected: "+msg+" (read-get on n1, seq 1)") {
			t.Errorf("%s: %s %s %+v", msg, r.Verdict, r.Message, s.Reads)
		}
	}
}

// A drain that stopped still proves a torn batch whose every message's
// place it read past; a batch cut where it stopped proves nothing.
func TestAtomicIncompleteDrainJudgesWhatItRead(t *testing.T) {
	torn := batchOps(t, "batch-publish invoke 0-0/3", "batch-publish ok 0-0/3 3",
		"drain invoke", "read ok 0-0:1/3 1", "read ok 0-0:3/3 3", "drain info")
	if r, s := atomicOf(t, torn); r.Verdict != Invalid || s.Partial != 1 {
		t.Errorf("torn: %s %s", r.Verdict, r.Message)
	}
	cut := batchOps(t, "batch-publish invoke 0-0/3", "batch-publish ok 0-0/3 3",
		"drain invoke", "read ok 0-0:1/3 1", "read ok 0-0:2/3 2", "drain info")
	if r, s := atomicOf(t, cut); r.Verdict != Unknown || s.Partial != 0 {
		t.Errorf("cut: %s %s", r.Verdict, r.Message)
	}
}

// A batch read torn and then whole again is partial, not a duplicate; one
// read whole three times is duplicated.
func TestAtomicTornThenWhole(t *testing.T) {
	h := batchOps(t, "batch-publish invoke 0-0/3", "batch-publish ok 0-0/3 5",
		"drain invoke", "read ok 0-0:1/3 1", "read ok 0-0:2/3 2", "read ok 0-0:1/3 3", "read ok 0-0:2/3 4", "read ok 0-0:3/3 5", "drain ok")
	if r, s := atomicOf(t, h); r.Verdict != Invalid || s.Partial != 1 || s.Duplicated != 0 {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
	lines := []string{"batch-publish invoke 0-0/2", "batch-publish ok 0-0/2 2", "drain invoke"}
	for seq := 1; seq <= 6; seq += 2 {
		lines = append(lines, fmt.Sprintf("read ok 0-0:1/2 %d", seq), fmt.Sprintf("read ok 0-0:2/2 %d", seq+1))
	}
	if r, s := atomicOf(t, batchOps(t, append(lines, "drain ok")...)); r.Verdict != Invalid || s.Duplicated != 1 ||
		!strings.Contains(r.Message, "the drain holds it 3 times") {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
}

// The examples are capped: three of each anomaly, ten reads.
func TestAtomicExampleCaps(t *testing.T) {
	lines := []string{}
	for i := range 25 {
		lines = append(lines, fmt.Sprintf("batch-publish invoke %d-0/2", i), fmt.Sprintf("batch-publish ok %d-0/2 %d", i, 2*i+2),
			fmt.Sprintf("read-get ok %d-0:1/2 %d n1", i, 2*i+1), fmt.Sprintf("read-get ok 99-%d:1/1 1 n1", i))
	}
	lines = append(lines, "drain invoke")
	for i := range 25 {
		lines = append(lines, fmt.Sprintf("read ok 77-%d:1/1 %d", i, i+1))
	}
	r, s := atomicOf(t, batchOps(t, append(lines, "drain ok")...))
	if r.Verdict != Invalid || s.Lost != 25 || s.SeenThenLost != 25 || s.Unexpected != 50 || s.Reads["get"].Partial != 25 {
		t.Fatalf("%s %s", r.Verdict, r.Message)
	}
	count := map[string]int{}
	for _, a := range s.Anomalies {
		count[strings.SplitN(a, " ", 2)[0]]++
	}
	if count["lost"] != 3 || count["seen"] != 3 || count["partial"] != 10 || count["unexpected:"] != 3 {
		t.Errorf("examples %v: %q", count, s.Anomalies)
	}
}

// A cluster that never healed, with nothing lost, is still valid; a
// batch of 65,535 messages is a batch.
func TestAtomicUnhealedNothingLost(t *testing.T) {
	h := batchOps(t, "batch-publish invoke 0-0/2", "batch-publish ok 0-0/2 2", "batch-publish invoke 1-0/65535", "batch-publish fail 1-0/65535",
		"recover info", "drain invoke", "read ok 0-0:1/2 1", "read ok 0-0:2/2 2", "drain ok")
	if r, s := atomicOf(t, h); r.Verdict != Valid || s.Malformed != 0 {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
}
