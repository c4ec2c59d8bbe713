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
	mk := func(window string) []string {
		return []string{
			`dedup|ok|` + window,
			"publish|invoke|0-1|||0", "publish|ok|0-1|1||0",
			"publish|invoke|1-1|||1", "publish|ok|1-1|2||1",
			"drain|invoke", "read|ok|0-1|1", "read|ok|1-1|2", "read|ok|1-1|3", "drain|ok",
		}
	}
	for _, tc := range []struct {
		window string
		times  []int64 // the ops' times, ms
		inside bool
	}{
		{"", []int64{0, 10, 20, 5, 30}, true},   // span 5..30 ms = 25 ms < 26 ms
		{"", []int64{0, 10, 20, 4, 30}, false},  // the second invoke, intended at 4 ms: span 26 ms
		{"", []int64{0, 10, 20, 20, 31}, false}, // span 10..31 ms = 21 ms... window below
	} {
		h := opsOf(t, mk("")...)
		h[0].Value = map[string]any{"window_ms": 26.0, "retry_for_ms": 1000.0}
		if tc.times[4] == 31 {
			h[0].Value = map[string]any{"window_ms": 21.0, "retry_for_ms": 1000.0}
		}
		for i, ms := range tc.times {
			h[i].Time = 0
			if i > 0 {
				h[i].Time = msDur(ms)
			}
		}
		h[1].Time, h[2].Time, h[3].Time, h[4].Time = msDur(tc.times[1]), msDur(tc.times[2]), msDur(tc.times[3]), msDur(tc.times[4])
		r := RunOne(t.Context(), h, &Queue{})
		s := r.Details.(QueueStats)
		if (s.DuplicatedInWindow == 1) != tc.inside || (s.DuplicatedOutsideWindow == 1) == tc.inside {
			t.Errorf("%v: %s %s", tc.times, r.Verdict, r.Message)
		}
		if tc.inside == strings.Contains(r.Message, "possibly outside") {
			t.Errorf("%v: message %s", tc.times, r.Message)
		}
	}
}

// A dedup op that names no window is malformed.
func TestQueueDedupMalformed(t *testing.T) {
	for _, v := range []any{map[string]any{"window_ms": 0.0}, "window"} {
		h := opsOf(t, "dedup|ok", "publish|invoke|0-1|||0", "publish|ok|0-1|1||0", "drain|invoke", "read|ok|0-1|1", "drain|ok")
		h[0].Value = v
		r := RunOne(t.Context(), h, &Queue{})
		if r.Verdict != Unknown || !strings.Contains(r.Message, "op 0: dedup") {
			t.Errorf("%v: %s %s", v, r.Verdict, r.Message)
		}
	}
}

func msDur(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
