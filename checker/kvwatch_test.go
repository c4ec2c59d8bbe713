package checker

import (
	"path/filepath"
	"strings"
	"testing"

	"jetstorm/history"
)

// TestWatchVerdicts runs the watch check on one golden history per anomaly
// of issue 22 (testdata/watch_*.jsonl, written by watch_golden.py: puts to
// k0 at revisions 1, 2 and 4, a failed and an unknown one, to k1 at 3 and
// 5; two watchers; a partition healed at 5 s; history 3, converge 5 s),
// and on the valid one they vary.
func TestWatchVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string
		stats   func(s WatchStats) bool
	}{
		{"valid", Valid, []string{"7 puts to 2 keys, 5 acked, 1 failed, 1 indeterminate; 2 watchers; at most 4 puts a key, history 3; 2 heals caught up after (slowest 0 ms), 0 not judged"},
			func(s WatchStats) bool {
				n1 := s.Watchers["4000000@n1"]
				return s.FinalComplete && !s.HistoryCoversRun && s.Watchers["4000001@n2"].Converged && n1.Seen == 5 && n1.Starts == 1 && n1.StartFailures == 1 &&
					s.HealsJudged == 2 && s.Puts == 7 && s.MaxPutsPerKey == 4 && s.Overwritten == 0
			}},
		{"gap", Invalid, []string{"1 acked updates skipped (GAP)", "watcher 4000001@n2 skipped k0=1-0 (acked at revision 2): it saw revision 3 at 1.42s, and only 1 later puts of k0 may have been stored by then (history 3) (GAP)"},
			func(s WatchStats) bool {
				return s.Gaps == 1 && s.Watchers["4000001@n2"].Gaps == 1 && s.Overwritten == 0
			}},
		{"overwritten", Valid, []string{"1 updates skipped where the history depth may have rolled them off (by design)"},
			func(s WatchStats) bool {
				return s.Gaps == 0 && s.Overwritten == 1 && s.Watchers["4000001@n2"].Overwritten == 1 && s.History == 1
			}},
		// The put that may have rolled it off was acked (at revision 2).
		{"overwritten_acked", Valid, []string{"1 updates skipped where the history depth may have rolled them off (by design)"},
			func(s WatchStats) bool { return s.Gaps == 0 && s.Overwritten == 1 }},
		{"regression", Invalid, []string{"1 revisions seen out of order (REGRESSION)", "watcher 4000001@n2 saw k0 at revision 1 after revision 2 (REGRESSION, at 1.121s)"},
			func(s WatchStats) bool {
				return s.Regressions == 1 && s.Watchers["4000001@n2"].Regressions == 1 && s.Gaps == 0
			}},
		{"duplicate", Invalid, []string{"watcher 4000001@n2 saw k0 at revision 2 after revision 2 (REGRESSION, at 1.13s)"},
			func(s WatchStats) bool { return s.Regressions == 1 }},
		{"phantom", Invalid, []string{"1 updates never written seen (PHANTOM)", "watcher 4000001@n2 saw k0=9-9 at revision 6 at 5.2s: no put of that key wrote it (PHANTOM)"},
			func(s WatchStats) bool { return s.Phantom == 1 }},
		{"phantom_key", Invalid, []string{"1 updates never written seen (PHANTOM)", "saw k1=0-0 at revision 6"},
			func(s WatchStats) bool { return s.Phantom == 1 }},
		{"failed_seen", Invalid, []string{"1 updates whose put FAILED seen", "watcher 4000001@n2 saw k0=2-0 at revision 3: its put FAILED"},
			func(s WatchStats) bool { return s.FailedSeen == 1 && s.Phantom == 0 }},
		{"revision_mismatch", Invalid, []string{"1 updates seen at another revision than acked", "saw k0=1-0 at revision 7; its put was acked at revision 2"},
			func(s WatchStats) bool { return s.RevisionMismatch == 1 }},
		{"not_converged", Invalid, []string{"1 watchers NOT CONVERGED to the final values", `watcher 4000001@n2 stopped 1 keys behind the final values (first k1: saw "0-1", the leader holds "1-1") (NOT CONVERGED)`},
			func(s WatchStats) bool {
				return s.NotConverged == 1 && !s.Watchers["4000001@n2"].Converged && s.Watchers["4000000@n1"].Converged && s.Lagging == 0
			}},
		{"lagging", Invalid, []string{"1 watchers LAGGING after a heal", "watcher 4000001@n2 had not caught up 5s after the heal at 5s (1 keys behind their last acked revision before it) (LAGGING)"},
			func(s WatchStats) bool {
				return s.Lagging == 1 && s.NotConverged == 0 && s.Gaps == 0 && s.HistoryCoversRun
			}},
		{"heal_unjudged", Valid, []string{"3 heals caught up after (slowest 3500 ms), 1 not judged"},
			func(s WatchStats) bool { return s.Lagging == 0 && s.HealsUnjudged == 1 }},
		{"lost", Invalid, []string{"1 keys whose acked update was LOST", "k0=0-2 was acked at revision 4, but the final value is 1-0 (LOST)"},
			func(s WatchStats) bool { return s.Lost == 1 }},
		{"final_phantom", Invalid, []string{`the final value of k0, "7-7", was never put (PHANTOM)`},
			func(s WatchStats) bool { return s.Phantom == 1 }},
		{"final_absent", Invalid, []string{"k1=0-1 was acked at revision 3, but the final value is no value (LOST)", "NOT CONVERGED"},
			func(s WatchStats) bool { return s.Lost == 1 && s.NotConverged == 2 }},
		{"incomplete", Unknown, []string{"2 watchers not judged at the end (first: watcher 4000000@n1: the final reads are incomplete)"},
			func(s WatchStats) bool { return !s.FinalComplete }},
		{"drain_failed", Unknown, []string{"the final reads are incomplete"},
			func(s WatchStats) bool { return !s.FinalComplete }},
		{"no_reads", Unknown, []string{"the final reads are incomplete"},
			func(s WatchStats) bool { return !s.FinalComplete }},
		{"overlap", Valid, []string{"2 heals caught up after (slowest 0 ms), 0 not judged"},
			func(s WatchStats) bool { return s.HealsJudged == 2 }},
		{"fault_open", Valid, []string{"2 heals caught up after (slowest 0 ms), 0 not judged"},
			func(s WatchStats) bool { return s.HealsJudged == 2 }},
		{"none_acked", Unknown, []string{"no put was acked: nothing to judge"},
			func(s WatchStats) bool { return s.Acked == 0 }},
		{"no_watchers", Unknown, []string{"no watcher ran"},
			func(s WatchStats) bool { return len(s.Watchers) == 0 }},
		{"no_stop", Unknown, []string{"1 watchers not judged at the end (first: watcher 4000001@n2: it never stopped (no final view))"},
			func(s WatchStats) bool { return s.FinalComplete }},
		{"unhealed", Unknown, []string{"watcher 4000001@n2: behind, but the cluster did not recover"},
			func(s WatchStats) bool { return s.Unhealed && s.NotConverged == 0 }},
		{"malformed", Unknown, []string{"malformed history (5 bad ops; first: op"},
			func(s WatchStats) bool { return s.Malformed == 5 }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "watch_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &Watch{})
			checkGolden(t, r, tt.verdict, tt.msg)
			if tt.file == "valid" && strings.Contains(r.Message, "skipped") {
				t.Errorf("message names skipped updates: %s", r.Message)
			}
			if s, ok := r.Details.(WatchStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}
