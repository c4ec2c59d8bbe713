package checker

import (
	"path/filepath"
	"testing"

	"jetstorm/history"
)

// TestObjectsVerdicts runs the objects check on one golden history per
// anomaly (testdata/objects_*.jsonl, written by objects_golden.py: o1 put
// by 0-0, o2 put by 1-0 and deleted by 1-1, o3's put 2-0 failed and 2-1
// unknown, o4 put by 0-1 and 1-2 at once), and on the valid ones.
func TestObjectsVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string
		stats   func(s ObjectsStats) bool
	}{
		{"valid", Valid, []string{"6 puts (4 acked, 1 failed, 1 unknown), 1 deletes (1 acked) on 4 names; 1 API reads (1 failed); 0 leftover chunks"},
			func(s ObjectsStats) bool {
				return s.Names == 4 && s.Gets == 1 && s.GetsFailed == 1 && len(s.Views) == 5 && s.Views["n1"].Objects == 3 && s.Views["list"].Objects == 3 && s.Unjudged == 0
			}},
		{"race_valid", Valid, nil, func(s ObjectsStats) bool { return s.Lost == 0 && s.Disagreements == 0 }},
		{"torn_node", Invalid, []string{"1 TORN objects read", "n2: object o1 of put 0-0 is torn: 500 of its 1000 bytes"},
			func(s ObjectsStats) bool { return s.Torn == 1 && s.Views["n2"].Torn == 1 && s.DigestMismatch == 0 }},
		{"digest_node", Invalid, []string{"1 objects read with a DIGEST MISMATCH", "n3: object o1 of put 0-0: 1000 bytes with SHA-256 ffffffffffff…, the put wrote 1000 bytes with aaaaaaaaaaaa…"},
			func(s ObjectsStats) bool {
				return s.DigestMismatch == 1 && s.Views["n3"].DigestMismatch == 1 && s.Torn == 0
			}},
		{"digest_api", Invalid, []string{"1 objects read with a DIGEST MISMATCH", "read on n2 at 1.25s: object o1 of put 0-0"},
			func(s ObjectsStats) bool { return s.DigestMismatch == 1 && s.LibraryMismatches == 1 }},
		{"torn_api", Invalid, []string{"1 TORN objects read", "read on n2 at 1.25s: object o1 of put 0-0 is torn: 400 of its 1000 bytes"},
			func(s ObjectsStats) bool { return s.Torn == 1 && s.LibraryMismatches == 1 }},
		{"torn_racing", Valid, []string{"1 torn reads raced a write of their name (not judged)"},
			func(s ObjectsStats) bool { return s.Torn == 0 && s.TornRacing == 1 }},
		// The leader and List (what it lists, as the leader reads it) name a put never made.
		{"phantom", Invalid, []string{"2 PHANTOM objects", "the leader: object o1 names put 9-9, which no client put on that name", "DISAGREE"},
			func(s ObjectsStats) bool { return s.Phantom == 2 && s.Disagreements == 1 }},
		{"failed_visible", Invalid, []string{"1 objects of FAILED puts visible", "n1: object o3 of put 2-0, which failed, is visible"},
			func(s ObjectsStats) bool { return s.FailedVisible == 1 && s.Disagreements == 1 }},
		{"lost", Invalid, []string{"1 names whose acked put was LOST", "the leader: object o1 is absent at the end, but put 0-0 of it was acked later (invoked at 1s)"},
			func(s ObjectsStats) bool { return s.Lost == 1 && s.Resurrected == 0 && s.Disagreements == 0 }},
		{"resurrected", Invalid, []string{"1 names whose acked delete was undone (RESURRECTED)", "object o2 is put 1-0 at the end, but delete 1-1 of it was acked later"},
			func(s ObjectsStats) bool { return s.Resurrected == 1 && s.Lost == 0 }},
		{"disagree", Invalid, []string{"1 names the final views DISAGREE on", "object o4: the leader holds 1-2, n3 holds 0-1 at the end"},
			func(s ObjectsStats) bool { return s.Disagreements == 1 && s.Lost == 0 }},
		{"garbage", Valid, []string{"3 leftover chunks (393216 bytes)"},
			func(s ObjectsStats) bool {
				return s.LeftoverChunks == 3 && s.LeftoverBytes == 393216 && s.Views["n2"].LeftoverChunks == 3
			}},
		{"unjudged_node", Unknown, []string{"4 names of the final views could not be read"},
			func(s ObjectsStats) bool { return s.Unjudged == 4 && s.Views["n2"].Incomplete }},
		{"unread", Unknown, []string{"1 names of the final views could not be read"},
			func(s ObjectsStats) bool { return s.Unjudged == 1 }},
		{"unhealed_lost", Unknown, []string{"the cluster never healed, so 1 names whose acked put was LOST are not proven"},
			func(s ObjectsStats) bool { return s.Lost == 1 && s.Unhealed }},
		{"unhealed_torn", Invalid, []string{"1 TORN objects read"},
			func(s ObjectsStats) bool { return s.Torn == 1 && s.Unhealed }},
		{"incomplete", Unknown, []string{"final read missing or incomplete"},
			func(s ObjectsStats) bool { return !s.DrainComplete }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "objects_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &Objects{})
			checkGolden(t, r, tt.verdict, tt.msg)
			if s, ok := r.Details.(ObjectsStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}
