package checker

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func occOf(t *testing.T, lines ...string) (Result, OCCStats) {
	t.Helper()
	r := RunOne(t.Context(), opsOf(t, lines...), &OCC{})
	s, _ := r.Details.(OCCStats)
	return r, s
}

const wrongSeq = "nats: API error: code=400 err_code=10071 description=wrong last sequence: 1"

// occLog1: one acked append, its drain.
var occLog1 = []string{
	"occ-append|invoke|0 0-0 0|||0", "occ-append|ok|0 0-0 0|1||0",
	"drain|invoke", "read|ok|0 0-0 0|1", "drain|ok",
}

// An unknown append that a read observed must be placed before that
// read's return: a later read of the old state is not linearizable, though
// a later observer (an append expecting it) would allow it.
func TestOCCUnknownAppendBoundByFirstObserver(t *testing.T) {
	r, s := occOf(t,
		"occ-append|invoke|0 0-0 0|||0", "occ-append|ok|0 0-0 0|1||0",
		"occ-append|invoke|0 1-0 1|||1", // unknown, stored at 2
		"occ-read|invoke|0|||2", "occ-read|ok|0 1-0|2||2",
		"occ-read|invoke|0|||3", "occ-read|ok|0 0-0|1||3", // stale after the observer returned
		"occ-append|invoke|0 2-0 2|||2", "occ-append|ok|0 2-0 2|3||2",
		"occ-append|info|0 1-0 1|||1",
		"drain|invoke", "read|ok|0 0-0 0|1", "read|ok|0 1-0 1|2", "read|ok|0 2-0 2|3", "drain|ok")
	if r.Verdict != Invalid || s.Linearizable != "Illegal" {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
}

// Reads: of an empty entity (nothing to match), and of a message the log
// does not hold at that sequence.
func TestOCCReads(t *testing.T) {
	ok := append([]string{"occ-read|invoke|0|||5", "occ-read|ok|0 -|||5"}, occLog1...)
	if r, s := occOf(t, ok...); r.Verdict != Valid || s.Reads != 1 || s.ReadMismatch != 0 {
		t.Errorf("empty read: %s %s", r.Verdict, r.Message)
	}
	for _, read := range []string{"0 0-0|9", "0 9-9|1"} {
		h := append(append([]string{}, occLog1[:2]...), "occ-read|invoke|0|||5", "occ-read|ok|"+read+"||5")
		h = append(h, occLog1[2:]...)
		if r, s := occOf(t, h...); r.Verdict != Invalid || s.ReadMismatch != 1 {
			t.Errorf("%s: %s %s", read, r.Verdict, r.Message)
		}
	}
}

// Other definite failures say nothing about the state; unexpected stored
// messages (never appended, to another entity, not an append at all).
func TestOCCFailuresAndUnexpected(t *testing.T) {
	h := append([]string{"occ-append|invoke|0 5-0 7|||5", "occ-append|fail|0 5-0 7|||5|nats: no responders available for request"}, occLog1...)
	if r, s := occOf(t, h...); r.Verdict != Valid || s.Failed != 1 || s.Rejected != 0 || s.Appends != 2 {
		t.Errorf("failed: %s %s", r.Verdict, r.Message)
	}
	for _, stored := range []string{"0 9-9 1", "1 0-0 0", "? x", "0"} {
		h := append(append([]string{}, occLog1[:4]...), "read|ok|"+stored+"|2", "drain|ok")
		if r, s := occOf(t, h...); r.Verdict != Invalid || s.Unexpected == 0 {
			t.Errorf("%s: %s %s", stored, r.Verdict, r.Message)
		}
	}
}

// Stored twice, stored though failed, stored elsewhere than acked, and
// an append stored 300 times.
func TestOCCLogAnomalies(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		ok    func(OCCStats) bool
	}{
		{[]string{"occ-append|invoke|0 0-0 0|||0", "occ-append|ok|0 0-0 0|1||0", "drain|invoke", "read|ok|0 0-0 0|1", "read|ok|0 0-0 1|2", "drain|ok"},
			func(s OCCStats) bool { return s.Duplicated == 1 }},
		{[]string{"occ-append|invoke|0 0-0 0|||0", "occ-append|fail|0 0-0 0|||0|" + wrongSeq, "drain|invoke", "read|ok|0 0-0 0|1", "drain|ok"},
			func(s OCCStats) bool { return s.FailedStored == 1 && s.Rejected == 1 }},
		{[]string{"occ-append|invoke|0 0-0 0|||0", "occ-append|ok|0 0-0 0|2||0", "drain|invoke", "read|ok|0 0-0 0|1", "drain|ok"},
			func(s OCCStats) bool { return s.Misplaced == 1 }},
	} {
		if r, s := occOf(t, tc.lines...); r.Verdict != Invalid || !tc.ok(s) {
			t.Errorf("%v: %s %s", tc.lines, r.Verdict, r.Message)
		}
	}
	lines := []string{"occ-append|invoke|0 0-0 0|||0", "occ-append|info|0 0-0 0|||0", "drain|invoke"}
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("read|ok|0 0-0 %d|%d", i, i+1))
	}
	if r, s := occOf(t, append(lines, "drain|ok")...); r.Verdict != Invalid || s.Duplicated != 1 || !strings.Contains(r.Message, "0-0 stored 255 times") {
		t.Errorf("300 times: %s %s", r.Verdict, r.Message)
	}
}

// The replicas: a complete copy with a log anomaly counts on its node;
// one whose read stopped leaves the verdict unknown.
func TestOCCNodes(t *testing.T) {
	h := append(append([]string{}, occLog1...), "node-drain|invoke|||n1", "node-read|ok|0 0-0 0|1|n1", "node-read|ok|0 0-0 0|2|n1", "node-drain|ok|||n1")
	if r, s := occOf(t, h...); r.Verdict != Invalid || s.Nodes["n1"].Anomalies != 2 || s.Duplicated != 0 {
		t.Errorf("node anomalies: %s %s %+v", r.Verdict, r.Message, s.Nodes)
	}
	h = append(append([]string{}, occLog1...), "node-drain|invoke|||n1", "node-drain|info|||n1")
	if r, _ := occOf(t, h...); r.Verdict != Unknown || !strings.Contains(r.Message, "per-node drain incomplete on n1") {
		t.Errorf("incomplete node: %s %s", r.Verdict, r.Message)
	}
}

// Nothing acked proves nothing; neither does a search that ran out of time
// or a context already done.
func TestOCCUnknowns(t *testing.T) {
	if r, _ := occOf(t, "occ-append|invoke|0 0-0 0|||0", "occ-append|info|0 0-0 0|||0", "drain|invoke", "drain|ok"); r.Verdict != Unknown || !strings.Contains(r.Message, "no append was acked") {
		t.Errorf("nothing acked: %s %s", r.Verdict, r.Message)
	}
	var lines []string
	for p := range 40 { // 40 concurrent appends to one entity: porcupine needs more than a nanosecond
		lines = append(lines, fmt.Sprintf("occ-append|invoke|0 %d-0 0|||%d", p, p))
	}
	for p := range 40 {
		lines = append(lines, fmt.Sprintf("occ-append|fail|0 %d-0 0|||%d|%s", p, p, wrongSeq))
	}
	h := opsOf(t, append(lines, "drain|invoke", "drain|ok")...)
	// The history is not linearizable (nothing appended, yet every append
	// was told the last sequence is 1). A search the 1 ns limit cuts short
	// is unknown; one that wins the race with the timer (it happens) finds
	// the truth, invalid. Never anything else, and the timeout must show.
	timedOut := false
	for range 50 {
		c := &OCC{Timeout: time.Nanosecond}
		for _, op := range h {
			c.Observe(op)
		}
		r := c.Result(t.Context())
		switch {
		case r.Verdict == Unknown && strings.Contains(r.Message, "timed out"):
			timedOut = true
		case r.Verdict == Invalid:
		default:
			t.Fatalf("timeout: %s %s", r.Verdict, r.Message)
		}
		if timedOut {
			break
		}
	}
	if !timedOut {
		t.Error("timeout: 50 searches limited to 1 ns all finished: the unknown verdict was never reached")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if r := (&OCC{}).Result(ctx); r.Verdict != Unknown || !strings.Contains(r.Message, "not checked") {
		t.Errorf("done: %s %s", r.Verdict, r.Message)
	}
}

// Ops that break the protocol make the check unknown.
func TestOCCMalformedOps(t *testing.T) {
	for _, lines := range [][]string{
		{"occ-append|ok|0 0-0 0|1||0"},
		{"occ-append|invoke|0 0-0 0|||0", "occ-append|invoke|0 0-1 0|||0"},
		{"occ-append|invoke|0 0-0 0|||0", "occ-read|ok|0 0-0|1||0"},
		{"occ-append|invoke|0 0-0 0|||0", "occ-append|ok|1 0-0 0|1||0"},
		{"occ-append|invoke|0 0-0 0|||0", "occ-append|ok|0 0-0 0|1||0", "occ-append|invoke|0 0-0 0|||1"},
		{"occ-read|invoke|x|||0"},
	} {
		if r, s := occOf(t, append(lines, "drain|invoke", "drain|ok")...); r.Verdict != Unknown || s.Malformed != 1 {
			t.Errorf("%v: %s %s", lines, r.Verdict, r.Message)
		}
	}
}

// A failure that is no wrong-last-sequence answer is no rejection: as one,
// this append (expecting 0 while the entity is empty) would be illegal.
func TestOCCOtherFailureIsNoRejection(t *testing.T) {
	h := append([]string{"occ-append|invoke|0 5-0 0|||5", "occ-append|fail|0 5-0 0|||5|nats: no responders available for request"}, occLog1...)
	if r, s := occOf(t, h...); r.Verdict != Valid || s.Failed != 1 {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
}

// A node's anomaly total is the sum of every kind of anomaly on its copy:
// here one of each, on n1 only (the drain is incomplete: nodes are judged
// all the same).
func TestOCCNodeAnomalyTotal(t *testing.T) {
	fail := "nats: API error: code=503 err_code=10077 description=stream store failed"
	_, s := occOf(t,
		"occ-append|invoke|0 0-0 0|||0", "occ-append|ok|0 0-0 0|1||0", // lost on n1
		"occ-append|invoke|1 1-0 0|||1", "occ-append|ok|1 1-0 0|2||1", // misplaced on n1
		"occ-append|invoke|2 2-0 0|||2", "occ-append|fail|2 2-0 0|||2|"+fail, // failed, stored on n1
		"occ-append|invoke|3 3-0 0|||3", "occ-append|ok|3 3-0 0|5||3", // twice on n1: duplicated, chain broken
		"occ-read|invoke|0|||4", "occ-read|ok|0 0-0|1||4", // n1 holds nothing at seq 1: a mismatch
		"node-drain|invoke|||n1",
		"node-read|ok|1 1-0 0|3|n1",
		"node-read|ok|2 2-0 0|4|n1",
		"node-read|ok|3 3-0 0|5|n1", "node-read|ok|3 3-0 0|6|n1",
		"node-read|ok|4 9-9 0|7|n1", // never appended: unexpected
		"node-drain|ok|||n1")
	if n := s.Nodes["n1"]; !n.Complete || n.Anomalies != 7 {
		t.Errorf("n1: %+v, want 7 anomalies (one of each kind); %v", n, s.Anomalies)
	}
}
