package checker

// Tests of the consumer check's timing (consumertiming.go), its range
// (outside) and the stall boundary: each case names the mutants it is
// there for.

import (
	"testing"
	"time"

	"jetstorm/history"
)

// withDelay makes cack's ops a nak-delay of ms.
func withDelay(ops []history.Op, ms int64) []history.Op {
	for i := range ops {
		k := ops[i].Value.(history.Ack)
		k.DelayMs = ms
		ops[i].Value = k
	}
	return ops
}

func cpaused(c string, paused bool) []history.Op {
	return []history.Op{{Process: -1, Type: history.OK, F: history.FConsumerState, Node: "n1",
		Value: history.ConsumerState{Consumer: c, Leader: "n1", Paused: paused}}}
}

func ackWait(ms int64) func(*history.ConsumerConfig) {
	return func(c *history.ConsumerConfig) { c.AckWaitMs = ms }
}

func late(n int) func(s ConsumersStats) bool {
	return func(s ConsumersStats) bool {
		c := s.Consumers["c1"]
		return c.LateRedeliveries == n && c.RedeliveriesUnjudged == 0
	}
}

func TestConsumerTimingMutants(t *testing.T) {
	ok, info := history.OK, history.Info
	ack, nak, nakDelay := history.AckAck, history.AckNak, history.AckNakDelay
	zero := cstate("c1", 0, 0, false, "n1")
	p1 := cpub("p-1", 1, ok, "")
	kill := func(typ history.OpType) []history.Op {
		return []history.Op{{Process: -2, Type: typ, F: history.FFault, Value: map[string]any{"kind": "kill", "nodes": []string{"n1"}}}}
	}
	runConsumerCases(t, []consumerCase{
		// An ok ack (even unconfirmed) owes no redelivery: one later is
		// not timed (replied's first case).
		{"acked, then redelivered late", cat(ccfg("c1", ackWait(1000)), p1, timed(cat(cdel("c1", "p-1", 1, 1, 1), cack("c1", ack, "p-1", 1, 1, ok, false, 0),
			cdel("c1", "p-1", 1, 2, 2), cack("c1", ack, "p-1", 1, 2, ok, false, 0), zero), 0, 100, 101, 60000, 60100, 60101, 61000), cend("p-1")),
			Valid, []string{"!late"}, late(0)},
		// A nak makes it due at once, not after ack_wait (30 s here: none
		// recorded): 10 s later is late, and only reported.
		{"nak, then redelivered 10 s later", cat(ccfg("c1", nil), p1, timed(cat(cdel("c1", "p-1", 1, 1, 1), cack("c1", nak, "p-1", 1, 1, ok, false, 0),
			cdel("c1", "p-1", 1, 2, 2), cack("c1", ack, "p-1", 1, 2, ok, true, 2), zero), 0, 100, 101, 10200, 10300, 10301, 11000), cend("p-1")),
			Valid, []string{"1 late redelivery (up to 10.1 s past due"}, func(s ConsumersStats) bool {
				c := s.Consumers["c1"]
				return late(1)(s) && c.LateRedeliveryMaxS > 10.09 && c.LateRedeliveryMaxS < 10.1
			}},
		// A nak-delay of 20 s (ack_wait 2 s) is due 20 s after the nak
		// (the nak-delay case, its `*` and the nak case's `==`).
		{"nak-delay, redelivered on time", cat(ccfg("c1", ackWait(2000)), p1, timed(cat(cdel("c1", "p-1", 1, 1, 1),
			withDelay(cack("c1", nakDelay, "p-1", 1, 1, ok, false, 0), 20000),
			cdel("c1", "p-1", 1, 2, 2), cack("c1", ack, "p-1", 1, 2, ok, true, 2), zero), 0, 100, 101, 21000, 21100, 21101, 22000), cend("p-1")),
			Valid, nil, late(0)},
		// A nak of an earlier delivery does not move the due time of the
		// last one (`k.ConsumerSeq != x.maxCseq`).
		{"stale nak", cat(ccfg("c1", ackWait(10000)), p1, timed(cat(cdel("c1", "p-1", 1, 1, 1), cdel("c1", "p-1", 1, 2, 2),
			cack("c1", nak, "p-1", 1, 1, ok, false, 0), cdel("c1", "p-1", 1, 3, 3), cack("c1", ack, "p-1", 1, 3, ok, true, 3), zero),
			0, 10500, 10600, 10601, 18500, 18600, 18601, 19000), cend("p-1")),
			Valid, nil, late(0)},
		// No ack_wait recorded: nats-server's 30 s (`c.cfg.AckWaitMs > 0`).
		{"default ack_wait", cat(ccfg("c1", nil), p1, timed(cat(cdel("c1", "p-1", 1, 1, 1), cdel("c1", "p-1", 1, 2, 2),
			cack("c1", ack, "p-1", 1, 2, ok, true, 2), zero), 0, 20000, 20100, 20101, 21000), cend("p-1")),
			Valid, nil, late(0)},
		// Exactly the slack past due is on time (`late > redeliverySlack`).
		{"redelivered at the slack", cat(ccfg("c1", ackWait(1000)), p1, timed(cat(cdel("c1", "p-1", 1, 1, 1), cdel("c1", "p-1", 1, 2, 2),
			cack("c1", ack, "p-1", 1, 2, ok, true, 2), zero), 0, 6000, 6100, 6101, 7000), cend("p-1")),
			Valid, nil, late(0)},
		// A pause that ended before the delivery, and an unpaused sample
		// in its wait, excuse nothing (notePause's `==`).
		{"pause over before the delivery", cat(ccfg("c1", ackWait(1000)), p1, timed(cat(cpaused("c1", true), cpaused("c1", false),
			cdel("c1", "p-1", 1, 1, 1), cpaused("c1", false), cdel("c1", "p-1", 1, 2, 2), cack("c1", ack, "p-1", 1, 2, ok, true, 2), zero),
			500, 800, 1000, 2000, 10000, 10100, 10101, 11000), cend("p-1")),
			Valid, []string{"1 late redelivery"}, late(1)},
		// A delivery after the last caught-up sample is not proven dropped
		// (dropped's `&&`).
		{"unacked after the last caught-up sample", cat(ccfg("c1", nil), p1, zero, cdel("c1", "p-1", 1, 1, 1), cend("p-1")),
			Valid, []string{"!DROPPED"}, func(s ConsumersStats) bool { return s.Consumers["c1"].CaughtUp }},
		// A publish invoked at the fault's end does not count in its
		// catch-up (`m.pubT >= w.End`).
		{"published at the fault's end", cat(ccfg("c1", nil), timed(cat(kill(history.Invoke), kill(ok), p1, cdel("c1", "p-1", 1, 1, 1),
			cack("c1", ack, "p-1", 1, 1, ok, true, 1), zero), 1000, 5000, 5000, 5001, 7000), cend("p-1")),
			Valid, []string{"caught up within 0.0 s after 1 fault"}, func(s ConsumersStats) bool {
				c := s.Consumers["c1"].CatchUp
				return len(c) == 1 && c[0].CaughtUp && *c[0].CatchUpS == 0
			}},
		// by_start_time: a publish invoked at the start time is seen
		// (sees' `m.pubT < cfg.StartTime`).
		{"published at the start time", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.DeliverPolicy, c.StartTime = "by_start_time", 5*time.Millisecond }),
			timed(p1, 5, 6), zero, cend()), Invalid, []string{"LOST-TO-CONSUMER 1"}, nil},
		// by_start_time near misses: an info publish invoked before the
		// start time (outside's `&&`), one acked exactly the slack before
		// it (`> startTimeSlack`).
		{"by_start_time near misses", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.DeliverPolicy, c.StartTime = "by_start_time", 5*time.Second }),
			timed(cat(cpub("p-1", 1, info, ""), cpub("p-2", 2, ok, "")), 1000, 1500, 3500, 4000),
			timed(cat(cdel("c1", "p-1", 1, 1, 1), cack("c1", ack, "p-1", 1, 1, ok, true, 1), cdel("c1", "p-2", 2, 2, 1), cack("c1", ack, "p-2", 2, 2, ok, true, 2), zero), 6000),
			cend("p-1", "p-2")), Valid, []string{"!OUTSIDE"}, nil},
		// The stall window: a sample exactly stall_after after the last
		// delivery is no stall (`op.Time-c.winStart > a.stallAfter`, its `-`).
		{"sample at stall_after", cat(ccfg("c1", func(c *history.ConsumerConfig) { c.StallAfterMs = 1000 }), p1, cpub("p-2", 2, ok, ""),
			timed(cat(cdel("c1", "p-1", 1, 1, 1), cack("c1", ack, "p-1", 1, 1, ok, true, 1), cstate("c1", 1, 0, false, "n1"),
				cdel("c1", "p-2", 2, 2, 1), cack("c1", ack, "p-2", 2, 2, ok, true, 2), zero), 10000, 10001, 10002, 11000, 11500, 11501, 11502, 12000),
			cend()), Valid, []string{"!STALL"}, nil},
	})
}
