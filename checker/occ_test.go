package checker

import (
	"path/filepath"
	"strings"
	"testing"

	"jetstorm/history"
)

// TestOCCVerdicts runs the occ check on one golden history per anomaly
// (testdata/occ_*.jsonl), and on a valid one with a rightful rejection
// and an unknown append the drain places.
func TestOCCVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string
		stats   func(s OCCStats) bool
	}{
		{"valid", Valid, []string{"linearizable, checked in", "5 appends attempted, 3 acked, 1 rejected (wrong last sequence), 0 failed otherwise, 1 indeterminate; 2 reads; the drain holds 4 (1 of them indeterminate)"},
			func(s OCCStats) bool { return s.Linearizable == "Ok" }},
		{"lost", Invalid, []string{"1 acked appends LOST", "the drain: 5-0 acked at seq 4 (entity 1) is not stored", "1 log anomalies on n2's copy"},
			func(s OCCStats) bool { return s.Lost == 1 && s.Nodes["n3"].Anomalies == 1 }},
		{"chain_broken", Invalid, []string{"appends stored against a last sequence that was not the entity's (CHAIN BROKEN)", "entity 0: 0-1 stored at seq 3 expecting 1, but the entity's previous message is at 2", "NOT linearizable: no linearization for entity [0]"},
			func(s OCCStats) bool { return s.ChainBroken == 1 && s.Linearizable == "Illegal" }},
		{"bad_reject", Invalid, []string{"NOT linearizable: no linearization for entity [0]"},
			func(s OCCStats) bool { return s.ChainBroken == 0 && s.IllegalEntities[0] == 0 }},
		{"stale_read", Invalid, []string{"NOT linearizable: no linearization for entity [0]"},
			func(s OCCStats) bool { return s.ReadMismatch == 0 }},
		{"split", Invalid, []string{"1 entities whose logs the copies DISAGREE on", "entity 0: the drain and n3 hold different logs (3 and 2 messages)"},
			func(s OCCStats) bool { return s.Disagreements == 1 }},
		{"incomplete", Unknown, []string{"drain missing or incomplete"},
			func(s OCCStats) bool { return !s.DrainComplete }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "occ_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &OCC{})
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s: %s", r.Verdict, tt.verdict, r.Message)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message lacks %q:\n%s", m, r.Message)
				}
			}
			if s, ok := r.Details.(OCCStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}
