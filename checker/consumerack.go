package checker

// The consumer check's acks and consumer-state samples (caught up, stalls).

import (
	"time"

	"jetstorm/history"
)

func (a *consumerAnalysis) ack(op history.Op) {
	if op.Type == history.Invoke {
		k, ok := decodeAs[history.Ack](op)
		if !ok || k.Consumer == "" {
			a.bad("op %d: ack %v is not an Ack", op.Index, op.Value)
			return
		}
		if p, busy := a.acks[op.Process]; busy {
			a.bad("op %d: process %d invoked an ack while op %d was outstanding", op.Index, op.Process, p.idx)
			a.settle(p.ack, history.Info, op.Index, op.Time)
		}
		a.acks[op.Process] = openAck{k, op.Index}
		return
	}
	p, ok := a.acks[op.Process]
	if !ok {
		a.bad("op %d: ack %s by process %d has no invoke", op.Index, op.Type, op.Process)
		return
	}
	delete(a.acks, op.Process)
	if k, ok := decodeAs[history.Ack](op); ok {
		p.ack.DeliveredAfter = k.DeliveredAfter
	}
	a.settle(p.ack, op.Type, op.Index, op.Time)
}

// settle applies an ack's outcome t, known by op idx at time at.
func (a *consumerAnalysis) settle(k history.Ack, t history.OpType, idx int64, at time.Duration) {
	c := a.consumer(k.Consumer)
	if c == nil {
		return
	}
	i := a.found(k.Value, k.StreamSeq)
	if i < 0 {
		a.bad("op %d: ack of %s names no message (value %q, seq %d)", idx, k.Consumer, k.Value, k.StreamSeq)
		return
	}
	x := c.at(i)
	final := k.Kind == history.AckAck || k.Kind == history.AckTerm
	if final && t != history.Fail {
		x.ackMaybe = x.ackMaybe || k.Kind == history.AckAck
		x.termMaybe = x.termMaybe || k.Kind == history.AckTerm
	}
	if t != history.OK {
		return
	}
	x.replied(k, at)
	switch k.Kind {
	case history.AckAck:
		c.s.Acked++
	case history.AckNak, history.AckNakDelay:
		c.s.Nakd++
	case history.AckTerm:
		c.s.Termed++
		x.termOK = true
	default:
		a.bad("op %d: ack kind %q", idx, k.Kind)
	}
	if final && k.Double {
		if k.Kind == history.AckAck && x.ackedAt < 0 {
			x.ackedAt = idx
		}
		// A delivered sequence below the acked delivery's own was read
		// from a stale leader (a deposed one answering right after a
		// heal): it bounds nothing, so this ack judges no redelivery.
		switch d := k.DeliveredAfter; {
		case d == 0: // not read
		case d < k.ConsumerSeq:
			c.s.StaleDeliveredAfter++
		case x.confirmedD == 0 || d < x.confirmedD:
			x.confirmedD = d
		}
	}
}

func (a *consumerAnalysis) sample(op history.Op) {
	st, ok := decodeAs[history.ConsumerState](op)
	if !ok || op.Type != history.OK {
		a.bad("op %d: consumer-state %s %v is not a ConsumerState", op.Index, op.Type, op.Value)
		return
	}
	c := a.consumer(st.Consumer)
	if c == nil {
		return
	}
	c.pausedSample(op.Time, st)
	// A replica's own copy at the end may lag: only the leader's word
	// proves that nothing is pending. A publish still open may yet be
	// stored after the sample.
	if (!st.Final || st.Leader == op.Node) && st.NumPending == 0 && st.NumAckPending == 0 && len(a.pubOpen) == 0 {
		c.zeroIdx = op.Index
	}
	c.notePause(st.Paused, op.Index)
	if st.Final || a.faults > 0 {
		return // the end's samples come after the clients stopped
	}
	c.lastSeen = op.Time
	switch {
	case st.Paused:
		if c.stallOpen {
			c.closeStall(op.Time)
		}
		c.winStart = op.Time // nothing is owed while paused
	case st.NumPending > 0 && !c.stallOpen && op.Time-c.winStart > a.stallAfter:
		c.stallOpen, c.stallFrom, c.stallPending = true, c.winStart, st.NumPending
	}
}
