package checker

// The consumer check's timing: redeliveries within ack_wait (late ones
// reported), unacked messages that never came back (dropped), and how long
// each consumer took to catch up after each fault.

import (
	"fmt"
	"math"
	"time"

	"jetstorm/history"
)

const (
	// redeliverySlack: a redelivery later than this past its due time is
	// late. The server scans for expired acks on a timer and the pull
	// clients ask in batches, so seconds pass on a busy 2-core machine
	// even when nothing is wrong: late ones are reported, not a verdict.
	redeliverySlack = 5 * time.Second
	// defaultAckWait is nats-server's ack_wait when the config records none.
	defaultAckWait = 30 * time.Second
	// noDue: no redelivery is owed (the delivery was acked or Term'd).
	noDue time.Duration = -1
	// pausedNow is pausedTo while the consumer is paused.
	pausedNow = math.MaxInt64
)

func (c *consumer) ackWait() time.Duration {
	if c.cfg.AckWaitMs > 0 {
		return time.Duration(c.cfg.AckWaitMs) * time.Millisecond
	}
	return defaultAckWait
}

// replied moves the due time of x's last delivery by an ok reply: none
// after an ack or Term, at once after a nak, its delay after a nak-delay.
// A nak of an earlier delivery moves nothing: it is a stale reply.
func (x *cm) replied(k history.Ack, at time.Duration) {
	switch {
	case k.Kind == history.AckAck || k.Kind == history.AckTerm:
		x.due = noDue
	case k.ConsumerSeq != x.maxCseq:
	case k.Kind == history.AckNak:
		x.due = at
	case k.Kind == history.AckNakDelay:
		x.due = at + time.Duration(k.DelayMs)*time.Millisecond
	}
}

// notePause follows the consumer's paused flag in its samples.
func (c *consumer) notePause(paused bool, idx int64) {
	switch {
	case paused:
		c.pausedTo = pausedNow
	case c.pausedTo == pausedNow:
		c.pausedTo = idx // it resumed before this sample
	}
}

// disturbed: a fault, a restart of c or a pause of c overlapped the time
// from op since to now, so a redelivery's timing proves nothing.
func (a *consumerAnalysis) disturbed(c *consumer, since int64) bool {
	return a.faults > 0 || a.faultEnd > since || c.restartIdx > since || c.pausedTo > since
}

// redelivered judges the timing of m's redelivery to c at t against the
// due time of its previous delivery (x before this one is applied).
func (a *consumerAnalysis) redelivered(c *consumer, m *cmsg, x *cm, t time.Duration) {
	s := &c.s
	switch late := t - x.due; {
	case x.due == noDue:
	case a.disturbed(c, x.lastIdx):
		s.RedeliveriesUnjudged++
	case late > redeliverySlack:
		addEx(&s.LateRedeliveries, &s.LateRedeliveryExamples, "%s (seq %d): redelivered at %.1fs, %.1f s after it was due",
			m.v, m.seq, t.Seconds(), late.Seconds())
		s.LateRedeliveryMaxS = max(s.LateRedeliveryMaxS, late.Seconds())
	}
}

// dropped: m was delivered to c and never came back, though no ack or Term
// may have finished it, nor did max_deliver: yet a sample after its last
// delivery, once c caught up, showed nothing awaiting an ack. The server
// lost it from the consumer's pending.
func (c *consumer) dropped(x cm, seq uint64) bool {
	return c.s.CaughtUp && x.lastIdx < c.zeroIdx && !x.ackMaybe && !x.termMaybe && !c.spent(x) && !c.exhaustedUnseen(x, seq)
}

// healedFaults are the history's faults that ended (healed or not).
func (a *consumerAnalysis) healedFaults() []history.FaultWindow {
	all, _ := history.FaultWindows(a.faultOps, 0)
	var ended []history.FaultWindow
	for _, w := range all {
		if w.Status != history.FaultNotHealed {
			ended = append(ended, w)
		}
	}
	return ended
}

// caughtUpAfter counts expected message m, delivered to c as x, in c's
// catch-up after each fault it was published before the end of.
func (a *consumerAnalysis) caughtUpAfter(c *consumer, m *cmsg, x cm) {
	for k, w := range a.wins {
		switch {
		case m.pubT >= w.End, c.catch[k] < 0:
		case x.n == 0:
			c.catch[k] = -1
		default:
			c.catch[k] = max(c.catch[k], x.first-w.End)
		}
	}
}

// catchUps reports c's catch-up after each fault.
func (a *consumerAnalysis) catchUps(c *consumer) {
	s := &c.s
	for k, w := range a.wins {
		cu := CatchUp{Fault: w.Label(), FromS: w.Start.Seconds(), ToS: w.End.Seconds(), CaughtUp: c.catch[k] >= 0}
		if cu.CaughtUp {
			d := c.catch[k].Seconds()
			cu.CatchUpS = &d
			s.CatchUpMaxS = max(s.CatchUpMaxS, d)
		}
		s.CatchUp = append(s.CatchUp, cu)
	}
}

// catchUpSummary is the catch-up part of a consumer's summary ("" with no
// fault).
func catchUpSummary(c ConsumerStats) string {
	n, late := len(c.CatchUp), 0
	for _, cu := range c.CatchUp {
		if !cu.CaughtUp {
			late++
		}
	}
	switch {
	case n == 0:
		return ""
	case late > 0:
		return fmt.Sprintf(", did not catch up after %d of %d %s", late, n, plural(n, "fault", "faults"))
	}
	return fmt.Sprintf(", caught up within %.1f s after %d %s", c.CatchUpMaxS, n, plural(n, "fault", "faults"))
}
