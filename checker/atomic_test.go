package checker

import (
	"path/filepath"
	"strings"
	"testing"

	"jetstorm/history"
)

// TestAtomicVerdicts runs the atomic check on one golden history per
// anomaly of issue 16 (testdata/batch_*.jsonl), and on a valid one.
func TestAtomicVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string // substrings the message must contain
		stats   func(s AtomicStats) bool
	}{
		{"valid", Valid, []string{"5 batches and 1 singles attempted, 3 acked, 1 failed, 2 indeterminate; the drain holds 4 whole (1 of them indeterminate)",
			"get 1 (0 errors), direct 1 (0 errors), consumer 2 (0 errors)"},
			func(s AtomicStats) bool { return s.Nodes["n2"].Whole == 4 && s.Nodes["n2"].Complete && s.DrainComplete }},
		{"lost", Invalid, []string{"1 acked batches LOST", "lost 1-0/2: the drain does not hold it (acked at seq 5)"},
			func(s AtomicStats) bool {
				return s.Lost == 1 && s.LostProven == 1 && s.Nodes["n1"].Lost == 1 && s.Disagreements == 0
			}},
		{"partial_leader", Invalid, []string{"1 batches stored PARTIALLY", "partial 0-0/3: the drain holds 2 of its 3 messages, torn, seqs 1..2"},
			func(s AtomicStats) bool { return s.Partial == 1 && s.Nodes["n3"].Partial == 1 }},
		{"partial_replica", Invalid, []string{"1 batches stored partially on n2", "1 batches the copies DISAGREE on"},
			func(s AtomicStats) bool {
				return s.Partial == 0 && s.Nodes["n2"].Partial == 1 && s.Nodes["n1"].Partial == 0
			}},
		{"half_read", Invalid, []string{"1 get reads showed PART OF A BATCH", "partial read: get on n1 read 0-0:2/3 at seq 2"},
			func(s AtomicStats) bool { return s.Reads["get"].Partial == 1 }},
		{"seen_then_lost", Invalid, []string{"1 batches seen by readers during the run are not stored whole", "seen then lost 2-1/4: read by consumer"},
			func(s AtomicStats) bool { return s.SeenThenLost == 1 && s.Reads["consumer"].SeenThenLost == 1 }},
		{"failed_stored", Invalid, []string{"1 batches whose publish FAILED are stored", "failed but stored 0-1/3: the drain holds it at seqs 9..11"},
			func(s AtomicStats) bool { return s.FailedStored == 1 }},
		{"indeterminate_partial", Invalid, []string{"1 batches stored PARTIALLY", "partial 1-1/2"},
			func(s AtomicStats) bool { return s.Partial == 1 }},
		{"duplicate", Invalid, []string{"1 batches stored more than once (DUPLICATED)", "duplicated 1-0/2: the drain holds it 2 times"},
			func(s AtomicStats) bool { return s.Duplicated == 1 }},
		{"interleaved", Invalid, []string{"1 batches stored PARTIALLY or out of order", "partial 0-0/3"},
			func(s AtomicStats) bool { return s.Partial == 1 }},
		{"misplaced", Invalid, []string{"1 acked batches stored away from their ack's sequence", "misplaced 1-0/2: the drain holds it at seqs 4..5, acked at 9"},
			func(s AtomicStats) bool { return s.Misplaced == 1 }},
		{"unexpected", Invalid, []string{"1 messages read belong to no published batch", "unexpected: 7-7:1/1"},
			func(s AtomicStats) bool { return s.Unexpected == 1 }},
		{"incomplete_drain", Unknown, []string{"drain missing or incomplete"},
			func(s AtomicStats) bool { return !s.DrainComplete && s.Lost == 0 }},
		{"incomplete_node", Unknown, []string{"per-node drain incomplete on n3"},
			func(s AtomicStats) bool { return !s.Nodes["n3"].Complete && s.Nodes["n3"].Partial == 0 }},
		{"disagree", Invalid, []string{"1 batches the copies DISAGREE on", "disagreement 1-1/2: the drain whole at 7..8, n1 whole at 7..8, n2 whole at 7..8, n3 none"},
			func(s AtomicStats) bool { return s.Disagreements == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", "batch_"+tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := RunOne(t.Context(), h, &Atomic{})
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s: %s", r.Verdict, tt.verdict, r.Message)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message lacks %q:\n%s", m, r.Message)
				}
			}
			if s, ok := r.Details.(AtomicStats); !ok || !tt.stats(s) {
				t.Errorf("stats: %+v", r.Details)
			}
		})
	}
}

// TestAtomicMalformed: a completion without its invoke is no evidence.
func TestAtomicMalformed(t *testing.T) {
	h := []history.Op{
		{Index: 0, Process: 0, Type: history.OK, F: history.FBatch, Value: "0-0/2", Seq: 2},
		{Index: 1, Process: -1, Type: history.Invoke, F: history.FDrain},
		{Index: 2, Process: -1, Type: history.OK, F: history.FDrain},
	}
	r := RunOne(t.Context(), h, &Atomic{})
	if r.Verdict != Unknown || !strings.Contains(r.Message, "completion without its invoke") {
		t.Errorf("%s: %s", r.Verdict, r.Message)
	}
}

func TestParseBatch(t *testing.T) {
	for _, s := range []string{"3-17:1/4", "3-17:4/4"} {
		if _, _, _, ok := history.ParseBatchMsg(s); !ok {
			t.Errorf("%s: not parsed", s)
		}
	}
	for _, s := range []string{"3-17:0/4", "3-17:5/4", "3-17", ":1/1", "3-17:x/4", "3-17:1/0"} {
		if _, _, _, ok := history.ParseBatchMsg(s); ok {
			t.Errorf("%s: parsed", s)
		}
	}
}
