package checker

import (
	"path/filepath"
	"testing"

	"jetstorm/history"
)

// TestMirrorVerdicts runs the mirror check on one golden history per
// anomaly of issue 23 (testdata/mirror_*.jsonl, written by
// mirror_golden.py: values to jetstorm (counter even) and jetstorm_b (odd),
// 2-0 failed, 2-1 unknown and stored; a partition healed at 6 s; lag
// samples; converge_after 5 s), and on the valid one they vary.
func TestMirrorVerdicts(t *testing.T) {
	m, src := "jetstorm_mirror", "jetstorm_sourced"
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string
		stats   func(s MirrorStats) bool
	}{
		{"valid", Valid, []string{"6 publishes (4 acked, 1 failed, 1 indeterminate) to jetstorm and jetstorm_b; jetstorm_mirror holds 2, jetstorm_sourced holds 5; 6 lag samples, largest lag 2 (mirror) and 3 (sourced)"},
			func(s MirrorStats) bool {
				return s.CaughtUpAfterMs[m] == 1000 && s.CaughtUpAfterMs[src] == 500 && len(s.Wedged) == 0 && s.Messages["jetstorm_b"] == 3 && s.Published == 6
			}},
		{"gap", Invalid, []string{"1 messages of an origin MISSING from a copy (gap)", "jetstorm_mirror lacks 1-0 (sequence 2 of jetstorm): a GAP"},
			func(s MirrorStats) bool { return s.Missing[m] == 1 && s.Missing[src] == 0 }},
		{"duplicate", Invalid, []string{"1 messages stored twice (DUPLICATE)", "jetstorm_mirror holds 1-0 twice", "1 copied messages no origin holds"},
			func(s MirrorStats) bool { return s.Duplicates[m] == 1 && s.Extra[m] == 1 }},
		{"mismatch", Invalid, []string{"1 mirror sequences holding another message than the origin's", "jetstorm_mirror holds 0-1 at sequence 2, where jetstorm holds 1-0"},
			func(s MirrorStats) bool { return s.Mismatched == 1 }},
		{"shifted", Invalid, []string{"jetstorm_mirror lacks 1-0 (sequence 2 of jetstorm): a GAP", "jetstorm_mirror holds 1-0 at sequence 3, which jetstorm lacks"},
			func(s MirrorStats) bool { return s.Missing[m] == 1 && s.Extra[m] == 1 }},
		{"sourced_gap", Invalid, []string{"jetstorm_sourced lacks 1-1 of jetstorm_b: a GAP"},
			func(s MirrorStats) bool { return s.Missing[src] == 1 && s.Missing[m] == 0 }},
		{"sourced_duplicate", Invalid, []string{"jetstorm_sourced holds 0-1 of jetstorm_b twice"},
			func(s MirrorStats) bool { return s.Duplicates[src] == 1 && s.OutOfOrder == 0 }},
		{"sourced_order", Invalid, []string{"1 sourced messages OUT OF ORDER", "jetstorm_sourced holds 0-0 of jetstorm after a message jetstorm stored later"},
			func(s MirrorStats) bool { return s.OutOfOrder == 1 && s.Missing[src] == 0 }},
		{"sourced_extra", Invalid, []string{"jetstorm_sourced holds 7-7, which no origin holds"},
			func(s MirrorStats) bool { return s.Extra[src] == 1 }},
		{"wedge", Invalid, []string{"1 copies WEDGED (lag not back to 0 within converge_after)", "jetstorm_mirror still lagging 6s after the last heal or publish (WEDGED)"},
			func(s MirrorStats) bool {
				return len(s.Wedged) == 1 && s.Wedged[0] == m && s.CaughtUpAfterMs[src] == 500
			}},
		{"late", Invalid, []string{"jetstorm_mirror was back to lag 0 only 5.5s after the last heal or publish (WEDGED past 5s)"},
			func(s MirrorStats) bool { return len(s.Wedged) == 1 && s.CaughtUpAfterMs[m] == 5500 }},
		{"lag_unjudged", Unknown, []string{"lag samples stopped before converge_after for jetstorm_mirror"},
			func(s MirrorStats) bool { return len(s.Unjudged) == 1 && s.SamplesFailed == 1 }},
		{"lost", Invalid, []string{"1 acked publishes LOST from their origin", "jetstorm lacks 1-0, whose publish was acked (LOST)"},
			func(s MirrorStats) bool { return s.Lost == 1 && s.Missing[m] == 0 }},
		{"failed_stored", Invalid, []string{"1 failed publishes stored", "jetstorm holds 2-0, whose publish failed"},
			func(s MirrorStats) bool { return s.FailedStored == 1 }},
		{"wrong_origin", Invalid, []string{"jetstorm_b holds 1-0, which no publish to it wrote"},
			func(s MirrorStats) bool { return s.Unexpected == 1 }},
		{"incomplete", Unknown, []string{"streams not read whole at the end (jetstorm_sourced)"},
			func(s MirrorStats) bool { return len(s.Incomplete) == 1 }},
		{"unhealed", Unknown, []string{"the cluster did not recover"},
			func(s MirrorStats) bool { return s.Unhealed && s.Missing[m] == 1 }},
		{"malformed", Unknown, []string{"malformed history (8 bad ops; first: op"},
			func(s MirrorStats) bool { return s.Malformed == 8 }},
		{"bad_rules", Unknown, []string{"malformed history (13 bad ops; first: op"},
			func(s MirrorStats) bool { return s.Malformed == 13 }},
		{"no_rules", Unknown, []string{"no mirror-rules op: the streams are not known"},
			func(s MirrorStats) bool { return len(s.Origins) == 0 }},
		{"none_acked", Unknown, []string{"no publish was acked"},
			func(s MirrorStats) bool { return s.Acked == 0 && s.Failed == 5 }},
		{"origin_duplicate", Invalid, []string{"jetstorm holds 0-0 twice"},
			func(s MirrorStats) bool { return s.Duplicates["jetstorm"] == 1 && s.Duplicates[m] == 1 }},
		{"origin_incomplete", Unknown, []string{"streams not read whole at the end (jetstorm)"},
			func(s MirrorStats) bool { return s.Lost == 0 && s.Missing[src] == 0 && s.Extra[src] == 0 }},
		{"mirror_incomplete", Unknown, []string{"streams not read whole at the end (jetstorm_mirror)"},
			func(s MirrorStats) bool { return s.Missing[m] == 0 }},
		{"sourced_incomplete", Unknown, []string{"streams not read whole at the end (jetstorm_sourced)"},
			func(s MirrorStats) bool { return s.Missing[src] == 0 }},
		{"unread", Unknown, []string{"streams not read whole at the end (jetstorm_mirror)"},
			func(s MirrorStats) bool { return s.Missing[m] == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "mirror_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &Mirror{})
			checkGolden(t, r, tt.verdict, tt.msg)
			if s, ok := r.Details.(MirrorStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}
