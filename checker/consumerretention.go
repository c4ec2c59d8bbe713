package checker

// What a durable consumer should see, and what the stream should keep
// (retention), for the consumer check.

import (
	"fmt"
	"strings"
)

// sees says whether c should see m: 1 yes, 0 no, -1 it cannot be told.
func (a *consumerAnalysis) sees(c *consumer, m *cmsg) int {
	cfg := &c.cfg
	if cfg.Filter != "" {
		if m.subj < 0 {
			return -1
		}
		ok, known := c.match[m.subj]
		if !known {
			ok = matches(cfg.Filter, a.subjects[m.subj])
			c.match[m.subj] = ok
		}
		if !ok {
			return 0
		}
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
		first := cfg.StartSeq
		if cfg.DeliverPolicy == "new" {
			first = cfg.CreatedAtSeq + 1
		}
		switch {
		case m.seq == 0:
			return -1
		case m.seq < first:
			return 0
		}
	default:
		return -1
	}
	return 1
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
			fin := x.ackMaybe || x.termMaybe || c.exhausted(x)
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
