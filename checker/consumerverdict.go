package checker

// The consumer check's judgement at the end of the history, its stats and
// its verdict.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// ConsumerStats is one durable consumer's part of the consumer check
// (results.json "consumers", by name).
type ConsumerStats struct {
	Verdict       Verdict `json:"verdict"`
	Retention     string  `json:"retention"`
	Filter        string  `json:"filter,omitempty"`
	DeliverPolicy string  `json:"deliver_policy,omitempty"`
	MaxDeliver    int     `json:"max_deliver"`
	Restarts      int     `json:"restarts"` // consumer-restart ops

	Delivered       int `json:"delivered"`        // deliver ops
	Redelivered     int `json:"redelivered"`      // deliveries after a message's first
	Acked           int `json:"acked"`            // ok acks of each kind
	Nakd            int `json:"nakd"`             // nak and nak-delay
	Termed          int `json:"termed"`           //
	DeadLettered    int `json:"dead_lettered"`    // Term'd (ok), or max_deliver deliveries and no ack
	AdvisoryMissing int `json:"advisory_missing"` // dead-lettered, but no dead-letter op for it
	// DeadLetteredUnseen: of the dead-lettered, those the server's
	// max-deliveries advisory proves exhausted though the clients recorded
	// fewer than max_deliver deliveries (the rest never reached them).
	DeadLetteredUnseen int `json:"dead_lettered_unseen,omitempty"`

	// CaughtUp: a state sample with nothing pending nor awaiting an ack
	// after every publish completed, so a stored message never delivered
	// is lost to it. Expected counts the stored messages it should see
	// (judged); Undelivered those never delivered when it did not catch
	// up (not proven lost); Unjudged the undelivered ones whose subject
	// (for its filter), sequence or deliver policy could not be judged.
	CaughtUp    bool `json:"caught_up"`
	Expected    int  `json:"expected"`
	Undelivered int  `json:"undelivered,omitempty"`
	Unjudged    int  `json:"unjudged,omitempty"`

	LostToConsumer int      `json:"lost_to_consumer"`
	LostInStream   int      `json:"lost_in_stream,omitempty"` // of the lost, still read by the final drain
	LostExamples   []string `json:"lost_examples,omitempty"`
	// CursorSkips are lost messages between two delivered stream sequences.
	CursorSkips        int      `json:"cursor_skips"`
	CursorSkipExamples []string `json:"cursor_skip_examples,omitempty"`

	RedeliveredAfterAck          int           `json:"redelivered_after_ack"`
	RedeliveredAfterAckExamples  []string      `json:"redelivered_after_ack_examples,omitempty"`
	MaxDeliverExceeded           int           `json:"max_deliver_exceeded"`
	MaxDeliverExamples           []string      `json:"max_deliver_examples,omitempty"`
	RetentionViolations          int           `json:"retention_violations"`
	RetentionExamples            []string      `json:"retention_examples,omitempty"`
	DeliveredWhilePaused         int           `json:"delivered_while_paused"`
	DeliveredWhilePausedExamples []string      `json:"delivered_while_paused_examples,omitempty"`
	Stalls                       int           `json:"stalls"`
	StallWindows                 []StallWindow `json:"stall_windows,omitempty"`
	// DeliveredOutside: deliveries it provably should not get (its filter
	// does not match, below its start sequence, or published before its
	// start time); UnackedDropped: delivered, never acked nor Term'd nor
	// exhausted, and never back, yet it caught up with nothing awaiting an
	// ack.
	DeliveredOutside         int      `json:"delivered_outside"`
	DeliveredOutsideExamples []string `json:"delivered_outside_examples,omitempty"`
	UnackedDropped           int      `json:"unacked_dropped"`
	UnackedDroppedExamples   []string `json:"unacked_dropped_examples,omitempty"`

	// StaleDeliveredAfter: confirmed double acks whose delivered sequence,
	// read after the ack, is below the acked delivery's own (a stale
	// leader answered): they judge no redelivery.
	StaleDeliveredAfter int `json:"stale_delivered_after,omitempty"`
	// Reported, not judged: one consumer sequence naming two stream
	// sequences (its delivered pointer went back: consumerseq.go);
	ConsumerSeqReused         int      `json:"consumer_seq_reused,omitempty"`
	ConsumerSeqReusedExamples []string `json:"consumer_seq_reused_examples,omitempty"`
	// redeliveries more than redeliverySlack after
	// due (the nak, the nak's delay, or ack_wait after the delivery), the
	// worst delay past due; unjudged: a fault, restart or pause overlapped.
	LateRedeliveries       int      `json:"late_redeliveries"`
	LateRedeliveryMaxS     float64  `json:"late_redelivery_max_s,omitempty"`
	LateRedeliveryExamples []string `json:"late_redelivery_examples,omitempty"`
	RedeliveriesUnjudged   int      `json:"redeliveries_unjudged,omitempty"`
	// CatchUp after each fault that ended; its worst among those it caught up after.
	CatchUp     []CatchUp `json:"catch_up,omitempty"`
	CatchUpMaxS float64   `json:"catch_up_max_s,omitempty"`

	// First-delivery latency, publish invoke to first delivery.
	LatencyP50Ms float64 `json:"latency_p50_ms"`
	LatencyP99Ms float64 `json:"latency_p99_ms"`
}

// StallWindow is a time (seconds since the run started) in which a
// consumer with messages pending received nothing, after the last heal.
type StallWindow struct {
	FromS   float64 `json:"from_s"`
	ToS     float64 `json:"to_s"`
	Pending uint64  `json:"pending"` // num_pending of the sample that proved it
}

// CatchUp is how long after a fault ended (seconds since the run started)
// a consumer had received every stored message it should see that was
// published (invoked) before the end.
type CatchUp struct {
	Fault    string   `json:"fault"`
	FromS    float64  `json:"from_s"`
	ToS      float64  `json:"to_s"`
	CatchUpS *float64 `json:"catch_up_s,omitempty"` // 0: all delivered by the end; nil: not caught up
	CaughtUp bool     `json:"caught_up"`            // false: one was never delivered
}

// ConsumersStats is the consumer check's Details.
type ConsumersStats struct {
	Consumers map[string]ConsumerStats
	Retention string
	// RetentionJudged: a complete final drain on a healed cluster, so
	// removal (workqueue, interest) was judged.
	RetentionJudged   bool
	Malformed         int
	MalformedExamples []string
}

// AddTo sets the consumers section.
func (c ConsumersStats) AddTo(s *Sections) { s.Consumers = c.Consumers }

// Result implements Checker.
func (c *Consumer) Result(ctx context.Context) Result {
	return judge(ctx, "consumer", c.a.stats, consumerVerdict)
}

const maxConsumerExamples = 10

func addEx(n *int, ex *[]string, format string, args ...any) {
	*n++
	if len(*ex) < maxConsumerExamples {
		*ex = append(*ex, fmt.Sprintf(format, args...))
	}
}

func (c *consumer) get(i int) cm {
	if i < len(c.msgs) {
		return c.msgs[i]
	}
	return cm{ackedAt: -1}
}

// exhausted: delivered max_deliver times and never acked nor Term'd.
func (c *consumer) exhausted(x cm) bool {
	return c.spent(x) && !x.ackMaybe && !x.termMaybe
}

// advMaxDeliveries is the kind of a max-deliveries dead-letter advisory.
const advMaxDeliveries = "max_deliveries"

// exhaustedUnseen: the server's max-deliveries advisory says it delivered
// seq max_deliver times, but the clients recorded fewer deliveries and no
// ack nor term: the rest never reached a client's handler (a push
// client's buffer dropped at a restart, or a fetch lost in transit), each
// timing out in turn. Dead-lettered as the server documents, not lost.
func (c *consumer) exhaustedUnseen(x cm, seq uint64) bool {
	return c.adv[seq] == advMaxDeliveries && !c.spent(x) && !x.ackMaybe && !x.termMaybe
}

// spent: delivered max_deliver times.
func (c *consumer) spent(x cm) bool {
	md := c.cfg.MaxDeliver
	return md > 0 && x.maxND >= uint64(md)
}

// stats finishes the analysis, once, after the last op.
func (a *consumerAnalysis) stats() ConsumersStats {
	if a.msgIdx == nil {
		a.init(0)
	}
	// The run ended before these completed: they may have happened.
	for _, i := range a.pubOpen {
		a.msgs[i].out = max(a.msgs[i].out, outInfo)
	}
	for _, p := range a.acks {
		a.settle(p.ack, "", p.idx, 0) // flags only: order does not matter
	}
	for _, n := range slices.Sorted(func(yield func(string) bool) {
		for n := range a.stranger {
			if !yield(n) {
				return
			}
		}
	}) {
		a.bad("%d ops name consumer %q, which no consumer op configured", a.stranger[n], n)
	}
	out := ConsumersStats{Consumers: map[string]ConsumerStats{}}
	if len(a.names) > 0 {
		out.Retention = a.cons[a.names[0]].cfg.Retention
	}
	a.wins = a.healedFaults()
	for _, name := range a.names {
		a.cons[name].endPause() // a pause still open at the end
		a.judgeConsumer(a.cons[name])
	}
	a.retention(&out)
	for _, name := range a.names {
		c := a.cons[name]
		s := &c.s
		switch {
		case s.LostToConsumer+s.RedeliveredAfterAck+s.MaxDeliverExceeded+s.RetentionViolations+s.Stalls+s.DeliveredWhilePaused+s.DeliveredOutside+s.UnackedDropped > 0:
			s.Verdict = Invalid
		case s.Undelivered+s.Unjudged > 0, !out.RetentionJudged && (out.Retention == "workqueue" || out.Retention == "interest"):
			s.Verdict = Unknown
		default:
			s.Verdict = Valid
		}
		out.Consumers[name] = *s
	}
	out.Malformed, out.MalformedExamples = a.nMalformed, a.malformed
	return out
}

func (a *consumerAnalysis) judgeConsumer(c *consumer) {
	s := &c.s
	s.Retention, s.Filter, s.DeliverPolicy, s.MaxDeliver = c.cfg.Retention, c.cfg.Filter, c.cfg.DeliverPolicy, c.cfg.MaxDeliver
	s.CaughtUp = c.zeroIdx > a.lastPubIdx
	slices.Sort(c.seqs)
	c.seqs = slices.Compact(c.seqs)
	c.catch = make([]time.Duration, len(a.wins))
	md := c.cfg.MaxDeliver
	for i := range a.msgs {
		m := &a.msgs[i]
		x := c.get(i)
		if x.n > 0 {
			if md > 0 && (x.maxND > uint64(md) || int(x.n) > md) {
				addEx(&s.MaxDeliverExceeded, &s.MaxDeliverExamples, "%s (seq %d): %d deliveries, NumDelivered up to %d, max_deliver %d",
					m.v, m.seq, x.n, x.maxND, md)
			}
			if x.confirmedD > 0 && x.maxCseq > x.confirmedD {
				addEx(&s.RedeliveredAfterAck, &s.RedeliveredAfterAckExamples, "%s (seq %d): delivered at consumer seq %d after its ack was confirmed at %d",
					m.v, m.seq, x.maxCseq, x.confirmedD)
			}
			if why := a.outside(c, m); why != "" {
				addEx(&s.DeliveredOutside, &s.DeliveredOutsideExamples, "%s (seq %d): %s", m.v, m.seq, why)
			}
			if c.dropped(x, m.seq) {
				addEx(&s.UnackedDropped, &s.UnackedDroppedExamples, "%s (seq %d): delivered %d %s (last by op %d), never acked, yet nothing awaited an ack by op %d",
					m.v, m.seq, x.n, plural(int(x.n), "time", "times"), x.lastIdx, c.zeroIdx)
			}
		}
		unseen := c.exhaustedUnseen(x, m.seq)
		switch {
		case unseen:
			s.DeadLettered++
			s.DeadLetteredUnseen++
		case x.termOK || c.exhausted(x):
			s.DeadLettered++
			if m.seq == 0 || c.adv[m.seq] == "" {
				s.AdvisoryMissing++
			}
		}
		if !m.pub || !m.stored() {
			continue
		}
		see := a.sees(c, m)
		switch {
		case see == 0:
			continue
		case see < 0:
			if x.n == 0 {
				s.Unjudged++
			}
			continue
		}
		s.Expected++
		a.caughtUpAfter(c, m, x)
		switch {
		case x.n > 0, unseen:
		case !s.CaughtUp:
			s.Undelivered++
		default:
			addEx(&s.LostToConsumer, &s.LostExamples, "%s (seq %d)", m.v, m.seq)
			if m.readIdx >= 0 {
				s.LostInStream++
			}
			if lo, hi, ok := gap(c.seqs, m.seq); ok {
				addEx(&s.CursorSkips, &s.CursorSkipExamples, "seq %d (%s) skipped between delivered %d and %d", m.seq, m.v, lo, hi)
			}
		}
	}
	if c.stallOpen {
		c.closeStall(c.lastSeen)
	}
	s.Stalls, s.StallWindows = len(c.stalls), c.stalls
	a.catchUps(c)
	if len(c.lat) > 0 {
		slices.Sort(c.lat)
		s.LatencyP50Ms, s.LatencyP99Ms = pct(c.lat, 0.50), pct(c.lat, 0.99)
	}
}

// gap is the delivered stream sequences around seq (sorted, distinct), when
// seq lies strictly between two and was itself never delivered.
func gap(seqs []uint64, seq uint64) (lo, hi uint64, ok bool) {
	i, found := slices.BinarySearch(seqs, seq)
	if found || seq == 0 || i == 0 || i == len(seqs) {
		return 0, 0, false
	}
	return seqs[i-1], seqs[i], true
}

// pct is the nearest-rank q quantile of sorted ds, in milliseconds.
func pct(ds []time.Duration, q float64) float64 {
	k := int(math.Ceil(q*float64(len(ds)))) - 1
	return float64(ds[max(k, 0)]) / float64(time.Millisecond)
}

func consumerVerdict(s ConsumersStats) (Verdict, string) {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range s.Consumers {
			if !yield(n) {
				return
			}
		}
	})
	if len(names) == 0 && s.Malformed == 0 {
		return Skipped, "no consumer ops: not a consume run"
	}
	var problems, unknowns, summary []string
	for _, n := range names {
		c := s.Consumers[n]
		if c.LostToConsumer > 0 {
			msg := fmt.Sprintf("%s: LOST-TO-CONSUMER %d stored %s never delivered (first: %s)",
				n, c.LostToConsumer, plural(c.LostToConsumer, "message", "messages"), examples(c.LostExamples, c.LostToConsumer))
			if c.LostInStream > 0 {
				msg += fmt.Sprintf("; %d still in the stream at the end", c.LostInStream)
			}
			if c.CursorSkips > 0 {
				msg += fmt.Sprintf("; %d CURSOR %s (first: %s)", c.CursorSkips, plural(c.CursorSkips, "SKIP", "SKIPS"),
					strings.Join(c.CursorSkipExamples[:min(3, len(c.CursorSkipExamples))], "; "))
			}
			problems = append(problems, msg)
		}
		if c.RedeliveredAfterAck > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d REDELIVERED AFTER a confirmed ACK (first: %s)",
				n, c.RedeliveredAfterAck, c.RedeliveredAfterAckExamples[0]))
		}
		if c.MaxDeliverExceeded > 0 {
			problems = append(problems, fmt.Sprintf("%s: MAX_DELIVER EXCEEDED for %d %s (first: %s)",
				n, c.MaxDeliverExceeded, plural(c.MaxDeliverExceeded, "message", "messages"), c.MaxDeliverExamples[0]))
		}
		if c.RetentionViolations > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d RETENTION (%s) %s (first: %s)",
				n, c.RetentionViolations, c.Retention, plural(c.RetentionViolations, "violation", "violations"), c.RetentionExamples[0]))
		}
		if c.DeliveredWhilePaused > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d DELIVERED WHILE PAUSED (first: %s)",
				n, c.DeliveredWhilePaused, c.DeliveredWhilePausedExamples[0]))
		}
		if c.Stalls > 0 {
			w := c.StallWindows[0]
			problems = append(problems, fmt.Sprintf("%s: %d STALL (liveness after the last heal, not a lost write): nothing delivered from %.1fs to %.1fs with %d pending",
				n, c.Stalls, w.FromS, w.ToS, w.Pending))
		}
		if c.DeliveredOutside > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d DELIVERED OUTSIDE its range (first: %s)",
				n, c.DeliveredOutside, c.DeliveredOutsideExamples[0]))
		}
		if c.UnackedDropped > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d UNACKED %s DROPPED: never redelivered, yet the consumer caught up (first: %s)",
				n, c.UnackedDropped, plural(c.UnackedDropped, "message", "messages"), c.UnackedDroppedExamples[0]))
		}
		if c.Undelivered > 0 {
			unknowns = append(unknowns, fmt.Sprintf("%s: consumer did not catch up (no sample with nothing pending after the last publish), so %d undelivered stored %s not proven lost",
				n, c.Undelivered, plural(c.Undelivered, "message is", "messages are")))
		}
		if c.Unjudged > 0 {
			unknowns = append(unknowns, fmt.Sprintf("%s: %d undelivered stored %s not judged (filter %q, deliver policy %q: subject or sequence not recorded, or the policy unknown)",
				n, c.Unjudged, plural(c.Unjudged, "message", "messages"), c.Filter, c.DeliverPolicy))
		}
		unseen := ""
		if c.DeadLetteredUnseen > 0 {
			unseen = fmt.Sprintf(", %d exhausted unseen", c.DeadLetteredUnseen)
		}
		sum := fmt.Sprintf("%s: %d delivered (%d redelivered), %d acked, %d nak'd, %d termed, %d dead-lettered (%d advisory missing%s), first delivery p50 %.1f ms p99 %.1f ms",
			n, c.Delivered, c.Redelivered, c.Acked, c.Nakd, c.Termed, c.DeadLettered, c.AdvisoryMissing, unseen, c.LatencyP50Ms, c.LatencyP99Ms)
		if c.LateRedeliveries > 0 {
			sum += fmt.Sprintf(", %d late %s (up to %.1f s past due; reported, not judged: first: %s)", c.LateRedeliveries,
				plural(c.LateRedeliveries, "redelivery", "redeliveries"), c.LateRedeliveryMaxS, c.LateRedeliveryExamples[0])
		}
		if c.StaleDeliveredAfter > 0 {
			sum += fmt.Sprintf(", %d confirmed %s read a delivered sequence below the acked delivery's (a stale leader answered; not judged)",
				c.StaleDeliveredAfter, plural(c.StaleDeliveredAfter, "ack", "acks"))
		}
		if c.ConsumerSeqReused > 0 {
			sum += fmt.Sprintf(", %d consumer %s REUSED (its delivered pointer went back; reported, not judged: first: %s)", c.ConsumerSeqReused,
				plural(c.ConsumerSeqReused, "sequence", "sequences"), c.ConsumerSeqReusedExamples[0])
		}
		summary = append(summary, sum+catchUpSummary(c))
	}
	if (s.Retention == "workqueue" || s.Retention == "interest") && !s.RetentionJudged {
		unknowns = append(unknowns, fmt.Sprintf("no complete final drain on a healed cluster, so removal (retention %s) is not judged", s.Retention))
	}
	sum := strings.Join(summary, "; ")
	switch {
	case s.Malformed > 0:
		msg := fmt.Sprintf("malformed history (%d bad ops; first: %s)", s.Malformed, s.MalformedExamples[0])
		return Unknown, strings.Join(append(append([]string{msg}, problems...), sum), "; ")
	case len(problems) > 0:
		return Invalid, strings.Join(append(problems, sum), "; ")
	case len(unknowns) > 0:
		return Unknown, strings.Join(append(unknowns, sum), "; ")
	}
	return Valid, sum
}
