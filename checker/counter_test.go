package checker

import (
	"path/filepath"
	"strings"
	"testing"

	"jetstorm/history"
)

// TestCounterVerdicts runs the counter check on one golden history per
// anomaly of issue 16 (testdata/counter_*.jsonl), and on a valid one
// whose counter 0 is explained by its acked increments plus one of its
// two unknown ones.
func TestCounterVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string
		stats   func(s CounterStats) bool
	}{
		{"valid", Valid, []string{"6 increments attempted, 3 acked, 1 failed, 2 indeterminate; 4 applied (1 of them indeterminate); final values c0=14 c1=-3"},
			func(s CounterStats) bool {
				return s.Values["0"].AckedSum == 7 && s.Values["0"].Final == 14 && s.Nodes["n2"].Applied == 4 && s.Nodes["n2"].Complete
			}},
		{"off_by_one", Invalid, []string{"1 acked increments LOST", "the drain: acked increment 0-1 (+2 to counter 0, ack seq 4, total 14) is not applied"},
			func(s CounterStats) bool { return s.Lost == 1 && s.Nodes["n1"].Lost == 1 }},
		{"double", Invalid, []string{"1 increments applied more than once (DUPLICATED)", "increment 0-0 (+5 to counter 0) applied 2 times"},
			func(s CounterStats) bool { return s.Duplicated == 1 && s.ChainBreaks == 0 }},
		{"chain_break", Invalid, []string{"1 totals that are not the previous total plus the increment", "counter 0 at seq 3: total 13 is not 5 + 7"},
			func(s CounterStats) bool { return s.ChainBreaks == 1 }},
		{"failed_applied", Invalid, []string{"1 increments whose publish FAILED are applied", "increment 1-1 (+10 to counter 1) failed but is applied at seq 5"},
			func(s CounterStats) bool { return s.FailedApplied == 1 }},
		{"ack_mismatch", Invalid, []string{"1 acked increments stored away from their ack's sequence or total", "increment 0-1 acked at seq 4 with total 15, stored at seq 4 with total 14"},
			func(s CounterStats) bool { return s.AckMismatch == 1 }},
		{"final_mismatch", Invalid, []string{"1 counters whose final value is not their chain's last total", "counter 0: final value 13"},
			func(s CounterStats) bool { return s.FinalMismatch == 1 }},
		{"split", Invalid, []string{"1 counters whose chains the copies DISAGREE on", "counter 0: the drain and n3 differ from link 2 of its chain on (seq 3 2-0 +7 = 12 vs seq 4 0-1 +2 = 7)"},
			func(s CounterStats) bool { return s.Disagreements == 1 && s.Nodes["n3"].ChainBreaks == 0 }},
		{"unexpected", Invalid, []string{"1 stored increments never published as stored (UNEXPECTED)", "increment 9-9 (+1) was never published"},
			func(s CounterStats) bool { return s.Unexpected == 1 }},
		{"incomplete", Unknown, []string{"drain missing or incomplete"},
			func(s CounterStats) bool { return !s.DrainComplete && s.Lost == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "counter_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &Counter{})
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s: %s", r.Verdict, tt.verdict, r.Message)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message lacks %q:\n%s", m, r.Message)
				}
			}
			if s, ok := r.Details.(CounterStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}
