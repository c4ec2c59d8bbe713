package checker

import (
	"path/filepath"
	"strings"
	"testing"

	"jetstorm/history"
)

// TestTTLVerdicts runs the ttl check on one golden history per anomaly of
// issue 21 (testdata/ttl_*.jsonl, message 0-0 with a 5 s TTL, 1-0 with
// none, slack 2 s, markers of 3 s), and on the valid one they vary.
func TestTTLVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string
		stats   func(s TTLStats) bool
	}{
		{"valid", Valid, []string{"4 messages, 2 acked (1 without a TTL), 1 failed, 1 indeterminate; 1 expired (1 with a delete marker seen); 12 probes"},
			func(s TTLStats) bool {
				_, drain := s.Nodes["the drain"]
				return s.Messages == 4 && s.NoTTL == 1 && s.Indeterminate == 1 && s.Expired == 1 && s.Markers == 1 && s.Gets == 2 && s.Late == 0 && drain && s.Nodes["api reads"].MaxLatenessMs == 0
			}},
		{"early", Invalid, []string{"1 messages gone before their TTL (EARLY)", "n2: message 0-0 (TTL 5s, due 6s) gone by 4.015s"},
			func(s TTLStats) bool { return s.Early == 1 && s.Nodes["n2"].Early == 1 }},
		{"late", Invalid, []string{"1 messages still there past their TTL and the slack (LATE)", "n3: message 0-0 (TTL 5s, acked at 1.01s) still there 4.01s past its TTL (read at 10.02s)"},
			func(s TTLStats) bool { return s.Late == 1 && s.Nodes["n3"].Late == 1 && s.Disagreements == 0 }},
		// The same late sighting, while n3 was killed for 4 s: 2.99 s of the
		// 4.01 s are down time, and 1.02 s is within the slack.
		{"late_down", Valid, []string{"latest expiry 1020 ms past due (slack 2000 ms)"},
			func(s TTLStats) bool { return s.Late == 0 && s.Nodes["n3"].DownMs == 4000 }},
		// The same, while a partition cut n1 off: n3 was on the majority
		// side, which went on (it is not n3's down time).
		{"late_majority", Invalid, []string{"1 messages still there past their TTL and the slack (LATE)"},
			func(s TTLStats) bool { return s.Late == 1 && s.Nodes["n3"].DownMs == 0 }},
		{"never_expires", Invalid, []string{"LATE", "n3: message 0-0 (TTL 5s, acked at 1.01s) still there 6.29s past its TTL (read at 12.3s)", "1 final copies that DISAGREE with the first (split brain)", "the drain and n3 hold different messages at the end (0 only on the drain, e.g. none; 1 only on n3, e.g. 0-0 (TTL 5s))"},
			func(s TTLStats) bool { return s.Late == 1 && s.Nodes["n3"].Late == 1 && s.Disagreements == 1 }},
		{"marker_missing", Invalid, []string{"1 expired messages without their delete marker (MARKER MISSING)", "n1: message 0-0 gone by 6.505s, and no read of the node held its delete marker before it could expire"},
			func(s TTLStats) bool { return s.MarkersMissing == 1 }},
		{"marker_late", Valid, []string{"1 expired (1 with a delete marker seen)"},
			func(s TTLStats) bool { return s.MarkersMissing == 0 }},
		{"markers_off", Invalid, []string{"stored messages or markers never expected (UNEXPECTED)", "a delete marker for 0-0, with markers off"},
			func(s TTLStats) bool { return s.Unexpected == 2 && s.MarkersMissing == 0 }}, // the marker read, and the marker held
		{"lost", Invalid, []string{"1 acked messages without a TTL LOST", "n2: acked message 1-0 (no TTL) is missing at the end", "DISAGREE"},
			func(s TTLStats) bool { return s.Lost == 1 && s.Nodes["n2"].Lost == 1 }},
		// A probe whose consumer delivered nothing (a node catching up, a
		// stale claim of the end) proves no message gone: not early.
		{"probe_short", Valid, []string{"1 expired"},
			func(s TTLStats) bool { return s.Early == 0 }},
		// Gone from n2 while n2 was paused: a loss in a fault, not judged.
		{"unjudged", Valid, []string{"1 absences fell in a fault on their node and were not judged"},
			func(s TTLStats) bool { return s.Unjudged == 1 && s.Early == 0 }},
		{"failed_stored", Invalid, []string{"1 messages whose publish FAILED are stored", "n1: message 2-0 failed to publish but is stored"},
			func(s TTLStats) bool { return s.FailedStored == 1 }},
		{"foreign", Invalid, []string{"1 stored messages or markers never expected (UNEXPECTED)", `"?jetstorm.other" is no message a client published`},
			func(s TTLStats) bool { return s.Unexpected == 1 }},
		{"incomplete", Unknown, []string{"drain missing or incomplete, so lost messages cannot be judged"},
			func(s TTLStats) bool { return !s.DrainComplete }},
		// A partition into halves took no side away: n3 was not down.
		{"late_halves", Valid, []string{"latest expiry 1020 ms past due"},
			func(s TTLStats) bool { return s.Late == 0 && s.Nodes["n3"].DownMs == 4000 }},
		{"api_late", Invalid, []string{"1 messages still there past their TTL and the slack (LATE)", "read on n1: message 0-0 (TTL 5s, acked at 1.01s) still there 10.99s past its TTL"},
			func(s TTLStats) bool {
				return s.Late == 1 && s.Nodes["api reads"].Late == 1 && s.Nodes["api reads"].MaxLatenessMs == 10990
			}},
		// Exactly the slack past the TTL: not late.
		{"api_late_edge", Valid, []string{"latest expiry 2000 ms past due"},
			func(s TTLStats) bool { return s.Late == 0 }},
		// Absent through the API, the read ending exactly when it was due: not early.
		{"api_due_edge", Valid, []string{"0 expired"},
			func(s TTLStats) bool { return s.Early == 0 }},
		// A read begun the instant the ack came: judged.
		{"api_ack_edge", Invalid, []string{"1 messages gone before their TTL (EARLY)"},
			func(s TTLStats) bool { return s.Early == 1 }},
		{"api_unjudged", Valid, []string{"1 absences fell in a fault on their node and were not judged"},
			func(s TTLStats) bool { return s.Early == 0 && s.Unjudged == 1 }},
		{"api_stales", Valid, []string{"6 stale API reads"},
			func(s TTLStats) bool { return s.StaleReads == 6 && len(s.StaleExamples) == 5 }},
		{"api_lost", Invalid, []string{"acked messages without a TTL LOST", "read on n1: message 1-0 (TTL 0s, acked at 1.11s) absent at 4.505s"},
			func(s TTLStats) bool { return s.Nodes["api reads"].Lost == 1 }},
		{"no_gets", Valid, []string{"0 API reads"},
			func(s TTLStats) bool { _, api := s.Nodes["api reads"]; return !api && s.Gets == 0 }},
		{"node_incomplete", Unknown, []string{"per-node drain incomplete on n2"},
			func(s TTLStats) bool { return s.Nodes["n2"].Incomplete && !s.Nodes["n3"].Incomplete }},
		{"malformed", Unknown, []string{"malformed history (4 bad ops"},
			func(s TTLStats) bool { return s.Malformed == 4 }},
		{"probe_failed", Valid, []string{"12 probes of the nodes' copies (1 failed)"},
			func(s TTLStats) bool { return s.ProbesFailed == 1 }},
		{"drain_late", Invalid, []string{"the drain (read from n3): message 0-0 (TTL 5s, acked at 1.01s) still there"},
			func(s TTLStats) bool { return s.Nodes["the drain"].Late == 1 }},
		// The next read begins the instant the last ended, or ends the
		// instant the marker could expire: neither had to hold it.
		{"marker_edge", Valid, []string{"1 expired"},
			func(s TTLStats) bool { return s.MarkersMissing == 0 }},
		{"marker_edge2", Valid, []string{"1 expired"},
			func(s TTLStats) bool { return s.MarkersMissing == 0 }},
		// The probe reached 0-0's sequence exactly: it proves it gone.
		{"probe_covers", Invalid, []string{"1 messages gone before their TTL (EARLY)"},
			func(s TTLStats) bool { return s.Early == 1 }},
		// Held exactly the slack past its TTL: not late.
		{"late_edge", Valid, []string{"latest expiry 2000 ms past due"},
			func(s TTLStats) bool { return s.Late == 0 }},
		// A message without a TTL gone from n2: lost (at the end), not early.
		{"nottl_gone", Invalid, []string{"n2: acked message 1-0 (no TTL) is missing at the end"},
			func(s TTLStats) bool { return s.Lost == 1 && s.Early == 0 && s.Expired == 1 }},
		// Gone by a read that ended exactly when it was due: not early.
		{"gone_due_edge", Valid, []string{"1 expired"},
			func(s TTLStats) bool { return s.Early == 0 }},
		// Markers off: an early expiry, and no marker asked of it.
		{"early_markers_off", Invalid, []string{"1 messages gone before their TTL (EARLY)"},
			func(s TTLStats) bool { return s.Early == 1 && s.MarkersMissing == 0 }},
		{"foreign4", Invalid, []string{"4 stored messages or markers never expected (UNEXPECTED)"},
			func(s TTLStats) bool {
				n := 0
				for _, a := range s.Anomalies {
					if strings.Contains(a, "is no message a client published") {
						n++
					}
				}
				return s.Unexpected == 4 && n == 3 // 3 examples
			}},
		{"two_ttls", Valid, []string{"5 messages, 3 acked (1 without a TTL)"},
			func(s TTLStats) bool { return s.NoTTL == 1 }},
		// Read 11 s past its TTL, 9 s of them while a node was down: within the slack.
		{"api_late_fault", Valid, []string{"latest expiry 1990 ms past due"},
			func(s TTLStats) bool { return s.Late == 0 }},
		// As late_majority, the sides listed largest first, after another fault.
		{"late_majority2", Invalid, []string{"1 messages still there past their TTL and the slack (LATE)"},
			func(s TTLStats) bool { return s.Late == 1 && s.Nodes["n3"].DownMs == 0 && s.Nodes["n1"].DownMs == 4500 }},
		{"late_overlap", Invalid, []string{"1 messages still there past their TTL and the slack (LATE)"},
			func(s TTLStats) bool { return s.Late == 1 && s.Nodes["n3"].DownMs == 0 && s.Nodes["n2"].DownMs == 7500 }},
		{"late_all", Invalid, []string{"messages still there past their TTL and the slack (LATE)", "1 expired (0 with a delete marker seen)"},
			func(s TTLStats) bool { return s.Expired == 1 && s.Nodes["n1"].Late == 1 }},
		{"api_early", Invalid, []string{"1 messages gone before their TTL (EARLY)", "read on n1: message 0-0 (TTL 5s, acked at 1.01s) absent at 4.505s, before it was due"},
			func(s TTLStats) bool { return s.Early == 1 && s.Nodes["api reads"].Early == 1 }},
		{"api_stale", Valid, []string{"1 stale API reads (allowed: absent, then held by a later read; first: read on n1: message 0-0 (acked at 1.01s) absent at 3.005s, held by a read at 4.02s)"},
			func(s TTLStats) bool { return s.Early == 0 && s.StaleReads == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "ttl_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &TTL{})
			checkGolden(t, r, tt.verdict, tt.msg)
			if s, ok := r.Details.(TTLStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}

// TestScheduleVerdicts runs the schedule check on one golden history per
// anomaly of issue 21 (testdata/schedule_*.jsonl: @at 0-0 due at 5 s,
// 1-0 at 6 s, 3-0 failed; 2-0 every 2 s from 3.21 s; slack 2 s,
// tolerance 500 ms), and on the valid one they vary.
func TestScheduleVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string
		stats   func(s ScheduleStats) bool
	}{
		{"valid", Valid, []string{"4 @at schedules and 1 @every, 3 acked, 1 failed, 1 indeterminate; 2 @at fired (0 pending), 11 firings in all; @at firings due outside faults at most 2 ms late", "8 @every gaps judged, 0 touching a fault"},
			func(s ScheduleStats) bool {
				return s.Schedules == 4 && s.Repeating == 1 && s.Indeterminate == 1 && s.Fired == 2 && s.GapsJudged == 8 && s.Unexpected == 0 && s.MaxDelayMs == 2
			}},
		{"edges", Valid, []string{"at most 500 ms late"},
			func(s ScheduleStats) bool { return s.Early == 0 && s.Late == 0 && s.Duplicated == 0 && s.Missed == 0 }},
		{"slack_edge", Invalid, []string{"2 firings MISSED", "n1: 1-0 (due 6s, acked at 1.11s) never fired (read at 8.1s)"},
			func(s ScheduleStats) bool { return s.Missed == 2 && s.Pending == 1 }},
		{"missed_fault", Valid, []string{"1 @at fired (1 pending)"},
			func(s ScheduleStats) bool { return s.Missed == 0 && s.Pending == 1 }},
		{"every_fault_edge", Valid, []string{"4 @every gaps judged, 3 touching a fault not judged"},
			func(s ScheduleStats) bool { return s.Missed == 0 && s.GapsSkipped == 3 }},
		{"malformed", Unknown, []string{"malformed history (3 bad ops; first: op 12 (schedule-add ok 7-0 at 5000000000): completion without its invoke)"},
			func(s ScheduleStats) bool { return s.Malformed == 3 }},
		{"many_missed", Invalid, []string{"30 firings MISSED"},
			func(s ScheduleStats) bool { return s.Missed == 30 && len(s.Anomalies) == 20 }},
		{"missed", Invalid, []string{"3 firings MISSED", "the drain: 1-0 (due 6s, acked at 1.11s) never fired (read at 20s)"},
			func(s ScheduleStats) bool { return s.Missed == 3 }}, // on each of the 3 copies
		{"duplicated", Invalid, []string{"3 firings DUPLICATED", "the drain: 0-0 (due 5s) fired 2 times"},
			func(s ScheduleStats) bool { return s.Duplicated == 3 }},
		{"early", Invalid, []string{"3 firings before their time (EARLY)", "0-0 fired at 4s, 1s before its time"},
			func(s ScheduleStats) bool { return s.Early == 3 }},
		{"late", Invalid, []string{"3 firings past their time outside any fault (LATE)", "0-0 fired at 6.5s, 1.5s after its time, outside any fault"},
			func(s ScheduleStats) bool { return s.Late == 3 && s.MaxDelayMs == 1500 }},
		{"late_fault", Valid, []string{"(1500 ms for those due near one"},
			func(s ScheduleStats) bool { return s.Late == 0 && s.MaxDelayFaultsMs == 1500 }},
		{"every_missed", Invalid, []string{"3 firings MISSED", "the drain: 2-0 (every 2s) did not fire for 4s after 9.21s (1 firings missed)"},
			func(s ScheduleStats) bool { return s.Missed == 3 }},
		// An @every schedule that never fires: missed from its ack on.
		{"every_never", Invalid, []string{"24 firings MISSED", "the drain: 2-0 (every 2s) did not fire for 18.79s after its ack at 1.21s (8 firings missed)"},
			func(s ScheduleStats) bool { return s.Missed == 24 && s.Firings == 2 }},
		// The same gap, across a kill: the server skips ahead by design.
		{"every_fault", Valid, []string{"5 @every gaps judged, 2 touching a fault not judged"},
			func(s ScheduleStats) bool { return s.Missed == 0 && s.GapsSkipped == 2 }},
		// Read before 1-0 was due plus the slack: pending, not missed.
		{"pending", Valid, []string{"1 @at fired (1 pending)"},
			func(s ScheduleStats) bool { return s.Pending == 1 && s.Missed == 0 }},
		{"incomplete", Unknown, []string{"per-node drain incomplete on n2"},
			func(s ScheduleStats) bool { return len(s.Incomplete) == 1 }},
		{"foreign", Invalid, []string{"stored messages that are no firing of a published schedule (UNEXPECTED)", `"9-9@6002000000" is no firing`},
			func(s ScheduleStats) bool { return s.Unexpected == 3 }},
		{"split", Invalid, []string{"1 copies that DISAGREE with the first on the firings (split brain)", "the drain and n2 differ on the firings of 1-0 (1 vs 0)"},
			func(s ScheduleStats) bool { return s.Disagreements == 1 && s.Missed == 1 }},
		{"foreign4", Invalid, []string{"12 stored messages that are no firing of a published schedule"},
			func(s ScheduleStats) bool {
				n := 0
				for _, a := range s.Anomalies {
					if strings.Contains(a, "is no firing") {
						n++
					}
				}
				return s.Unexpected == 12 && n == 9 // 3 examples a copy
			}},
		{"every_dup", Invalid, []string{"3 firings DUPLICATED", "the drain: 2-0 (every 2s) fired at 3.21s and again at 4.21s"},
			func(s ScheduleStats) bool { return s.Duplicated == 3 }},
		// From the last firing to the drain's read: exactly the interval
		// plus the slack, not missed; the node reads came later: missed.
		{"every_edge_slack", Invalid, []string{"2 firings MISSED"},
			func(s ScheduleStats) bool { return s.Missed == 2 }},
		// A 6 s gap: two firings missed, on each copy.
		{"every_missed2", Invalid, []string{"6 firings MISSED", "(2 firings missed)"},
			func(s ScheduleStats) bool { return s.Missed == 6 }},
		{"split_late", Invalid, []string{"the drain and n2 differ on the firings of 0-0 (1 vs 1)"},
			func(s ScheduleStats) bool { return s.Disagreements == 1 && s.MaxDelayMs == 2 }},
		{"failed_fired", Invalid, []string{"3 schedules whose publish FAILED fired", "3-0 failed to publish but fired at 5.001s"},
			func(s ScheduleStats) bool { return s.FailedFired == 3 }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "schedule_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &Schedule{})
			checkGolden(t, r, tt.verdict, tt.msg)
			if s, ok := r.Details.(ScheduleStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}

// checkGolden compares a result's verdict and message.
func checkGolden(t *testing.T, r Result, verdict Verdict, msg []string) {
	t.Helper()
	if r.Verdict != verdict {
		t.Errorf("verdict %s, want %s: %s", r.Verdict, verdict, r.Message)
	}
	for _, m := range msg {
		if !strings.Contains(r.Message, m) {
			t.Errorf("message lacks %q:\n%s", m, r.Message)
		}
	}
}

// A valid ttl verdict says what it judged and nothing about absences it
// did not meet.
func TestTTLValidMessageEnds(t *testing.T) {
	h, err := history.ReadFile(filepath.Join("testdata", "ttl_valid.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if r := RunOne(t.Context(), h, &TTL{}); !strings.HasSuffix(r.Message, "(slack 2000 ms)") {
		t.Errorf("message: %s", r.Message)
	}
}
