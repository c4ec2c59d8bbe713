package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"jetstorm/history"
)

func TestPerNodeGolden(t *testing.T) {
	ok3 := NodeStats{Complete: true, Read: 3, LostValues: []string{}}
	tests := []struct {
		file    string
		verdict Verdict
		stats   PerNodeStats
		msg     []string // substrings the message must contain
	}{
		// All nodes hold the acked writes and a stored info publish, not the failed one.
		{"pernode_agree", Valid, PerNodeStats{Nodes: map[string]NodeStats{"n1": ok3, "n2": ok3, "n3": ok3}},
			[]string{"3 nodes, 3 complete", "n2 3 read/0 lost"}},
		// n2 lacks 0-1, which n1 and n3 (and the leader's drain) have, and
		// holds 0-2 at seq 2 where the others hold 0-1.
		{"pernode_split", Invalid, PerNodeStats{
			Nodes: map[string]NodeStats{"n1": ok3, "n3": ok3,
				"n2": {Complete: true, Read: 2, Lost: 1, MissingVsOthers: 1, LostValues: []string{"0-1"}}},
			Divergent: 1,
			Disagreements: []string{"n2 lacks 1 value n1 has (first: 0-1)", "n2 lacks 1 value n3 has (first: 0-1)",
				"seq 2: n1 read 0-1, n2 read 0-2"},
		}, []string{"n2 LOST 1 acknowledged writes (first: 0-1)", "SPLIT BRAIN", "1 divergent seqs", "n2 lacks 1 value n1 has"}},
		// n2's drain timed out: its missing 0-1 is neither lost nor a disagreement.
		{"pernode_incomplete", Unknown, PerNodeStats{Nodes: map[string]NodeStats{
			"n1": {Complete: true, Read: 2, LostValues: []string{}},
			"n2": {Read: 1, Lost: 1, LostValues: []string{"0-1"}}}},
			[]string{"incomplete on n2", "n2 1 read/1 acked but unread (incomplete)"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h, err := history.ReadFile(filepath.Join("testdata", tt.file+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			r := checkOps(context.Background(), &PerNode{}, h)
			if r.Name != "per-node" || r.Verdict != tt.verdict {
				t.Errorf("got %s %s, want per-node %s; message: %s", r.Name, r.Verdict, tt.verdict, r.Message)
			}
			if got := r.Details.(PerNodeStats); !reflect.DeepEqual(got, tt.stats) {
				t.Errorf("stats:\n got %+v\nwant %+v", got, tt.stats)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message %q lacks %q", r.Message, m)
				}
			}
			if strings.Contains(r.Message, "\n") {
				t.Errorf("message is not one line: %q", r.Message)
			}
			// The queue checker judges the leader's drain, which was complete and clean.
			if q := checkOps(context.Background(), &Queue{}, h); q.Verdict != Valid {
				t.Errorf("queue: %s %s", q.Verdict, q.Message)
			}
		})
	}
}

// nodeHistory builds publishes of vals (all acked) and one drain per node.
func nodeHistory(vals []string, drains map[string][]string, complete map[string]bool) []history.Op {
	var h []history.Op
	for _, v := range vals {
		h = append(h, history.Op{Process: 0, Type: history.Invoke, F: history.FPublish, Value: v},
			history.Op{Process: 0, Type: history.OK, F: history.FPublish, Value: v})
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		reads, ok := drains[n]
		if !ok {
			continue
		}
		h = append(h, history.Op{Process: -1, Type: history.Invoke, F: history.FNodeDrain, Node: n})
		for i, v := range reads {
			h = append(h, history.Op{Process: -1, Type: history.OK, F: history.FNodeRead, Node: n, Value: v, Seq: uint64(i + 1)})
		}
		typ := history.Info
		if complete[n] {
			typ = history.OK
		}
		h = append(h, history.Op{Process: -1, Type: typ, F: history.FNodeDrain, Node: n})
	}
	return h
}

func TestPerNodeVerdicts(t *testing.T) {
	all := map[string]bool{"n1": true, "n2": true, "n3": true}
	tests := []struct {
		name    string
		h       []history.Op
		verdict Verdict
		msg     []string
	}{
		{"no per-node ops", nodeHistory([]string{"0-0"}, nil, nil), Skipped, []string{"no per-node reads in the history"}},
		{"empty history", nil, Skipped, []string{"no per-node reads"}},
		// NATS Streaming: no replica's own copy can be read, and the reason is said.
		{"stan", append([]history.Op{{Process: -1, Type: history.OK, F: history.FMeta, Value: history.Meta{System: "stan"}}},
			nodeHistory([]string{"0-0"}, nil, nil)...), Skipped, []string{"NATS Streaming", "no leadership transfer"}},
		{"no drain completed", nodeHistory([]string{"0-0"}, map[string][]string{"n1": {"0-0"}, "n2": {}}, nil),
			Unknown, []string{"incomplete on n1, n2", "0 complete"}},
		// An unexpected value is proven by any read, complete or not.
		{"unexpected on incomplete node", nodeHistory([]string{"0-0"}, map[string][]string{"n1": {"0-0", "9-9"}}, nil),
			Invalid, []string{"n1 has 1 UNEXPECTED values never published (first: 9-9)"}},
		// So is a divergent sequence, even against an incomplete node.
		{"divergent vs incomplete node", nodeHistory([]string{"0-0", "0-1"},
			map[string][]string{"n1": {"0-0", "0-1"}, "n2": {"0-1"}}, map[string]bool{"n1": true}),
			Invalid, []string{"SPLIT BRAIN", "seq 1: n1 read 0-0, n2 read 0-1"}},
		// Nodes holding the same unacked value agree; one lacking it disagrees,
		// although no node lost an acked write.
		{"extra unacked value on one node", append(nodeHistory([]string{"0-0"},
			map[string][]string{"n1": {"0-0"}, "n2": {"0-0"}, "n3": {"0-0", "1-0"}}, all),
			history.Op{Process: 1, Type: history.Invoke, F: history.FPublish, Value: "1-0"}),
			Invalid, []string{"SPLIT BRAIN", "n1 lacks 1 value n3 has (first: 1-0)", "n2 lacks 1 value n3 has (first: 1-0)"}},
		{"single complete node", nodeHistory([]string{"0-0"}, map[string][]string{"n1": {"0-0"}}, all),
			Valid, []string{"1 nodes, 1 complete"}},
		{"malformed", append(nodeHistory([]string{"0-0"}, map[string][]string{"n1": {"0-0"}}, all),
			history.Op{Index: 9, Type: history.OK, F: history.FNodeRead, Value: "0-0"}),
			Unknown, []string{"malformed", "op 9: node-read has no node"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkOps(context.Background(), &PerNode{}, tt.h)
			if r.Verdict != tt.verdict {
				t.Errorf("got %s, want %s; message: %s", r.Verdict, tt.verdict, r.Message)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message %q lacks %q", r.Message, m)
				}
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := checkOps(ctx, &PerNode{}, nil); r.Verdict != Unknown || r.Name != "per-node" {
		t.Fatalf("cancelled: %+v", r)
	}
}

// Lost and missing counts are not capped, the lists are; bitsets span many
// words.
func TestPerNodeLarge(t *testing.T) {
	var vals []string
	for i := range 1000 {
		vals = append(vals, fmt.Sprintf("%d-%d", i%4, i))
	}
	n2 := append([]string(nil), vals[:500]...)
	h := nodeHistory(vals, map[string][]string{"n1": vals, "n2": n2, "n3": vals}, map[string]bool{"n1": true, "n2": true, "n3": true})
	s := AnalyzePerNode(h)
	got := s.Nodes["n2"]
	if got.Lost != 500 || got.MissingVsOthers != 500 || len(got.LostValues) != maxNodeValues || got.LostValues[0] != vals[500] {
		t.Fatalf("n2: %+v", got)
	}
	if s.Nodes["n1"].MissingVsOthers != 0 || s.Divergent != 0 {
		t.Fatalf("%+v", s)
	}
	b, err := json.Marshal(AnalyzePerNode(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"per_node":{},"divergent":0}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
}

// genNodeHistory is genHistory followed by a per-node drain of three nodes.
func genNodeHistory(n int) []history.Op {
	h := genHistory(n)
	var stream []history.Op
	for _, op := range h {
		if op.F == history.FRead {
			stream = append(stream, op)
		}
	}
	for _, node := range []string{"n1", "n2", "n3"} {
		h = append(h, history.Op{Index: int64(len(h)), Process: -1, Type: history.Invoke, F: history.FNodeDrain, Node: node})
		for _, r := range stream {
			h = append(h, history.Op{Index: int64(len(h)), Process: -1, Type: history.OK, F: history.FNodeRead, Node: node, Value: r.Value, Seq: r.Seq})
		}
		h = append(h, history.Op{Index: int64(len(h)), Process: -1, Type: history.OK, F: history.FNodeDrain, Node: node})
	}
	return h
}

func BenchmarkAnalyzePerNode(b *testing.B) {
	h := genNodeHistory(1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		if s := AnalyzePerNode(h); len(s.Nodes) != 3 || s.Nodes["n1"].Lost != 0 || s.Divergent != 0 || !s.Nodes["n3"].Complete {
			b.Fatalf("%+v", s)
		}
	}
}

// Sequences far beyond the history's length (a purged or old stream) go to
// the sparse table and are still compared.
func TestPerNodeSparseSeqs(t *testing.T) {
	h := nodeHistory([]string{"0-0", "0-1"}, nil, nil)
	for _, r := range []struct {
		node, v string
		seq     uint64
	}{{"n1", "0-0", 1 << 40}, {"n1", "0-1", 1<<40 + 1}, {"n2", "0-0", 1 << 40}, {"n2", "0-1", 3}, {"n3", "0-1", 1 << 40}} {
		h = append(h, history.Op{Type: history.OK, F: history.FNodeRead, Node: r.node, Value: r.v, Seq: r.seq})
	}
	s := AnalyzePerNode(h)
	if s.Divergent != 1 || !reflect.DeepEqual(s.Disagreements, []string{"seq 1099511627776: n1 read 0-0, n3 read 0-1"}) {
		t.Fatalf("%+v", s)
	}
}

// Who read a sequence first is kept as runs along the sequences, with the
// sequences put below an earlier one apart: each divergence still names
// its first reader, whichever node or drain it was, and more nodes than
// the dense table can name (128) go to the sparse one.
func TestPerNodeFirstReaders(t *testing.T) {
	vals := make([]string, 200)
	for i := range vals {
		vals[i] = fmt.Sprintf("0-%d", i)
	}
	h := nodeHistory(vals, nil, nil)
	read := func(node, v string, seq uint64) {
		h = append(h, history.Op{Type: history.OK, F: history.FNodeRead, Node: node, Value: v, Seq: seq})
	}
	drain := func(node, v string, seq uint64) {
		h = append(h, history.Op{Type: history.OK, F: history.FRead, Node: node, Value: v, Seq: seq})
	}
	drain("d1", "0-0", 1)
	drain("d2", "0-1", 2)
	read("n1", "0-2", 3)
	read("n2", "0-4", 5)
	read("n2", "0-3", 4) // below an earlier sequence: apart
	for i := range 130 { // nodes m0..m129, each first at its own sequence
		read(fmt.Sprintf("m%d", i), vals[10+i], uint64(11+i))
	}
	// Now each of those sequences read again with another value.
	read("n9", "0-199", 1)
	read("n9", "0-199", 2)
	read("n9", "0-199", 3)
	read("n9", "0-199", 4)
	read("n9", "0-199", 5)
	read("n9", "0-199", 11+126) // m126: node index 128 (after n1, n2)
	read("n9", "0-199", 11+127)
	s := AnalyzePerNode(h)
	want := []string{
		"seq 1: d1 (final drain) read 0-0, n9 read 0-199",
		"seq 2: d2 (final drain) read 0-1, n9 read 0-199",
		"seq 3: n1 read 0-2, n9 read 0-199",
		"seq 4: n2 read 0-3, n9 read 0-199",
		"seq 5: n2 read 0-4, n9 read 0-199",
		"seq 137: m126 read 0-136, n9 read 0-199",
		"seq 138: m127 read 0-137, n9 read 0-199",
	}
	if s.Divergent != len(want) || !reflect.DeepEqual(s.Disagreements, want) {
		t.Fatalf("divergent %d: %q", s.Divergent, s.Disagreements)
	}
}
