package checker

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"jetstorm/history"
)

// TestObjectsVerdicts runs the objects check on one golden history per
// anomaly (testdata/objects_*.jsonl, written by objects_golden.py: o1 put
// by 0-0, o2 put by 1-0 and deleted by 1-1, o3's put 2-0 failed and 2-1
// unknown, o4 put by 0-1 and 1-2 at once; some add names o5 on, each
// for one case), and on the valid ones.
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
		{"malformed", Unknown, []string{"malformed history (10 bad ops; first: op 3 (obj-put ok o1 0-0 1000 aaaa"},
			func(s ObjectsStats) bool {
				return s.Malformed == 10 && s.Puts == 6+2 && s.PutsAcked == 4 && s.PutsUnknown == 1+2 && s.Deletes == 1
			}},
		{"gets", Valid, []string{"2 API reads (1 failed)"},
			func(s ObjectsStats) bool {
				return s.Gets == 2 && s.GetsFailed == 1 && s.LibraryMismatches == 0 && s.Torn == 0 && len(s.Anomalies) == 0
			}},
		{"library_final", Invalid, []string{"2 objects read with a DIGEST MISMATCH", "the leader: object o1 of put 0-0: 1000 bytes with SHA-256 ffffffffffff…"},
			func(s ObjectsStats) bool {
				return s.LibraryMismatches == 1 && s.DigestMismatch == 2 && s.Views["the leader"].DigestMismatch == 1 && s.Views["n1"].DigestMismatch == 1
			}},
		// The complete copy holding the most leftover chunks, the first of
		// those that tie; not the incomplete n2.
		{"leftover", Unknown, []string{"2 leftover chunks (262144 bytes)"},
			func(s ObjectsStats) bool {
				return s.LeftoverChunks == 2 && s.LeftoverBytes == 262144 && s.Views["n2"].LeftoverChunks == 5 && s.Views["n3"].LeftoverBytes == 200000
			}},
		{"final_valid", Valid, nil,
			func(s ObjectsStats) bool {
				return s.Lost == 0 && s.Resurrected == 0 && s.Disagreements == 0 && len(s.Anomalies) == 0
			}},
		{"final_lost", Invalid, []string{"3 names whose acked put was LOST"},
			func(s ObjectsStats) bool {
				return s.Lost == 3 && s.Resurrected == 0 && s.Disagreements == 0 && hasAnomalies(s.Anomalies,
					"the leader: object o5 is absent at the end, but put 3-1 of it was acked later (invoked at 3.2s)",
					"the leader: object o6 is absent at the end, but put 4-0 of it was acked later (invoked at 3s)",
					"the leader: object o7 is put 5-0 at the end, but put 5-1 of it was acked later (invoked at 3.2s)")
			}},
		{"torn_writes", Invalid, []string{"3 TORN objects read", "1 torn reads raced a write of their name (not judged)"},
			func(s ObjectsStats) bool {
				return s.Torn == 3 && s.TornRacing == 1 && len(s.Anomalies) == 3 && hasAnomalies(s.Anomalies,
					"read on n2 at 3.45s: object o6 of put 4-1 is torn: 400 of its 1000 bytes",
					"read on n2 at 3.45s: object o7 of put 5-0 is torn: 400 of its 1000 bytes",
					"read on n2 at 3.45s: object o8 of put 6-0 is torn: 400 of its 1000 bytes")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "objects_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &Objects{})
			checkGolden(t, r, tt.verdict, tt.msg)
			if tt.verdict == Valid && tt.file != "torn_racing" && strings.Contains(r.Message, "raced") {
				t.Errorf("message names raced reads: %s", r.Message)
			}
			if s, ok := r.Details.(ObjectsStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}

// hasAnomalies says whether each of want is one of the anomalies.
func hasAnomalies(anomalies []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(anomalies, w) {
			return false
		}
	}
	return true
}
