package checker

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"jetstorm/history"
)

// TestDrainVerdicts runs the queue, per-node and recovery checkers together
// on the histories behind issue 11's verdict rules: a stale read is not a
// lost write; lost writes say which replicas still hold them; a cluster
// that never healed is unknown unless a replica that was read proves loss.
func TestDrainVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict // combined
		checks  map[string]Verdict
		msg     map[string][]string // substrings each check's message must contain
		not     []string            // substrings no message may contain
		stats   func(t *testing.T, q QueueStats)
	}{
		{"stale_read", Valid, map[string]Verdict{"queue": Valid, "recovery": Valid},
			map[string][]string{"queue": {"0 lost", "1 stale read (allowed", "consumer on n3 claimed the end at seq 2 while leader n1 had 4 (2 behind; its own copy ended at 2)"}},
			[]string{"STALE READS hid"},
			func(t *testing.T, q QueueStats) {
				if q.StaleReadCount != 1 || q.StaleReadsHiding != 0 || q.Lost != 0 || q.ReadsByNode["n3"] != 2 || q.ReadsByNode["n1"] != 2 {
					t.Errorf("stats %+v", q)
				}
			}},
		{"stale_read_hid", Invalid, map[string]Verdict{"queue": Invalid, "recovery": Valid},
			map[string][]string{"queue": {"1 STALE READS hid messages their node held", "its own copy ended at 4; asked again, the consumer still delivered nothing", "0 lost"}},
			[]string{"stale read (allowed", "stale reads (allowed"},
			func(t *testing.T, q QueueStats) {
				if q.StaleReadsHiding != 1 || !q.StaleReads[0].Hid || q.Lost != 0 {
					t.Errorf("stats %+v", q)
				}
			}},
		// n3's copy reached seq 4 just after its consumer claimed the end,
		// but asked again the consumer delivered (the drain recorded no
		// confirmation): it was catching up, not hiding.
		{"stale_read_caught_up", Valid, map[string]Verdict{"queue": Valid, "recovery": Valid},
			map[string][]string{"queue": {"1 stale read (allowed", "its own copy ended at 4 just after: it had caught up"}},
			[]string{"STALE READS hid"},
			func(t *testing.T, q QueueStats) {
				if q.StaleReadCount != 1 || q.StaleReadsHiding != 0 || q.StaleReads[0].Hid {
					t.Errorf("stats %+v", q)
				}
			}},
		{"lost_on_replicas", Invalid, map[string]Verdict{"queue": Invalid, "per-node": Invalid, "recovery": Valid},
			map[string][]string{
				"queue":    {"LOST 1 acknowledged writes (first: 0-3)", "1 lost to clients but still on n2 (1), n3 (1): the cluster did not repair it"},
				"per-node": {"SPLIT BRAIN", "n1 lacks 1 value n2 has (first: 0-3)"},
			},
			[]string{"on no replica", "stale"},
			func(t *testing.T, q QueueStats) {
				if q.Lost != 1 || q.LostOnReplicas != 1 || q.LostOnNoReplica != 0 || q.LostHolders["n2"] != 1 || q.LostHolders["n1"] != 0 {
					t.Errorf("stats %+v", q)
				}
			}},
		{"lost_no_replica", Invalid, map[string]Verdict{"queue": Invalid, "per-node": Invalid, "recovery": Valid},
			map[string][]string{"queue": {"LOST 1 acknowledged writes (first: 0-3)", "1 on no replica read"}},
			[]string{"lost to clients", "stale", "never healed"},
			func(t *testing.T, q QueueStats) {
				if q.Lost != 1 || q.LostOnReplicas != 0 || q.LostOnNoReplica != 1 || q.LostHolders != nil {
					t.Errorf("stats %+v", q)
				}
			}},
		{"unhealed_unknown", Unknown, map[string]Verdict{"queue": Unknown, "per-node": Unknown, "recovery": Unknown},
			map[string][]string{
				"queue":    {"never healed", "not proven lost", "1 lost to clients but still on n2 (1)", "1 acked but unread on a cluster that never healed"},
				"recovery": {"not recovered: n3: not running; log ends: panic: corrupt state"},
			},
			nil,
			func(t *testing.T, q QueueStats) {
				if !q.Unhealed || q.Lost != 1 || q.LostProven != 0 {
					t.Errorf("stats %+v", q)
				}
			}},
		{"unhealed_lost", Invalid, map[string]Verdict{"queue": Invalid, "per-node": Invalid, "recovery": Unknown},
			map[string][]string{"queue": {"LOST 1 acknowledged writes (first: 0-3)", "1 on no replica read", "never healed: 1 of them proven lost"}},
			nil,
			func(t *testing.T, q QueueStats) {
				if !q.Unhealed || q.LostProven != 1 {
					t.Errorf("stats %+v", q)
				}
			}},
		// docs/findings.md F2 (seed 4): the stale consumer on n3 served
		// its own copy, which holds another value at seq 2 than the
		// leader's: the replicas diverged, and the acked 0-2 is lost to
		// clients although n1 and n2 hold it. n3 could not be read per node.
		{"stale_read_diverged", Invalid, map[string]Verdict{"queue": Invalid, "per-node": Invalid, "recovery": Valid},
			map[string][]string{
				"queue":    {"LOST 1 acknowledged writes (first: 0-2)", "still on n1 (1), n2 (1)", "1 stale read"},
				"per-node": {"SPLIT BRAIN", "seq 2: n3 (final drain) read 1-1, n1 read 0-2"},
			},
			nil,
			func(t *testing.T, q QueueStats) {
				if q.Lost != 1 || q.Recovered != 1 || q.StaleReadCount != 1 {
					t.Errorf("stats %+v", q)
				}
			}},
		// As unhealed_lost, but no replica was read completely: a value
		// missing from the partial reads is not proven lost.
		{"unhealed_no_complete", Unknown, map[string]Verdict{"queue": Unknown, "per-node": Unknown, "recovery": Unknown},
			map[string][]string{"queue": {"not proven lost", "1 on no replica read"}},
			nil,
			func(t *testing.T, q QueueStats) {
				if !q.Unhealed || q.LostProven != 0 || q.LostOnNoReplica != 1 {
					t.Errorf("stats %+v", q)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			v, results := Run(context.Background(), h, &Queue{}, &PerNode{}, &Recovery{})
			if v != tt.verdict {
				t.Errorf("combined verdict %s, want %s", v, tt.verdict)
			}
			for _, r := range results {
				if want, ok := tt.checks[r.Name]; ok && r.Verdict != want {
					t.Errorf("%s: %s, want %s; message: %s", r.Name, r.Verdict, want, r.Message)
				}
				for _, sub := range tt.msg[r.Name] {
					if !strings.Contains(r.Message, sub) {
						t.Errorf("%s message lacks %q:\n%s", r.Name, sub, r.Message)
					}
				}
				for _, sub := range tt.not {
					if strings.Contains(r.Message, sub) {
						t.Errorf("%s message has %q:\n%s", r.Name, sub, r.Message)
					}
				}
				if q, ok := r.Details.(QueueStats); ok {
					tt.stats(t, q)
				}
			}
			if ExitCode(v) != map[Verdict]int{Valid: 0, Invalid: 1, Unknown: 2}[tt.verdict] {
				t.Errorf("exit code %d", ExitCode(v))
			}
		})
	}
}

// TestRecovery covers the recover ops on their own: healed, never healed
// with nothing else wrong (unknown, never valid), a heal that never
// finished, and no heal at all.
func TestRecovery(t *testing.T) {
	op := func(typ history.OpType, v any) history.Op {
		return history.Op{Process: -1, Type: typ, F: history.FRecover, Value: v}
	}
	tests := []struct {
		name string
		h    []history.Op
		want Verdict
		msg  string
	}{
		{"healed", []history.Op{op(history.Invoke, nil), op(history.OK, nil)}, Valid, "every node healthy"},
		{"never healed", []history.Op{op(history.Invoke, nil), op(history.Info, map[string]string{"n2": "healthz 503"})}, Unknown, "n2: healthz 503"},
		{"healed after a failed try", []history.Op{op(history.Invoke, nil), op(history.Info, nil), op(history.Invoke, nil), op(history.OK, nil)}, Valid, "healthy"},
		{"unfinished", []history.Op{op(history.Invoke, nil)}, Unknown, "never completed"},
		{"absent", nil, Skipped, "no final heal"},
		{"bad value", []history.Op{op(history.Invoke, nil), op(history.Info, "n2 is down")}, Unknown, "recover op"},
		{"no node named", []history.Op{op(history.Invoke, nil), {Process: -1, Type: history.Info, F: history.FRecover, Err: "cluster healthy for only 400ms"}},
			Unknown, "never healed, so what is missing cannot be judged lost unless a replica that was read proves it; cluster healthy for only 400ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkOps(context.Background(), &Recovery{}, tt.h)
			if r.Verdict != tt.want || !strings.Contains(r.Message, tt.msg) {
				t.Errorf("%s %q, want %s containing %q", r.Verdict, r.Message, tt.want, tt.msg)
			}
		})
	}
	// Everything read back, but the cluster never healed: unknown.
	h, err := history.ReadFile(filepath.Join("testdata", "valid.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	h = append(h, op(history.Invoke, nil), op(history.Info, map[string]string{"n3": "not running"}))
	v, rs := Run(context.Background(), h, &Queue{}, &Recovery{})
	if v != Unknown || rs[0].Verdict != Valid || rs[1].Verdict != Unknown {
		t.Errorf("valid history on a cluster that never healed: %s (queue %s, recovery %s), want unknown (queue valid: nothing is missing)",
			v, rs[0].Verdict, rs[1].Verdict)
	}
}

// TestStaleReadMalformed: a stale-read op that does not describe one makes
// the queue verdict unknown rather than being ignored.
func TestStaleReadMalformed(t *testing.T) {
	h, err := history.ReadFile(filepath.Join("testdata", "valid.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{"nonsense", map[string]any{"claimed_end": 5, "leader_last": 5}} {
		hh := append(append([]history.Op(nil), h...), history.Op{Process: -1, Type: history.OK, F: history.FStaleRead, Node: "n2", Value: v})
		if r := checkOps(context.Background(), &Queue{}, hh); r.Verdict != Unknown || !strings.Contains(r.Message, "not a stale read") {
			t.Errorf("%v: %s %s", v, r.Verdict, r.Message)
		}
	}
}

// Node ops that break the protocol say nothing about where a lost value
// is: a node-read that did not succeed, or names no node, is no holder.
func TestLostHoldersIgnoreBadNodeReads(t *testing.T) {
	h, err := history.ReadFile(filepath.Join("testdata", "lost_no_replica.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []history.Op{
		{Process: -1, Type: history.Info, F: history.FNodeRead, Node: "n2", Value: "0-3", Seq: 3},
		{Process: -1, Type: history.OK, F: history.FNodeRead, Value: "0-3", Seq: 3},
		{Process: -1, Type: history.OK, F: history.FNodeRead, Node: "n2", Value: 3, Seq: 3},
	} {
		hh := append(append([]history.Op(nil), h...), bad)
		q := checkOps(context.Background(), &Queue{}, hh).Details.(QueueStats)
		if q.LostOnReplicas != 0 || q.LostOnNoReplica != 1 || q.LostHolders != nil {
			t.Errorf("%+v: lost on replicas %d, on no replica %d, holders %v; want 0, 1, none", bad, q.LostOnReplicas, q.LostOnNoReplica, q.LostHolders)
		}
	}
}

// A stale-read op must name the consumer's node; only the first 20 are kept
// as examples, all are counted.
func TestStaleReadNodeAndCap(t *testing.T) {
	h, err := history.ReadFile(filepath.Join("testdata", "valid.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sr := history.StaleRead{Leader: "n1", ClaimedEnd: 1, LeaderLast: 3, NodeLast: 1}
	noNode := append(append([]history.Op(nil), h...), history.Op{Process: -1, Type: history.OK, F: history.FStaleRead, Value: sr})
	if r := checkOps(context.Background(), &Queue{}, noNode); r.Verdict != Unknown || !strings.Contains(r.Message, "not a stale read") {
		t.Errorf("stale read without a node: %s %s", r.Verdict, r.Message)
	}
	many := append([]history.Op(nil), h...)
	for range 25 {
		many = append(many, history.Op{Process: -1, Type: history.OK, F: history.FStaleRead, Node: "n2", Value: sr})
	}
	r := checkOps(context.Background(), &Queue{}, many)
	q := r.Details.(QueueStats)
	if r.Verdict != Valid || q.StaleReadCount != 25 || len(q.StaleReads) != maxNodeValues || !strings.Contains(r.Message, "25 stale reads (allowed") {
		t.Errorf("25 stale reads: %s, count %d, kept %d; %s", r.Verdict, q.StaleReadCount, len(q.StaleReads), r.Message)
	}
}

// Node reads without a stream sequence are never compared by sequence.
func TestPerNodeSeqZeroNotDivergent(t *testing.T) {
	h := []history.Op{
		{Process: 0, Type: history.Invoke, F: history.FPublish, Value: "0-1"},
		{Process: 0, Type: history.OK, F: history.FPublish, Value: "0-1", Seq: 1},
		{Process: 0, Type: history.Invoke, F: history.FPublish, Value: "0-2"},
		{Process: 0, Type: history.OK, F: history.FPublish, Value: "0-2", Seq: 2},
	}
	for _, n := range []string{"n1", "n2"} {
		h = append(h, history.Op{Process: -1, Type: history.Invoke, F: history.FNodeDrain, Node: n})
		for _, v := range []string{"0-1", "0-2"} {
			if n == "n2" {
				v = map[string]string{"0-1": "0-2", "0-2": "0-1"}[v] // same values, other order, no sequences
			}
			h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FNodeRead, Node: n, Value: v})
		}
		h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FNodeDrain, Node: n})
	}
	if r := checkOps(context.Background(), &PerNode{}, h); r.Verdict != Valid || r.Details.(PerNodeStats).Divergent != 0 {
		t.Errorf("reads without sequences: %s %s", r.Verdict, r.Message)
	}
}
