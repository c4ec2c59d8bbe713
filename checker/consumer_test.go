package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"jetstorm/history"
)

func loadConsume(t *testing.T, name string) []history.Op {
	t.Helper()
	h, err := history.ReadFile(filepath.Join("testdata", "consume_"+name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestConsumerVerdicts runs the consumer check on one golden history per
// anomaly of issue 13, and on valid ones.
func TestConsumerVerdicts(t *testing.T) {
	tests := []struct {
		file    string
		verdict Verdict
		msg     []string // substrings the message must contain
		not     []string // substrings it must not contain
		stats   func(t *testing.T, s ConsumersStats)
	}{
		{"valid", Valid,
			[]string{"c1: 6 delivered (1 redelivered), 4 acked, 1 nak'd, 1 termed, 1 dead-lettered (0 advisory missing)",
				"c2: 1 delivered (0 redelivered), 1 acked"},
			[]string{"LOST", "STALL"},
			func(t *testing.T, s ConsumersStats) {
				c1, c2 := s.Consumers["c1"], s.Consumers["c2"]
				if !c1.CaughtUp || c1.Expected != 5 || c2.Expected != 1 || c1.Restarts != 1 || c1.Verdict != Valid || c2.Verdict != Valid {
					t.Errorf("stats %+v", s)
				}
			}},
		{"advisory_missing", Valid,
			[]string{"2 dead-lettered (2 advisory missing)"},
			[]string{"LOST"},
			func(t *testing.T, s ConsumersStats) {
				if c := s.Consumers["c1"]; c.DeadLettered != 2 || c.AdvisoryMissing != 2 || c.Termed != 1 || c.Nakd != 2 {
					t.Errorf("stats %+v", c)
				}
			}},
		{"lost", Invalid,
			[]string{"c1: LOST-TO-CONSUMER 1 stored message never delivered (first: p-4 (seq 4)); 1 still in the stream at the end"},
			[]string{"CURSOR"},
			func(t *testing.T, s ConsumersStats) {
				if c := s.Consumers["c1"]; c.LostToConsumer != 1 || c.CursorSkips != 0 || c.Verdict != Invalid {
					t.Errorf("stats %+v", c)
				}
			}},
		{"not_caught_up", Unknown,
			[]string{"c1: consumer did not catch up", "1 undelivered stored message is not proven lost"},
			[]string{"LOST"},
			func(t *testing.T, s ConsumersStats) {
				if c := s.Consumers["c1"]; c.CaughtUp || c.Undelivered != 1 || c.LostToConsumer != 0 || c.Verdict != Unknown {
					t.Errorf("stats %+v", c)
				}
			}},
		{"cursor_skip", Invalid,
			[]string{"LOST-TO-CONSUMER 1", "1 CURSOR SKIP (first: seq 2 (p-2) skipped between delivered 1 and 3)"},
			nil,
			func(t *testing.T, s ConsumersStats) {
				if c := s.Consumers["c1"]; c.CursorSkips != 1 || c.LostToConsumer != 1 {
					t.Errorf("stats %+v", c)
				}
			}},
		{"redelivered_after_ack", Invalid,
			[]string{"c1: 1 REDELIVERED AFTER a confirmed ACK (first: p-2 (seq 2): delivered at consumer seq 4 after its ack was confirmed at 2)"},
			[]string{"LOST"},
			func(t *testing.T, s ConsumersStats) {
				if c := s.Consumers["c1"]; c.RedeliveredAfterAck != 1 || c.Redelivered != 1 {
					t.Errorf("stats %+v", c)
				}
			}},
		{"max_deliver", Invalid,
			[]string{"c1: MAX_DELIVER EXCEEDED for 1 message (first: p-1 (seq 1): 3 deliveries, NumDelivered up to 3, max_deliver 2)"},
			nil,
			func(t *testing.T, s ConsumersStats) {
				if c := s.Consumers["c1"]; c.MaxDeliverExceeded != 1 || c.DeadLettered != 0 {
					t.Errorf("stats %+v", c)
				}
			}},
		{"workqueue_not_removed", Invalid,
			[]string{"c1: 1 RETENTION (workqueue) violation (first: p-2 (seq 2): acked (confirmed by op", "but not removed: the final drain read it"},
			[]string{"LOST"},
			func(t *testing.T, s ConsumersStats) {
				if c := s.Consumers["c1"]; c.RetentionViolations != 1 || !s.RetentionJudged {
					t.Errorf("stats %+v", s)
				}
			}},
		{"workqueue_removed", Invalid,
			[]string{"p-3 (seq 3): removed without an ack: no consumer acked, Term'd or exhausted it, and the final drain did not read it"},
			[]string{"LOST"},
			func(t *testing.T, s ConsumersStats) {
				// p-3, never acked, neither came back: dropped too.
				if c := s.Consumers["c1"]; c.RetentionViolations != 1 || c.UnackedDropped != 1 {
					t.Errorf("stats %+v", c)
				}
			}},
		{"interest_removed", Invalid,
			[]string{"c2: 1 RETENTION (interest) violation (first: p-2 (seq 2): removed while interested consumer c2 never acked"},
			[]string{"c1: 1 RETENTION"},
			func(t *testing.T, s ConsumersStats) {
				if s.Consumers["c1"].RetentionViolations != 0 || s.Consumers["c2"].RetentionViolations != 1 || s.Consumers["c1"].Verdict != Valid {
					t.Errorf("stats %+v", s)
				}
			}},
		{"stall", Invalid,
			[]string{"c1: 1 STALL (liveness after the last heal, not a lost write): nothing delivered from 7.0s to 40.0s with 2 pending",
				"did not catch up after 1 of 1 fault"},
			[]string{"LOST"},
			func(t *testing.T, s ConsumersStats) {
				c := s.Consumers["c1"]
				if c.Stalls != 1 || c.StallWindows[0] != (StallWindow{FromS: 7, ToS: 40, Pending: 2}) {
					t.Errorf("stats %+v", c)
				}
				// p-2 and p-3, published before the partition healed, never came.
				if len(c.CatchUp) != 1 || c.CatchUp[0].CaughtUp || c.CatchUp[0].CatchUpS != nil || c.CatchUpMaxS != 0 {
					t.Errorf("catch-up %+v", c.CatchUp)
				}
			}},
		// Each consumer gets one message outside its range: c1 below its
		// start sequence, c2 (deliver new) at its creation's last sequence,
		// c3 one acked 4 s before its start time, c4 one its filter does
		// not match.
		{"delivered_outside", Invalid,
			[]string{"c1: 1 DELIVERED OUTSIDE its range (first: p-2 (seq 2): below its first sequence 3 (by_start_sequence))",
				"c2: 1 DELIVERED OUTSIDE its range (first: p-2 (seq 2): below its first sequence 3 (new))",
				"c3: 1 DELIVERED OUTSIDE its range (first: p-1 (seq 1): its publish was acked at 1.001s, more than 1s before its start time 5.000s)",
				`c4: 1 DELIVERED OUTSIDE its range (first: p-3 (seq 3): subject "s.a" does not match its filter "s.b")`},
			[]string{"LOST"},
			func(t *testing.T, s ConsumersStats) {
				for _, n := range []string{"c1", "c2", "c3", "c4"} {
					if c := s.Consumers[n]; c.DeliveredOutside != 1 || c.Verdict != Invalid || c.LostToConsumer != 0 {
						t.Errorf("%s: stats %+v", n, c)
					}
				}
			}},
		// The near misses, on an interest stream: c1 gets exactly seq >=
		// start_seq 2, c2 (new, created at 1) seq 2 and 3, c3 one acked
		// 0.8 s before its start time (within the slack) and one only
		// invoked before it, c4 one published before it was created.
		{"start_range", Valid,
			nil,
			[]string{"OUTSIDE", "LOST", "RETENTION"},
			func(t *testing.T, s ConsumersStats) {
				for _, n := range []string{"c1", "c2", "c3", "c4"} {
					if c := s.Consumers[n]; c.DeliveredOutside != 0 || c.Verdict != Valid || !c.CaughtUp {
						t.Errorf("%s: stats %+v", n, c)
					}
				}
				if !s.RetentionJudged || s.Consumers["c3"].Expected != 1 || s.Consumers["c4"].Expected != 2 {
					t.Errorf("stats %+v", s)
				}
			}},
		// ack_wait 2 s: p-1 (no reply) redelivered 8 s past due is late;
		// p-2 (nak) and p-3 (nak-delay 3 s) come back within the slack;
		// p-4, p-5 and p-6 come back 7 s past due across a fault, a restart
		// and a pause: not judged. Reported only: the verdict stays valid.
		{"redelivery_timing", Valid,
			[]string{"1 late redelivery (up to 8.0 s past due; reported, not judged: first: p-1 (seq 1): redelivered at 20.0s, 8.0 s after it was due)"},
			[]string{"LOST"},
			func(t *testing.T, s ConsumersStats) {
				c := s.Consumers["c1"]
				if c.LateRedeliveries != 1 || c.LateRedeliveryMaxS != 8 || c.RedeliveriesUnjudged != 3 || c.Redelivered != 6 || c.Verdict != Valid {
					t.Errorf("stats %+v", c)
				}
			}},
		// p-1 was nak'd and never came back, yet the consumer caught up.
		{"unacked_dropped", Invalid,
			[]string{"c1: 1 UNACKED message DROPPED: never redelivered, yet the consumer caught up (first: p-1 (seq 1): delivered 1 time (last by op 6), never acked, yet nothing awaited an ack by op 13)"},
			[]string{"LOST"},
			func(t *testing.T, s ConsumersStats) {
				if c := s.Consumers["c1"]; c.UnackedDropped != 1 || c.Nakd != 1 || c.LostToConsumer != 0 || c.Verdict != Invalid {
					t.Errorf("stats %+v", c)
				}
			}},
		// A kill from 5 s to 8 s: p-2, published during it, first came at
		// 10.5 s (p-3, published after it, does not count); a partition
		// from 12 s to 13 s: everything had come before it ended.
		{"catch_up", Valid,
			[]string{"c1: 3 delivered", "caught up within 2.5 s after 2 faults"},
			nil,
			func(t *testing.T, s ConsumersStats) {
				c := s.Consumers["c1"]
				want := []struct {
					fault    string
					from, to float64
					s        float64
				}{{"kill n1", 5, 8, 2.5}, {"partition n1,n2,n3", 12, 13, 0}}
				if len(c.CatchUp) != len(want) || c.CatchUpMaxS != 2.5 {
					t.Fatalf("catch-up %+v, max %v", c.CatchUp, c.CatchUpMaxS)
				}
				for i, w := range want {
					cu := c.CatchUp[i]
					if cu.Fault != w.fault || cu.FromS != w.from || cu.ToS != w.to || !cu.CaughtUp || cu.CatchUpS == nil || math.Abs(*cu.CatchUpS-w.s) > 1e-9 {
						t.Errorf("catch-up %d: %+v (%v), want %+v", i, cu, cu.CatchUpS, w)
					}
				}
			}},
		{"paused", Invalid,
			[]string{"c1: 1 DELIVERED WHILE PAUSED (first: p-3 (seq 3) delivered at 5.0s with consumer seq 3: paused at consumer seq 2, still paused at 9.0s)"},
			[]string{"LOST", "p-2 (seq 2) delivered", "p-4 (seq 4) delivered"},
			func(t *testing.T, s ConsumersStats) {
				if c := s.Consumers["c1"]; c.DeliveredWhilePaused != 1 || c.Verdict != Invalid || !c.CaughtUp {
					t.Errorf("stats %+v", c)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := RunOne(context.Background(), loadConsume(t, tt.file), &Consumer{})
			if r.Verdict != tt.verdict {
				t.Errorf("%s, want %s: %s", r.Verdict, tt.verdict, r.Message)
			}
			for _, sub := range tt.msg {
				if !strings.Contains(r.Message, sub) {
					t.Errorf("message lacks %q:\n%s", sub, r.Message)
				}
			}
			for _, sub := range tt.not {
				if strings.Contains(r.Message, sub) {
					t.Errorf("message has %q:\n%s", sub, r.Message)
				}
			}
			s, ok := r.Details.(ConsumersStats)
			if !ok {
				t.Fatalf("details %T", r.Details)
			}
			tt.stats(t, s)
			var sec Sections
			s.AddTo(&sec)
			if b, err := json.Marshal(sec); err != nil || !strings.Contains(string(b), `"consumers":{"c1":{"verdict":`) {
				t.Errorf("sections %s %v", b, err)
			}
		})
	}
}

// A queue run has no consumer ops: the check does not apply.
func TestConsumerSkipped(t *testing.T) {
	h, err := history.ReadFile(filepath.Join("testdata", "valid.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if r := RunOne(context.Background(), h, &Consumer{}); r.Verdict != Skipped || !strings.Contains(r.Message, "not a consume run") {
		t.Errorf("%s %s", r.Verdict, r.Message)
	}
	if r := RunOne(context.Background(), nil, &Consumer{}); r.Verdict != Skipped {
		t.Errorf("empty history: %s %s", r.Verdict, r.Message)
	}
}

// The edges of a pause: a delivery the first paused sample already
// counted (sent before the pause, handled late) or recorded within
// pauseSlack of the last sample that said paused is not judged; a sample
// that does not say paused (or is final, or lacks the consumer sequence),
// or a pause of another consumer, proves nothing; a pause still open at
// the end is judged.
func TestConsumerPauseEdges(t *testing.T) {
	timeOf := func(h []history.Op, v string) *time.Duration {
		for i := range h {
			if d, ok := h[i].Value.(map[string]any); ok && h[i].F == history.FDeliver && d["value"] == v {
				return &h[i].Time
			}
		}
		t.Fatalf("no delivery of %s", v)
		return nil
	}
	// each edits the golden history's samples (s) or fault ops (f)
	each := func(h []history.Op, f string, edit func(v map[string]any)) []history.Op {
		for i := range h {
			if v, ok := h[i].Value.(map[string]any); ok && h[i].F == f {
				edit(v)
			}
		}
		return h
	}
	for _, tc := range []struct {
		name string
		edit func(h []history.Op) []history.Op
		want int
	}{
		{"as recorded", func(h []history.Op) []history.Op { return h }, 1},
		{"sent before the first paused sample said", func(h []history.Op) []history.Op {
			return each(h, history.FConsumerState, func(v map[string]any) {
				if v["delivered_consumer_seq"] == 2.0 {
					v["delivered_consumer_seq"] = 1.0 // p-2 (consumer seq 2) was then sent while paused
				}
			})
		}, 2},
		{"just before the last paused sample's slack", func(h []history.Op) []history.Op {
			*timeOf(h, "p-4") = 6900 * time.Millisecond
			return h
		}, 2},
		{"at the last paused sample's slack", func(h []history.Op) []history.Op {
			*timeOf(h, "p-3") = 7 * time.Second
			return h
		}, 0},
		{"no sample says paused", func(h []history.Op) []history.Op {
			return each(h, history.FConsumerState, func(v map[string]any) { delete(v, "paused") })
		}, 0},
		{"the paused samples are final", func(h []history.Op) []history.Op {
			return each(h, history.FConsumerState, func(v map[string]any) { v["final"] = true })
		}, 0},
		{"the samples lack the consumer sequence", func(h []history.Op) []history.Op {
			return each(h, history.FConsumerState, func(v map[string]any) { delete(v, "delivered_consumer_seq") })
		}, 0},
		{"only the first sample has the consumer sequence", func(h []history.Op) []history.Op {
			first := true
			return each(h, history.FConsumerState, func(v map[string]any) {
				if !first {
					delete(v, "delivered_consumer_seq")
				}
				first = false
			})
		}, 1},
		{"another consumer paused", func(h []history.Op) []history.Op {
			return each(h, history.FFault, func(v map[string]any) { v["consumer"] = "c2" })
		}, 0},
		{"another fault kind", func(h []history.Op) []history.Op {
			return each(h, history.FFault, func(v map[string]any) { v["kind"] = "kill" })
		}, 0},
		{"the pause never ends", func(h []history.Op) []history.Op {
			for i := range h {
				if h[i].F == history.FFault && h[i].Type == history.OK {
					return append(h[:i:i], h[i+1:]...)
				}
			}
			return h
		}, 1},
		{"the pause's end failed", func(h []history.Op) []history.Op {
			for i := range h {
				if h[i].F == history.FFault && h[i].Type == history.OK {
					h[i].Type = history.Info
				}
			}
			return h
		}, 1},
		{"a delivery after the pause ended", func(h []history.Op) []history.Op {
			*timeOf(h, "p-5") = 5 * time.Second // recorded after the end op: not in the pause
			return h
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.edit(loadConsume(t, "paused"))
			r := RunOne(context.Background(), h, &Consumer{})
			c := r.Details.(ConsumersStats).Consumers["c1"]
			if c.DeliveredWhilePaused != tc.want || (tc.want > 0) != (r.Verdict == Invalid) {
				t.Errorf("%d delivered while paused (%s: %s), want %d", c.DeliveredWhilePaused, r.Verdict, r.Message, tc.want)
			}
		})
	}
}

// One pause keeps at most maxPausedDeliveries deliveries (a server that
// ignores a pause delivers at the publish rate).
func TestConsumerPauseBounded(t *testing.T) {
	fault := map[string]any{"kind": "pause-consumer", "consumer": "c1"}
	h := cat(ccfg("c1", nil), []history.Op{{Process: -2, Type: history.Invoke, F: history.FFault, Value: fault}})
	for i := range maxPausedDeliveries + 2 {
		v := fmt.Sprintf("p-%d", i+1)
		h = append(h, cat(cpub(v, uint64(i+1), history.OK, ""), cdel("c1", v, uint64(i+1), uint64(i+2), 1))...)
	}
	paused := cstate("c1", 5, 0, false, "n1")
	paused[0].Value = history.ConsumerState{Consumer: "c1", Leader: "n1", NumPending: 5, Paused: true, DeliveredConsumer: 1}
	h = cat(h, paused, []history.Op{{Process: -2, Type: history.OK, F: history.FFault, Value: fault}})
	for i := range h {
		h[i].Time = pauseSlack + time.Duration(i)*time.Millisecond // all well after the pause began
	}
	h[1].Time = 0                // the pause
	h[len(h)-2].Time = time.Hour // the paused sample (consumer seq 1), long after every delivery (2 on)
	h[len(h)-1].Time = time.Hour
	r := RunOne(context.Background(), h, &Consumer{})
	if c := r.Details.(ConsumersStats).Consumers["c1"]; c.DeliveredWhilePaused != maxPausedDeliveries {
		t.Errorf("%d delivered while paused, want %d (%s)", c.DeliveredWhilePaused, maxPausedDeliveries, r.Message)
	}
}

// A max-deliveries advisory proves a message exhausted even when the
// clients recorded fewer deliveries (a push client's buffer dropped at a
// restart): dead-lettered, not lost, not dropped. Without the advisory
// (or with a terminated one, or after an ack) it stays an anomaly.
func TestConsumerDeadLetteredUnseen(t *testing.T) {
	ok := history.OK
	dl := func(kind string, seq uint64) []history.Op {
		return []history.Op{{Process: -1, Type: ok, F: history.FDeadLetter, Seq: seq,
			Value: history.DeadLetter{Consumer: "c1", Kind: kind, StreamSeq: seq, Deliveries: 3}}}
	}
	base := func(tail ...[]history.Op) []history.Op {
		// p-1 delivered once and left unacked; p-2 never delivered; the
		// consumer then caught up.
		return cat(append([][]history.Op{ccfg("c1", nil), cpub("p-1", 1, ok, ""), cpub("p-2", 2, ok, ""),
			cdel("c1", "p-1", 1, 1, 1), cstate("c1", 0, 0, false, "n1"), cend("p-1", "p-2")}, tail...)...)
	}
	unseen := func(n int) func(s ConsumersStats) bool {
		return func(s ConsumersStats) bool {
			c := s.Consumers["c1"]
			return c.DeadLetteredUnseen == n && c.DeadLettered == n && c.AdvisoryMissing == 0
		}
	}
	runConsumerCases(t, []consumerCase{
		{"both exhausted by the server's word", base(dl("max_deliveries", 1), dl("max_deliveries", 2)),
			Valid, []string{"2 dead-lettered (0 advisory missing, 2 exhausted unseen)"}, unseen(2)},
		{"a terminated advisory as well", base(dl("terminated", 1), dl("max_deliveries", 1), dl("terminated", 1), dl("max_deliveries", 2)),
			Valid, nil, unseen(2)},
		{"no advisory", base(), Invalid, []string{"LOST-TO-CONSUMER 1", "UNACKED message DROPPED"}, unseen(0)},
		{"only terminated advisories", base(dl("terminated", 1), dl("terminated", 2)),
			Invalid, []string{"LOST-TO-CONSUMER 1", "UNACKED message DROPPED"}, unseen(0)},
		{"acked, then exhausted", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 1, 1),
			cack("c1", history.AckAck, "p-1", 1, 1, history.Info, true, 0), cstate("c1", 0, 0, false, "n1"), cend("p-1"), dl("max_deliveries", 1)),
			Valid, nil, unseen(0)},
	})
}

// One consumer sequence naming two stream sequences is reported (the
// consumer's delivered pointer went back), without changing the verdict;
// the same delivery recorded twice, or distinct sequences, are not reuse.
func TestConsumerSeqReused(t *testing.T) {
	ok, ack := history.OK, history.AckAck
	two := cat(cpub("p-1", 1, ok, ""), cpub("p-2", 2, ok, ""))
	acked := func(v string, seq, cseq uint64) []history.Op {
		return cat(cdel("c1", v, seq, cseq, 1), cack("c1", ack, v, seq, cseq, ok, true, cseq))
	}
	reused := func(n int) func(s ConsumersStats) bool {
		return func(s ConsumersStats) bool { return s.Consumers["c1"].ConsumerSeqReused == n }
	}
	runConsumerCases(t, []consumerCase{
		{"reused", cat(ccfg("c1", nil), two, acked("p-1", 1, 7), acked("p-2", 2, 7), cstate("c1", 0, 0, false, "n1"), cend("p-1", "p-2")),
			Valid, []string{"1 consumer sequence REUSED", "consumer seq 7 named stream seq 1 (op 5), then stream seq 2 (op 8, p-2)"}, reused(1)},
		{"distinct", cat(ccfg("c1", nil), two, acked("p-1", 1, 7), acked("p-2", 2, 8), cstate("c1", 0, 0, false, "n1"), cend("p-1", "p-2")),
			Valid, []string{"!REUSED"}, reused(0)},
		{"the same delivery twice", cat(ccfg("c1", nil), two, cdel("c1", "p-1", 1, 7, 1), acked("p-1", 1, 7), acked("p-2", 2, 8),
			cstate("c1", 0, 0, false, "n1"), cend("p-1", "p-2")),
			Valid, []string{"!REUSED"}, reused(0)},
		{"no consumer sequence recorded", cat(ccfg("c1", nil), two, acked("p-1", 1, 0), acked("p-2", 2, 0), cstate("c1", 0, 0, false, "n1"), cend("p-1", "p-2")),
			Valid, []string{"!REUSED"}, reused(0)},
	})
}
