package checker

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"jetstorm/history"
)

// The consumer's split brain: replicas that hold different cursors for one
// durable consumer at the end.
func TestConsumerReplicas(t *testing.T) {
	final := func(node, name string, delivered, floor uint64) history.Op {
		return history.Op{Type: history.OK, F: history.FConsumerState, Node: node,
			Value: history.ConsumerState{Consumer: name, Delivered: delivered, AckFloor: floor, Final: true}}
	}
	read := func(file string) []history.Op {
		h, err := history.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct {
		name    string
		h       []history.Op
		verdict Verdict
		msg     []string
	}{
		{"split", read("consume_replicas_split.jsonl"), Invalid,
			[]string{"CONSUMER SPLIT BRAIN: c0's replicas disagree (n1 delivered 10, ack floor 10; n2 delivered 10, ack floor 10; n3 delivered 10, ack floor 8)", "c1: 2 replicas agree"}},
		{"agree", read("consume_replicas_agree.jsonl"), Valid, []string{"c0: 3 replicas agree (delivered 10, ack floor 10)", "c1: 2 replicas agree"}},
		{"delivered differs", []history.Op{final("n1", "c0", 10, 9), final("n2", "c0", 9, 9)}, Invalid, []string{"SPLIT BRAIN"}},
		{"last read of a node counts", []history.Op{final("n1", "c0", 10, 9), final("n2", "c0", 9, 9), final("n2", "c0", 10, 9)}, Valid, []string{"2 replicas agree"}},
		{"samples during the run are not judged", []history.Op{{Type: history.OK, F: history.FConsumerState, Node: "n1",
			Value: history.ConsumerState{Consumer: "c0", Delivered: 3}}}, Skipped, []string{"no per-node consumer states"}},
		{"not a consume run", nil, Skipped, []string{"not a consume run"}},
		{"no node", []history.Op{{Type: history.OK, F: history.FConsumerState, Value: history.ConsumerState{Consumer: "c0", Final: true}}}, Unknown, []string{"names no node"}},
		{"no consumer", []history.Op{{Type: history.OK, F: history.FConsumerState, Node: "n1", Value: "x"}}, Unknown, []string{"without a consumer"}},
		{"empty consumer name", []history.Op{final("n1", "", 1, 1), final("n1", "c0", 1, 1)}, Unknown, []string{"1 bad consumer-state ops; first: op 0: consumer-state without a consumer (<nil>)"}},
		{"every bad op counted", []history.Op{final("", "c0", 1, 1), final("", "c0", 1, 1), final("n1", "c0", 1, 1)}, Unknown, []string{"2 bad consumer-state ops; first: op 0: final consumer-state of c0 names no node"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkOps(context.Background(), &ConsumerReplicas{}, tt.h)
			if r.Verdict != tt.verdict {
				t.Errorf("verdict %s, want %s: %s", r.Verdict, tt.verdict, r.Message)
			}
			for _, m := range tt.msg {
				if !strings.Contains(r.Message, m) {
					t.Errorf("message %q lacks %q", r.Message, m)
				}
			}
		})
	}
}

// On a workqueue or interest stream the consumers' acks delete messages:
// what the final read misses is not lost, so queue and per-node skip.
func TestRetentionSkipsQueueChecks(t *testing.T) {
	pub := []history.Op{
		{Process: 0, Type: history.Invoke, F: history.FPublish, Value: "0-0"},
		{Process: 0, Type: history.OK, F: history.FPublish, Value: "0-0", Seq: 1},
		{Process: -1, Type: history.Invoke, F: history.FDrain},
		{Process: -1, Type: history.OK, F: history.FDrain},
	}
	for _, ret := range []string{"limits", "workqueue", "interest"} {
		h := append([]history.Op{{Process: -1, Type: history.OK, F: history.FConsumer,
			Value: history.ConsumerConfig{Name: "d", Retention: ret}}}, pub...)
		for _, c := range []Checker{&Queue{}, &PerNode{}} {
			r := checkOps(context.Background(), c, h)
			want := Skipped
			if ret == "limits" {
				want = map[string]Verdict{"queue": Invalid, "per-node": Skipped}[c.Name()] // 0-0 lost; no per-node reads
			}
			if r.Verdict != want || (ret != "limits" && !strings.Contains(r.Message, "retention is "+ret)) {
				t.Errorf("%s %s: %s %q, want %s", ret, c.Name(), r.Verdict, r.Message, want)
			}
		}
	}
}

// Only the consumer ops that happened (ok) say the retention, and a
// malformed one does not undo it.
func TestRetentionFromConsumerOps(t *testing.T) {
	cons := func(typ history.OpType, v any) history.Op {
		return history.Op{Process: -1, Type: typ, F: history.FConsumer, Value: v}
	}
	for _, tt := range []struct {
		name string
		h    []history.Op
		want string
	}{
		{"invoke only", []history.Op{cons(history.Invoke, history.ConsumerConfig{Retention: "workqueue"})}, ""},
		{"malformed after", []history.Op{cons(history.OK, history.ConsumerConfig{Retention: "workqueue"}), cons(history.OK, "x")}, "workqueue"},
		{"limits", []history.Op{cons(history.OK, history.ConsumerConfig{Retention: "limits"})}, ""},
		{"one without a retention", []history.Op{cons(history.OK, history.ConsumerConfig{Retention: "interest"}), cons(history.OK, history.ConsumerConfig{Name: "e"})}, "interest"},
	} {
		var r retention
		for _, op := range tt.h {
			r.observe(op)
		}
		if r.kind != tt.want {
			t.Errorf("%s: retention %q, want %q", tt.name, r.kind, tt.want)
		}
	}
}

// The run's stall_after rides in the consumer ops: the stall golden
// history, whose consumer gets nothing for 33 s with messages pending, is no stall
// when the run allowed 60 s, and one with 30 s (the default).
func TestConsumerStallAfterFromHistory(t *testing.T) {
	h, err := history.ReadFile(filepath.Join("testdata", "consume_stall.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ms      int64
		checker time.Duration
		stall   bool
	}{{0, 0, true}, {60_000, 0, false}, {60_000, 10 * time.Second, true}, {20_000, 0, true}} {
		hh := slices.Clone(h)
		var cfg history.ConsumerConfig
		if err := hh[1].Decode(&cfg); err != nil {
			t.Fatal(err)
		}
		cfg.StallAfterMs = tt.ms
		hh[1].Value = cfg
		r := checkOps(context.Background(), &Consumer{StallAfter: tt.checker}, hh)
		if got := strings.Contains(r.Message, "STALL"); got != tt.stall || (r.Verdict == Invalid) != tt.stall {
			t.Errorf("stall_after %d ms, checker %s: %s %q; want stall %v", tt.ms, tt.checker, r.Verdict, r.Message, tt.stall)
		}
	}
	// Only a consumer op that happened (ok) says the run's stall_after.
	inv := h[1]
	inv.Type, inv.Value = history.Invoke, history.ConsumerConfig{Name: "c1", StallAfterMs: 60_000}
	r := checkOps(context.Background(), &Consumer{}, append([]history.Op{h[0], inv}, h[1:]...))
	if !strings.Contains(r.Message, "STALL") {
		t.Errorf("a consumer invoke op set stall_after: %s %q", r.Verdict, r.Message)
	}
}
