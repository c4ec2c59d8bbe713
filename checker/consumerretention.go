package checker

// What a durable consumer should see, and what the stream should keep
// (retention), for the consumer check.

import (
	"fmt"
	"strings"
	"time"
)

// sees says whether c should see m: 1 yes, 0 no, -1 it cannot be told.
func (a *consumerAnalysis) sees(c *consumer, m *cmsg) int {
	cfg := &c.cfg
	if f := a.filtered(c, m); f < 1 {
		return f
	}
	if cfg.Retention == "interest" && m.pubIdx < c.cfgIdx {
		return 0 // no interest yet: it may be gone before the consumer came
	}
	switch cfg.DeliverPolicy {
	case "", "all":
	case "by_start_time":
		if m.pubT < cfg.StartTime {
			return 0
		}
	case "by_start_sequence", "new":
		switch {
		case m.seq == 0:
			return -1
		case m.seq < c.firstSeq():
			return 0
		}
	default:
		return -1
	}
	return 1
}

// filtered says whether c's filter matches m's subject: 1 yes, 0 no, -1
// the subject was not recorded.
func (a *consumerAnalysis) filtered(c *consumer, m *cmsg) int {
	if c.cfg.Filter == "" {
		return 1
	}
	if m.subj < 0 {
		return -1
	}
	ok, known := c.match[m.subj]
	if !known {
		ok = matches(c.cfg.Filter, a.subjects[m.subj])
		c.match[m.subj] = ok
	}
	if !ok {
		return 0
	}
	return 1
}

// firstSeq is the first stream sequence c's deliver policy gives it
// (by_start_sequence, new); 0 for the other policies.
func (c *consumer) firstSeq() uint64 {
	switch c.cfg.DeliverPolicy {
	case "by_start_sequence":
		return c.cfg.StartSeq
	case "new":
		return c.cfg.CreatedAtSeq + 1
	}
	return 0
}

// startTimeSlack: a by_start_time consumer is proven wrong to get a message
// only when its publish was acked this long before StartTime. The server
// compares its own store timestamp with the start time; the run clock
// reads both a little apart (the PubAck's trip, the start time's
// conversion), and a second covers that on a busy machine.
const startTimeSlack = time.Second

// outside says why c provably should not have been delivered m ("": it
// may have). Not sees() == 0: an interest stream's message published
// before c was created may or may not be delivered, and by_start_time's
// boundary is only known to within startTimeSlack of the publish's ack (a
// publish merely invoked before StartTime may be stored after it).
func (a *consumerAnalysis) outside(c *consumer, m *cmsg) string {
	cfg := &c.cfg
	if a.filtered(c, m) == 0 {
		return fmt.Sprintf("subject %q does not match its filter %q", a.subjects[m.subj], cfg.Filter)
	}
	if first := c.firstSeq(); m.seq < first {
		return fmt.Sprintf("below its first sequence %d (%s)", first, cfg.DeliverPolicy)
	}
	if cfg.DeliverPolicy == "by_start_time" && m.out == outOK && cfg.StartTime-m.okT > startTimeSlack {
		return fmt.Sprintf("its publish was acked at %.3fs, more than %s before its start time %.3fs",
			m.okT.Seconds(), startTimeSlack, cfg.StartTime.Seconds())
	}
	return ""
}

// retention judges removal from the stream, on workqueue and interest
// streams.
func (a *consumerAnalysis) retention(out *ConsumersStats) {
	r := out.Retention
	if r != "workqueue" && r != "interest" {
		return
	}
	out.RetentionJudged = a.drained && !a.unhealed
	for i := range a.msgs {
		m := &a.msgs[i]
		if !m.pub || !m.stored() {
			continue
		}
		if m.readIdx >= 0 {
			if r != "workqueue" {
				continue
			}
			for _, name := range a.names {
				c := a.cons[name]
				if x := c.get(i); x.ackedAt >= 0 && x.ackedAt < m.readIdx {
					addEx(&c.s.RetentionViolations, &c.s.RetentionExamples,
						"%s (seq %d): acked (confirmed by op %d) but not removed: the final drain read it (op %d, from %s)",
						m.v, m.seq, x.ackedAt, m.readIdx, m.readBy)
				}
			}
			continue
		}
		if !out.RetentionJudged {
			continue
		}
		var owed []*consumer // consumers that should see it and never finished it
		done := false
		for _, name := range a.names {
			c := a.cons[name]
			x := c.get(i)
			fin := x.ackMaybe || x.termMaybe || c.exhausted(x) || c.exhaustedUnseen(x, m.seq)
			done = done || fin
			if !fin && a.sees(c, m) == 1 {
				owed = append(owed, c)
			}
		}
		if r == "workqueue" && done {
			continue
		}
		for _, c := range owed {
			what := "removed without an ack: no consumer acked, Term'd or exhausted it"
			if r == "interest" {
				what = fmt.Sprintf("removed while interested consumer %s never acked, Term'd or exhausted it", c.cfg.Name)
			}
			addEx(&c.s.RetentionViolations, &c.s.RetentionExamples, "%s (seq %d): %s, and the final drain did not read it", m.v, m.seq, what)
		}
	}
}

// matches says whether filter f matches subject s (NATS tokens: "*" is one
// token, ">" the rest).
func matches(f, s string) bool {
	ft, st := strings.Split(f, "."), strings.Split(s, ".")
	for i, t := range ft {
		switch {
		case t == ">":
			return i < len(st)
		case i >= len(st):
			return false
		case t != "*" && t != st[i]:
			return false
		}
	}
	return len(ft) == len(st)
}
