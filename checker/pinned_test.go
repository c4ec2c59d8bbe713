package checker

import (
	"path/filepath"
	"testing"

	"jetstorm/history"
)

// TestPinnedVerdicts runs the pinned check on one golden history per
// anomaly (testdata/pinned_*.jsonl, written by pinned_golden.py: n1
// pinned under P1, its node killed, n2 taking over under P2 2.9 s later,
// a P1 delivery held by a link proxy arriving after P2's first; a takeover
// may take 4 s), and on the valid one they vary.
func TestPinnedVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string
		stats   func(s PinnedStats) bool
	}{
		{"valid", Valid, []string{"5 deliveries to 2 members under 2 pins; 1 pin changes, 1 takeovers timed (slowest 2900 ms, bound 4000 ms), 0 not timed (nothing shown pending); 5 confirmed acks"},
			func(s PinnedStats) bool {
				c := s.Changes
				return len(c) == 1 && c[0].From == "1000000@n1" && c[0].To == "1000001@n2" && c[0].TakeoverMs == 2900 && c[0].ConsumerSeq == 4 &&
					s.Members["1000000@n1"].Deliveries == 3 && s.Members["1000001@n2"].Pins == 1 && s.BoundMs == 4000
			}},
		{"two_pinned", Invalid, []string{"1 deliveries under a superseded or shared pin (TWO PINNED)",
			"member 1000000@n1 received consumer seq 6 under pin P1 after member 1000001@n2's pin P2 took over at consumer seq 4 (TWO PINNED)"},
			func(s PinnedStats) bool { return s.TwoPinned == 1 && s.LateTakeovers == 0 }},
		{"shared_pin", Invalid, []string{"pin P2 delivered to member 1000001@n2 (consumer seq 6) and to member 1000002@n3 (TWO PINNED)"},
			func(s PinnedStats) bool { return s.TwoPinned == 1 }},
		{"late_takeover", Invalid, []string{"1 LATE TAKEOVERS (over 4000 ms)",
			"member 1000001@n2 took over from member 1000000@n1 4.9s after messages were pending at 1.1s (pin P2, consumer seq 4), more than pinned_ttl + pull_expiry + slack = 4s (LATE TAKEOVER)"},
			func(s PinnedStats) bool {
				return s.LateTakeovers == 1 && s.TwoPinned == 0 && s.Changes[0].Late && s.TakeoverMaxMs == 4900
			}},
		{"untimed_takeover", Valid, []string{"1 pin changes, 0 takeovers timed (slowest 0 ms, bound 4000 ms), 1 not timed"},
			func(s PinnedStats) bool { return s.TakeoversUnjudged == 1 && s.Changes[0].TakeoverMs == -1 }},
		{"redelivered_after_ack", Invalid, []string{"1 deliveries after a confirmed ack (REDELIVERED AFTER ACK)",
			"stream seq 2, acked by member 1000000@n1 under pin P1 (confirmed at 1.115s, delivered consumer seq then 2), was delivered again to member 1000001@n2 under pin P2 at consumer seq 6 (REDELIVERED AFTER ACK)"},
			func(s PinnedStats) bool { return s.RedeliveredAfterAck == 1 && s.TwoPinned == 0 }},
		{"redelivered_before_ack", Valid, nil,
			func(s PinnedStats) bool { return s.RedeliveredAfterAck == 0 && s.ConfirmedAcks == 1 }},
		{"unpinned", Invalid, []string{"1 deliveries without a pin id (UNPINNED)", "member 1000001@n2 received consumer seq 6 (stream seq 6) at 4.2s without a pin id"},
			func(s PinnedStats) bool { return s.Unpinned == 1 }},
		{"malformed", Unknown, []string{"malformed history (1 bad ops; first: op"},
			func(s PinnedStats) bool { return s.Malformed == 1 }},
		{"no_deliveries", Unknown, []string{"no deliveries: nothing judged"},
			func(s PinnedStats) bool { return s.Deliveries == 0 }},
		{"overflow", Skipped, []string{"priority overflow: judged by the consumer checks (5 deliveries to 2 members)"},
			func(s PinnedStats) bool { return s.Priority == "overflow" && s.Unpinned == 0 }},
		// c0, a consumer without a priority group, comes first: c1 is judged.
		{"other_consumer", Valid, []string{"5 deliveries to 2 members under 2 pins; 1 pin changes, 1 takeovers timed (slowest 2900 ms, bound 4000 ms), 0 not timed (nothing shown pending); 5 confirmed acks"},
			func(s PinnedStats) bool { return s.Consumer == "c1" && s.Priority == "pinned" && s.Deliveries == 5 }},
		// c2, a second priority group (overflow), comes after c1: c1 is judged.
		{"second_group", Valid, []string{"5 deliveries to 2 members under 2 pins; 1 pin changes, 1 takeovers timed (slowest 2900 ms, bound 4000 ms), 0 not timed (nothing shown pending); 5 confirmed acks"},
			func(s PinnedStats) bool {
				return s.Consumer == "c1" && s.Priority == "pinned" && s.Group == "g" && s.Deliveries == 5
			}},
		{"failed_deliver", Unknown, []string{"malformed history (1 bad ops; first: op 26 (deliver fail", "): not a delivery with a consumer sequence); 5 deliveries to 2 members under 2 pins"},
			func(s PinnedStats) bool { return s.Malformed == 1 && s.Deliveries == 5 && s.TwoPinned == 0 }},
		{"failed_ack", Valid, []string{"6 deliveries to 2 members under 2 pins; 1 pin changes, 1 takeovers timed (slowest 2900 ms, bound 4000 ms), 0 not timed (nothing shown pending); 0 confirmed acks"},
			func(s PinnedStats) bool { return s.ConfirmedAcks == 0 && s.RedeliveredAfterAck == 0 }},
		{"stale_ack", Valid, []string{"6 deliveries to 2 members under 2 pins; 1 pin changes, 1 takeovers timed (slowest 2900 ms, bound 4000 ms), 0 not timed (nothing shown pending); 1 confirmed acks"},
			func(s PinnedStats) bool { return s.ConfirmedAcks == 1 && s.RedeliveredAfterAck == 0 }},
		{"held_takeover", Valid, []string{"4 deliveries to 2 members under 2 pins; 1 pin changes, 0 takeovers timed (slowest 0 ms, bound 4000 ms), 1 not timed (nothing shown pending); 4 confirmed acks"},
			func(s PinnedStats) bool {
				return s.TakeoversUnjudged == 1 && s.TakeoversJudged == 0 && len(s.Changes) == 1 && s.Changes[0].TakeoverMs == -1 && s.Changes[0].ConsumerSeq == 3
			}},
		{"publish_at_takeover", Valid, []string{"5 deliveries to 2 members under 2 pins; 1 pin changes, 1 takeovers timed (slowest 0 ms, bound 4000 ms), 0 not timed (nothing shown pending); 5 confirmed acks"},
			func(s PinnedStats) bool {
				return s.TakeoversJudged == 1 && s.TakeoversUnjudged == 0 && len(s.Changes) == 1 && s.Changes[0].TakeoverMs == 0
			}},
		{"takeover_at_bound", Valid, []string{"5 deliveries to 2 members under 2 pins; 1 pin changes, 1 takeovers timed (slowest 4000 ms, bound 4000 ms), 0 not timed (nothing shown pending); 5 confirmed acks"},
			func(s PinnedStats) bool {
				return s.LateTakeovers == 0 && len(s.Changes) == 1 && s.Changes[0].TakeoverMs == 4000 && !s.Changes[0].Late
			}},
		{"same_consumer_seq", Invalid, []string{"1 deliveries under a superseded or shared pin (TWO PINNED); first: member 1000000@n1 received consumer seq 4 under pin P1 after member 1000001@n2's pin P2 took over at consumer seq 4 (TWO PINNED)"},
			func(s PinnedStats) bool { return s.TwoPinned == 1 && s.Pins == 2 && s.Changes[0].ConsumerSeq == 4 }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "pinned_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &Pinned{})
			checkGolden(t, r, tt.verdict, tt.msg)
			if s, ok := r.Details.(PinnedStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}

// A history without a priority group (another workload's) is skipped.
func TestPinnedSkipsOthers(t *testing.T) {
	r := RunOne(t.Context(), []history.Op{{F: history.FMeta, Type: history.OK}}, &Pinned{})
	if r.Verdict != Skipped {
		t.Fatalf("%+v", r)
	}
}
