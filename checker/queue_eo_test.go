package checker

import (
	"strings"
	"testing"
	"time"
)

// Exactly-once: the publishes' span runs from the earliest invoke (an
// invoke's time is its intended start, which can come before an earlier
// line's) to the latest completion, and a duplicate is inside the window
// only when that span is shorter than it.
func TestQueueExactlyOnceSpan(t *testing.T) {
	for _, tc := range []struct {
		windowMs float64
		times    [4]int64 // the publish ops' times, ms: invoke, ok, invoke, ok
		inside   bool
	}{
		{26, [4]int64{10, 20, 5, 30}, true},   // span 5..30 ms = 25 ms < 26 ms
		{26, [4]int64{10, 20, 4, 30}, false},  // the second invoke, intended at 4 ms: span 26 ms
		{21, [4]int64{10, 20, 20, 31}, false}, // span 10..31 ms = 21 ms: not inside a 21 ms window
		{22, [4]int64{10, 20, 20, 31}, true},  // the same in a 22 ms window
	} {
		h := opsOf(t, "dedup|ok",
			"publish|invoke|0-1|||0", "publish|ok|0-1|1||0",
			"publish|invoke|1-1|||1", "publish|ok|1-1|2||1",
			"drain|invoke", "read|ok|0-1|1", "read|ok|1-1|2", "read|ok|1-1|3", "drain|ok")
		h[0].Value = map[string]any{"window_ms": tc.windowMs, "retry_for_ms": 1000.0}
		for i, ms := range tc.times {
			h[i+1].Time = msDur(ms)
		}
		r := RunOne(t.Context(), h, &Queue{})
		s := r.Details.(QueueStats)
		if (s.DuplicatedInWindow == 1) != tc.inside || (s.DuplicatedOutsideWindow == 1) == tc.inside {
			t.Errorf("%v in %v ms: %s %s", tc.times, tc.windowMs, r.Verdict, r.Message)
		}
		if tc.inside == strings.Contains(r.Message, "possibly outside") {
			t.Errorf("%v in %v ms: message %s", tc.times, tc.windowMs, r.Message)
		}
	}
}

// A dedup op that names no window is malformed, and named at its place
// in the history: first, before a bad op right after it.
func TestQueueDedupMalformed(t *testing.T) {
	for _, v := range []any{map[string]any{"window_ms": 0.0}, "window"} {
		h := opsOf(t, "dedup|ok", "publish|ok|9-9|1||9", "publish|invoke|0-1|||0", "publish|ok|0-1|1||0", "drain|invoke", "read|ok|0-1|1", "drain|ok")
		h[0].Value = v
		r := RunOne(t.Context(), h, &Queue{})
		if r.Verdict != Unknown || !strings.Contains(r.Message, "2 bad ops; first: op 0: dedup") {
			t.Errorf("%v: %s %s", v, r.Verdict, r.Message)
		}
	}
}

func msDur(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
