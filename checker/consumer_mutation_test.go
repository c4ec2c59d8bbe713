package checker

// Tests that kill mutants of the consumer check (consumer*.go): each case
// names the mutants it is there for.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"jetstorm/history"
)

// Builders of consume-history ops; cat numbers them.

func ccfg(name string, mod func(*history.ConsumerConfig)) []history.Op {
	c := history.ConsumerConfig{Name: name, Retention: "limits", MaxDeliver: 3, DeliverPolicy: "all", DoubleAck: true}
	if mod != nil {
		mod(&c)
	}
	return []history.Op{{Process: -1, Type: history.OK, F: history.FConsumer, Value: c}}
}

func cwq(c *history.ConsumerConfig) { c.Retention = "workqueue" }

func cpub(v string, seq uint64, typ history.OpType, subj string) []history.Op {
	return []history.Op{{Process: 0, Type: history.Invoke, F: history.FPublish, Value: v, Subject: subj},
		{Process: 0, Type: typ, F: history.FPublish, Value: v, Seq: seq}}
}

func cdel(c, v string, seq, cseq, nd uint64) []history.Op {
	return []history.Op{{Process: history.ConsumerProcessBase, Type: history.OK, F: history.FDeliver, Seq: seq,
		Value: history.Delivery{Consumer: c, Value: v, StreamSeq: seq, ConsumerSeq: cseq, NumDelivered: nd}}}
}

func cack(c, kind, v string, seq, cseq uint64, typ history.OpType, double bool, after uint64) []history.Op {
	k := history.Ack{Consumer: c, Kind: kind, Value: v, StreamSeq: seq, ConsumerSeq: cseq, Double: double}
	done := k
	done.DeliveredAfter = after
	return []history.Op{{Process: history.ConsumerProcessBase, Type: history.Invoke, F: history.FAck, Value: k},
		{Process: history.ConsumerProcessBase, Type: typ, F: history.FAck, Value: done}}
}

func cstate(c string, pending uint64, ackPending int, final bool, node string) []history.Op {
	return []history.Op{{Process: -1, Type: history.OK, F: history.FConsumerState, Node: node,
		Value: history.ConsumerState{Consumer: c, Leader: "n1", NumPending: pending, NumAckPending: ackPending, Final: final}}}
}

func cend(reads ...string) []history.Op {
	ops := []history.Op{{Process: -1, Type: history.Invoke, F: history.FRecover}, {Process: -1, Type: history.OK, F: history.FRecover},
		{Process: -1, Type: history.Invoke, F: history.FDrain}}
	for i, v := range reads {
		ops = append(ops, history.Op{Process: -1, Type: history.OK, F: history.FRead, Value: v, Seq: uint64(i + 1)})
	}
	return append(ops, history.Op{Process: -1, Type: history.OK, F: history.FDrain})
}

// timed sets the ops' times (ms) in order.
func timed(h []history.Op, ms ...int) []history.Op {
	for i := range h {
		h[i].Time = time.Duration(ms[min(i, len(ms)-1)]) * time.Millisecond
	}
	return h
}

func TestConsumerMutants(t *testing.T) {
	ok, info, fail := history.OK, history.Info, history.Fail
	ack, nak, term := history.AckAck, history.AckNak, history.AckTerm
	zero := cstate("c1", 0, 0, false, "n1")
	// caught up but for an unacked delivery, which is not a dropped one
	awaiting := cstate("c1", 0, 1, false, "n1")
	// a consumer that received p-1 and acked it
	one := cat(cdel("c1", "p-1", 1, 1, 1), cack("c1", ack, "p-1", 1, 1, ok, true, 1))
	bad := func(op history.Op) []history.Op { return []history.Op{op} }
	var eleven []history.Op
	for i := range 11 {
		eleven = append(eleven, cpub(fmt.Sprintf("p-%d", i+1), uint64(i+1), ok, "")...)
	}
	runConsumerCases(t, []consumerCase{
		// stored(): an acked publish neither delivered nor read is stored
		// (`m.out == outOK` mutants); LostInStream stays 0 (`c.LostInStream > 0`).
		{"lost, unread", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), zero, cend()), Invalid, []string{"LOST-TO-CONSUMER 1", "!still in the stream"},
			func(s ConsumersStats) bool {
				c := s.Consumers["c1"]
				return c.LostInStream == 0 && c.Verdict == Invalid
			}},
		// `m.readIdx >= 0` → `>` (stored, judgeConsumer): a read at op 0.
		{"read at op 0", cat(bad(history.Op{Process: -1, Type: ok, F: history.FRead, Value: "x", Seq: 1}), ccfg("c1", nil), cpub("x", 0, info, ""), zero),
			Invalid, []string{"1 still in the stream"}, nil},
		// the same on a work queue (retention's `m.readIdx >= 0`): present, never acked: fine.
		{"workqueue read at op 0", cat(bad(history.Op{Process: -1, Type: ok, F: history.FRead, Value: "x", Seq: 1}), ccfg("c1", cwq), cpub("x", 1, ok, ""),
			cdel("c1", "x", 1, 1, 1), awaiting, cend()[:2], bad(history.Op{Process: -1, Type: ok, F: history.FDrain})), Valid, nil, nil},
		// A read that did not succeed reads nothing.
		{"info read", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), zero, bad(history.Op{Process: -1, Type: info, F: history.FRead, Value: "p-1", Seq: 1}), cend()),
			Invalid, nil, func(s ConsumersStats) bool { return s.Consumers["c1"].LostInStream == 0 }},
		// StallAfter 0 means 30 s (`stallAfter <= 0`).
		{"default stall_after", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), timed(cat(one, cstate("c1", 1, 0, false, "n1"), zero), 10, 11, 12, 20, 30), cend()),
			Valid, nil, nil},
		// A late idle sample is no stall (`st.NumPending > 0` mutants).
		{"late idle sample", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), timed(cat(one, zero), 10, 11, 12, 60000), cend()), Valid, nil, nil},
		// No stall during a fault that never ended (`a.faults++`).
		{"stall in an unfinished fault", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cpub("p-2", 2, ok, ""),
			timed(cat(one, bad(history.Op{Process: -2, Type: history.Invoke, F: history.FFault, Value: "kill"}), cstate("c1", 1, 0, false, "n1")), 10, 11, 12, 13, 60000), cend()),
			Unknown, []string{"did not catch up"}, nil},
		// Malformed ops make it unknown (`a.nMalformed++`, the decode guards, `Unknown → Valid`).
		{"deliver junk", cat(ccfg("c1", nil), bad(history.Op{Type: ok, F: history.FDeliver, Value: "junk"})), Unknown, []string{"malformed history (1 bad ops", "is not a Delivery"}, nil},
		{"deliver nil pointer", cat(ccfg("c1", nil), bad(history.Op{Type: ok, F: history.FDeliver, Value: (*history.Delivery)(nil)})), Unknown, []string{"is not a Delivery"}, nil},
		{"deliver info", cat(ccfg("c1", nil), bad(history.Op{Type: info, F: history.FDeliver, Value: history.Delivery{Consumer: "c1", Value: "p-1", StreamSeq: 1}})), Unknown, []string{"malformed"}, nil},
		{"deliver no value", cat(ccfg("c1", nil), bad(history.Op{Type: ok, F: history.FDeliver, Value: history.Delivery{Consumer: "c1", StreamSeq: 1}})), Unknown, []string{"malformed"}, nil},
		{"deliver no seq", cat(ccfg("c1", nil), bad(history.Op{Type: ok, F: history.FDeliver, Value: history.Delivery{Consumer: "c1", Value: "p-1"}})), Unknown, []string{"malformed"}, nil},
		{"config no name", cat(ccfg("", nil)), Unknown, []string{"is not a ConsumerConfig"}, nil},
		{"config info", cat(bad(history.Op{Type: info, F: history.FConsumer, Value: history.ConsumerConfig{Name: "c1"}})), Unknown, []string{"is not a ConsumerConfig"}, nil},
		{"config again, same", cat(ccfg("c1", nil), ccfg("c1", nil)), Valid, nil, nil},
		{"config again, other", cat(ccfg("c1", nil), ccfg("c1", cwq)), Unknown, []string{"configured again, differently"}, nil},
		{"ack no consumer", cat(ccfg("c1", nil), cack("", ack, "p-1", 1, 1, ok, false, 0)), Unknown, []string{"is not an Ack"}, nil},
		{"ack names no message", cat(ccfg("c1", nil), cack("c1", ack, "", 99, 1, ok, false, 0)), Unknown, []string{"names no message"}, nil},
		{"dead letter without seq", cat(ccfg("c1", nil), bad(history.Op{Type: ok, F: history.FDeadLetter, Value: history.DeadLetter{Consumer: "c1", Kind: "terminated"}})),
			Unknown, []string{"is not a DeadLetter"}, nil},
		{"sample junk", cat(ccfg("c1", nil), bad(history.Op{Type: ok, F: history.FConsumerState, Value: 7})), Unknown, []string{"is not a ConsumerState"}, nil},
		{"sample info", cat(ccfg("c1", nil), bad(history.Op{Type: info, F: history.FConsumerState, Value: history.ConsumerState{Consumer: "c1"}})), Unknown, []string{"is not a ConsumerState"}, nil},
		{"strangers", cat(ccfg("c1", nil), cdel("zz", "p-1", 1, 1, 1), cdel("yy", "p-1", 1, 1, 1)), Unknown, []string{`first: 1 ops name consumer "yy"`},
			func(s ConsumersStats) bool { return s.Malformed == 2 }},
		// Only the first 10 malformed examples are kept (`len(a.malformed) < 10`).
		{"eleven bad ops", cat(ccfg("c1", nil), manyBad(11)), Unknown, []string{"malformed history (11 bad ops"},
			func(s ConsumersStats) bool { return len(s.MalformedExamples) == 10 }},
		// Only 10 lost examples are kept (addEx).
		{"eleven lost", cat(ccfg("c1", nil), eleven, zero, cend()), Invalid, []string{"LOST-TO-CONSUMER 11"},
			func(s ConsumersStats) bool { return len(s.Consumers["c1"].LostExamples) == 10 }},
		// found(): an ack naming the first of two messages at one sequence by
		// sequence only (`!ok` in found), on a work queue: confirmed, still read.
		{"ack by seq, first value", cat(ccfg("c1", cwq), cpub("p-1", 1, ok, ""), cpub("p-2", 1, ok, ""), cdel("c1", "p-1", 1, 1, 1),
			cack("c1", ack, "", 1, 1, ok, true, 1), zero, cend("p-1")), Invalid, []string{"p-1 (seq 1): acked (confirmed"}, nil},
		// Kinds: a Term whose outcome is unknown may have finished the
		// message; a failed ack did not (settle's `final`, `t != Fail`).
		{"workqueue term info, removed", cat(ccfg("c1", cwq), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 1, 1),
			cack("c1", term, "p-1", 1, 1, info, true, 0), zero, cend()), Valid, nil, nil},
		{"workqueue ack failed, removed", cat(ccfg("c1", cwq), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 1, 1),
			cack("c1", ack, "p-1", 1, 1, fail, true, 0), zero, cend()), Invalid, []string{"removed without an ack"}, nil},
		// Allowed on a work queue: an unconfirmed ack, a confirmed Term, a
		// never-acked message still there, a confirmed nak then a
		// redelivery (`final && k.Double`, `k.Kind == history.AckAck`, the
		// ackedAt guards, `!s.RetentionJudged`).
		{"workqueue allowed leftovers", cat(ccfg("c1", cwq), cpub("p-1", 1, ok, ""), cpub("p-2", 2, ok, ""), cpub("p-3", 3, ok, ""), cpub("p-4", 4, ok, ""),
			cdel("c1", "p-1", 1, 1, 1), cack("c1", ack, "p-1", 1, 1, ok, false, 0),
			cdel("c1", "p-2", 2, 2, 1), cack("c1", term, "p-2", 2, 2, ok, true, 2),
			cdel("c1", "p-3", 3, 3, 1), cack("c1", nak, "p-3", 3, 3, ok, true, 3), cdel("c1", "p-3", 3, 4, 2),
			cdel("c1", "p-4", 4, 5, 1), cstate("c1", 0, 2, false, "n1"), cend("p-1", "p-2", "p-3", "p-4")), Valid, nil,
			func(s ConsumersStats) bool { return s.RetentionJudged && s.Consumers["c1"].Verdict == Valid }},
		// A confirmation without DeliveredAfter keeps the one with it (`d > 0`).
		{"second confirmation without delivered_after", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), one,
			cack("c1", ack, "p-1", 1, 1, ok, true, 0), cdel("c1", "p-1", 1, 5, 2), zero, cend("p-1")), Invalid, []string{"REDELIVERED AFTER"},
			func(s ConsumersStats) bool { return s.Consumers["c1"].StaleDeliveredAfter == 0 }},
		// A delivered sequence read after the ack below the acked delivery's
		// own came from a stale leader: it bounds nothing (consumer seq 9
		// acked, 5 read after: the delivery at 7 is not judged); equal to it,
		// it bounds (the redelivery at 10 is after the confirmed ack).
		{"stale delivered_after", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 7, 1), cdel("c1", "p-1", 1, 9, 2),
			cack("c1", ack, "p-1", 1, 9, ok, true, 5), zero, cend("p-1")), Valid, []string{"!REDELIVERED", "1 confirmed ack read a delivered sequence below"},
			func(s ConsumersStats) bool { return s.Consumers["c1"].StaleDeliveredAfter == 1 }},
		{"delivered_after equal to the acked delivery's", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 9, 1),
			cack("c1", ack, "p-1", 1, 9, ok, true, 9), cdel("c1", "p-1", 1, 10, 2), zero, cend("p-1")), Invalid, []string{"REDELIVERED AFTER", "!read a delivered sequence below"},
			func(s ConsumersStats) bool { return s.Consumers["c1"].StaleDeliveredAfter == 0 }},
		// Caught up: a sample without a leader counts unless final; a final
		// one counts from the leader only (the `!st.Final || st.Leader == op.Node` mutants).
		{"non-final sample, other node", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cstate("c1", 0, 0, false, "n3"), cend()), Invalid, []string{"LOST-TO-CONSUMER"}, nil},
		{"final sample from the leader", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cstate("c1", 0, 0, true, "n1"), cend()), Invalid, []string{"LOST-TO-CONSUMER"}, nil},
		{"final sample from a replica", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cstate("c1", 0, 0, true, "n2"), cend()), Unknown, []string{"did not catch up"}, nil},
		// Who should see what (sees).
		{"limits consumer created late", cat(cpub("p-1", 1, ok, ""), ccfg("c1", nil), zero, cend("p-1")), Invalid, []string{"LOST-TO-CONSUMER 1"}, nil},
		{"by_start_sequence", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.DeliverPolicy, c.StartSeq = "by_start_sequence", 2 }),
			cpub("p-1", 1, ok, ""), cpub("p-2", 2, ok, ""), cpub("p-3", 3, ok, ""), cdel("c1", "p-2", 2, 1, 1), cack("c1", ack, "p-2", 2, 1, ok, true, 1), zero, cend()),
			Invalid, []string{"LOST-TO-CONSUMER 1 stored message never delivered (first: p-3 (seq 3))"},
			func(s ConsumersStats) bool { return s.Consumers["c1"].Expected == 2 }},
		{"deliver new", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.DeliverPolicy, c.CreatedAtSeq = "new", 1 }),
			cpub("p-1", 1, ok, ""), cpub("p-2", 2, ok, ""), cpub("p-3", 3, ok, ""), cdel("c1", "p-2", 2, 1, 1), cack("c1", ack, "p-2", 2, 1, ok, true, 1), zero, cend()),
			Invalid, []string{"LOST-TO-CONSUMER 1 stored message never delivered (first: p-3 (seq 3))"},
			func(s ConsumersStats) bool { return s.Consumers["c1"].Expected == 2 }},
		{"by_start_time", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.DeliverPolicy, c.StartTime = "by_start_time", 5*time.Millisecond }),
			timed(cat(cpub("p-1", 1, ok, ""), cpub("p-2", 2, ok, "")), 1, 2, 10, 11), zero, cend()),
			Invalid, []string{"LOST-TO-CONSUMER 1 stored message never delivered (first: p-2 (seq 2))"}, nil},
		{"unknown policy", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.DeliverPolicy = "last" }), cpub("p-1", 1, ok, ""), zero, cend()),
			Unknown, []string{"1 undelivered stored message not judged"}, func(s ConsumersStats) bool { return s.Consumers["c1"].Verdict == Unknown }},
		// Filters: a subject not recorded cannot be judged; "s.>" needs a
		// token after "s"; "s.x" does not match "s".
		{"filter, no subject", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.Filter = "s.a" }), cpub("p-1", 1, ok, ""), zero, cend()),
			Unknown, []string{"not judged"}, func(s ConsumersStats) bool {
				return s.Consumers["c1"].Verdict == Unknown && s.Consumers["c1"].Unjudged == 1
			}},
		{"filters", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.Filter = "s.>" }), ccfg("c2", func(c *history.ConsumerConfig) { c.Filter = "s.x" }),
			cpub("p-1", 1, ok, "s"), cpub("p-2", 2, ok, "s.*"), cdel("c1", "p-2", 2, 1, 1), cack("c1", ack, "p-2", 2, 1, ok, true, 1),
			zero, cstate("c2", 0, 0, false, "n1"), cend()), Valid, nil,
			func(s ConsumersStats) bool { return s.Consumers["c1"].Expected == 1 && s.Consumers["c2"].Expected == 0 }},
		// Only stored, published messages are judged (`!m.pub || !m.stored()`).
		{"workqueue unstored and unpublished", cat(ccfg("c1", cwq), cpub("p-1", 0, info, ""), cdel("c1", "x", 7, 1, 1),
			cack("c1", ack, "x", 7, 1, ok, true, 1), zero, cend()), Valid, nil,
			func(s ConsumersStats) bool { return s.Consumers["c1"].Expected == 0 }},
		// A never-acked message still read is fine on a work queue (the
		// ackedAt `&&`); removal is not judged on a cluster that never
		// healed, nor without a complete drain (`a.drained && !a.unhealed`,
		// the drain's `op.Type == history.OK`).
		{"workqueue unacked, read", cat(ccfg("c1", cwq), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 1, 1), awaiting, cend("p-1")), Valid, nil, nil},
		{"workqueue unhealed", cat(ccfg("c1", cwq), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 1, 1), awaiting,
			bad(history.Op{Process: -1, Type: info, F: history.FRecover}), cend()[2:]), Unknown, []string{"no complete final drain on a healed cluster"},
			func(s ConsumersStats) bool { return s.Consumers["c1"].Verdict == Unknown }},
		{"workqueue drain incomplete", cat(ccfg("c1", cwq), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 1, 1), awaiting, cend()[:3]),
			Unknown, []string{"no complete final drain"}, func(s ConsumersStats) bool { return s.Consumers["c1"].Verdict == Unknown }},
		// On a work queue one consumer's ack is enough (`done || fin`).
		{"workqueue other consumer acked", cat(ccfg("c1", cwq), ccfg("c2", cwq), cpub("p-1", 1, ok, ""), one, zero, cend()),
			Unknown, []string{"c2: consumer did not catch up"}, nil},
		// max_deliver 0 is no limit (`md > 0`); NumDelivered alone can exceed it.
		{"max_deliver 0", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.MaxDeliver = 0 }), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 1, 1), awaiting, cend("p-1")),
			Valid, nil, func(s ConsumersStats) bool { return s.Consumers["c1"].DeadLettered == 0 }},
		{"NumDelivered above max_deliver", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cdel("c1", "p-1", 1, 1, 4), zero, cend("p-1")),
			Invalid, []string{"MAX_DELIVER EXCEEDED"}, nil},
		// No publishes, no samples: nothing judged, not caught up, no latency.
		{"empty consumer", cat(ccfg("c1", nil)), Valid, []string{"p50 0.0 ms"},
			func(s ConsumersStats) bool { return !s.Consumers["c1"].CaughtUp }},
		// A lost message below every delivered one, and one whose sequence
		// was delivered with another value, are no cursor skips (gap).
		{"lost below, and at a reused seq", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cpub("p-2", 2, ok, ""), cpub("p-3", 3, ok, ""), cpub("p-4", 4, ok, ""),
			cdel("c1", "other", 2, 1, 1), cack("c1", ack, "other", 2, 1, ok, true, 1), cdel("c1", "p-3", 3, 2, 1), cack("c1", ack, "p-3", 3, 2, ok, true, 2),
			cdel("c1", "p-4", 4, 3, 1), cack("c1", ack, "p-4", 4, 3, ok, true, 3), zero, cend()),
			Invalid, []string{"LOST-TO-CONSUMER 2"}, func(s ConsumersStats) bool { return s.Consumers["c1"].CursorSkips == 0 }},
		{"lost at a reused seq between delivered ones", cat(ccfg("c1", nil), cpub("p-1", 1, ok, ""), cpub("p-2", 2, ok, ""), cpub("p-3", 3, ok, ""),
			cdel("c1", "p-1", 1, 1, 1), cack("c1", ack, "p-1", 1, 1, ok, true, 1), cdel("c1", "other", 2, 2, 1), cack("c1", ack, "other", 2, 2, ok, true, 2),
			cdel("c1", "p-3", 3, 3, 1), cack("c1", ack, "p-3", 3, 3, ok, true, 3), zero, cend()),
			Invalid, []string{"LOST-TO-CONSUMER 1"}, func(s ConsumersStats) bool { return s.Consumers["c1"].CursorSkips == 0 }},
	})
}

// consumerCase is a hand-made consume history and what the consumer check
// must say of it: its verdict, substrings of its message ("!": must not
// have), and a predicate on its stats.
type consumerCase struct {
	name    string
	h       []history.Op
	verdict Verdict
	msg     []string
	check   func(s ConsumersStats) bool
}

func runConsumerCases(t *testing.T, tests []consumerCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RunOne(context.Background(), tt.h, &Consumer{})
			if r.Verdict != tt.verdict {
				t.Errorf("%s, want %s: %s", r.Verdict, tt.verdict, r.Message)
			}
			for _, sub := range tt.msg {
				if no, ok := strings.CutPrefix(sub, "!"); ok {
					if strings.Contains(r.Message, no) {
						t.Errorf("message has %q: %s", no, r.Message)
					}
				} else if !strings.Contains(r.Message, sub) {
					t.Errorf("message lacks %q: %s", sub, r.Message)
				}
			}
			if s, ok := r.Details.(ConsumersStats); tt.check != nil && (!ok || !tt.check(s)) {
				t.Errorf("stats %+v", r.Details)
			}
		})
	}
}

// manyBad is n dead-letter ops that are not DeadLetters.
func manyBad(n int) []history.Op {
	var ops []history.Op
	for range n {
		ops = append(ops, history.Op{Process: -1, Type: history.OK, F: history.FDeadLetter, Value: "junk"})
	}
	return ops
}

// The consumer verdict of each anomaly is invalid (the sums of anomaly
// counts in stats), and the latency percentiles are exact.
func TestConsumerGoldenStats(t *testing.T) {
	for _, f := range []string{"lost", "redelivered_after_ack", "max_deliver", "workqueue_removed", "stall", "cursor_skip", "delivered_outside", "unacked_dropped"} {
		r := RunOne(context.Background(), loadConsume(t, f), &Consumer{})
		if v := r.Details.(ConsumersStats).Consumers["c1"].Verdict; v != Invalid {
			t.Errorf("%s: c1 %s", f, v)
		}
	}
	c := RunOne(context.Background(), loadConsume(t, "valid"), &Consumer{}).Details.(ConsumersStats).Consumers["c1"]
	if c.LatencyP50Ms != 14 || c.LatencyP99Ms != 19 {
		t.Errorf("latency p50 %v p99 %v, want 14 19", c.LatencyP50Ms, c.LatencyP99Ms)
	}
}
