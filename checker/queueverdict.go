package checker

// The queue check's verdict and its messages, from QueueStats.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"jetstorm/history"
)

// StaleRead is one stale read of the final drain (see history.StaleRead).
type StaleRead struct {
	history.StaleRead
	Node   string `json:"node"`   // the node that hosted the consumer
	Behind uint64 `json:"behind"` // LeaderLast - ClaimedEnd
	// Hid: the node's own copy held at least the leader's last sequence,
	// and the consumer, asked again, still delivered nothing: it hid
	// messages its node had: invalid.
	Hid bool `json:"hid"`
}

func (r StaleRead) String() string {
	own := fmt.Sprintf("its own copy ended at %d", r.NodeLast)
	switch {
	case r.NodeLastErr != "":
		own = "its own copy unknown: " + r.NodeLastErr
	case r.NodeLast >= r.LeaderLast && r.Confirmed:
		own += "; asked again, the consumer still delivered nothing"
	case r.NodeLast >= r.LeaderLast:
		own += " just after: it had caught up"
	}
	return fmt.Sprintf("consumer on %s claimed the end at seq %d while leader %s had %d (%d behind; %s)",
		r.Node, r.ClaimedEnd, r.Leader, r.LeaderLast, r.Behind, own)
}

// Result implements Checker: it judges the ops observed. Lost writes are
// only proven by a complete drain; unexpected and failed-but-read values
// are proven by any read.
func (q *Queue) Result(ctx context.Context) Result {
	if r, ok := q.deletes.skip("queue"); ok {
		return r
	}
	return judge(ctx, "queue", q.a.stats, queueVerdict)
}

func queueVerdict(s QueueStats) (Verdict, string) {
	lostWord := "lost"
	switch {
	case !s.DrainComplete:
		lostWord = "acked but unread" // not proven lost: the drain may have stopped early
	case s.Unhealed:
		lostWord = "acked but unread on a cluster that never healed"
	}
	summary := fmt.Sprintf("%d attempted, %d acked, %d failed, %d indeterminate; %d read, %d %s, %d recovered",
		s.Attempted, s.Acked, s.Failed, s.Indeterminate, s.Read, s.Lost, lostWord, s.Recovered)
	switch {
	case s.ExactlyOnce && s.DuplicatedOutsideWindow > 0:
		summary += fmt.Sprintf(", %d duplicated, possibly outside the %s duplicate window (expected; first: %s)",
			s.Duplicated, time.Duration(s.DuplicateWindowMs)*time.Millisecond, examples(s.DuplicatedValues, s.Duplicated))
	case s.Duplicated > 0 && !s.ExactlyOnce:
		summary += fmt.Sprintf(", %d duplicated (allowed: at-least-once delivery; first: %s)",
			s.Duplicated, examples(s.DuplicatedValues, s.Duplicated))
	}
	if s.ExactlyOnce {
		summary += fmt.Sprintf(", exactly-once: %d %s with the same Nats-Msg-Id, duplicate window %s",
			s.Retries, plural(s.Retries, "retry", "retries"), time.Duration(s.DuplicateWindowMs)*time.Millisecond)
	}
	if k := s.StaleReadCount - s.StaleReadsHiding; k > 0 {
		summary += fmt.Sprintf(", %d stale %s (allowed: a consumer on a replica that was behind; the rest was read from the leader; first: %s)",
			k, plural(k, "read", "reads"), firstStale(s.StaleReads, false))
	}

	var problems []string
	if proven := s.Lost; s.DrainComplete && proven > 0 && (!s.Unhealed || s.LostProven > 0) {
		if s.Unhealed {
			proven = s.LostProven
		}
		// The breakdown follows the list so the message still starts
		// "LOST n acknowledged writes (first: ...)".
		msg := fmt.Sprintf("LOST %d acknowledged writes (first: %s): prefix %d, middle %d, postfix %d",
			s.Lost, examples(s.LostValues, s.Lost), s.LostPrefix, s.LostMiddle, s.LostPostfix)
		if s.LostMiddle > 0 {
			msg += " (middle: a later write of the same process was read)"
		}
		if w := lostWhere(s); w != "" {
			msg += "; " + w
		}
		if s.Unhealed {
			msg += fmt.Sprintf("; the cluster never healed: %d of them proven lost (on no replica, %s read completely)",
				proven, plural(proven, "one", "some"))
		}
		problems = append(problems, msg)
	}
	if s.DuplicatedInWindow > 0 {
		problems = append(problems, fmt.Sprintf("%d values DUPLICATED inside the duplicate window: exactly-once publishing violated (first: %s)",
			s.DuplicatedInWindow, examples(s.DuplicatedValues, s.DuplicatedInWindow)))
	}
	if s.StaleReadsHiding > 0 {
		problems = append(problems, fmt.Sprintf("%d STALE READS hid messages their node held (first: %s)",
			s.StaleReadsHiding, firstStale(s.StaleReads, true)))
	}
	if s.OrderViolations > 0 {
		problems = append(problems, fmt.Sprintf("%d ORDER violations: acked writes of one process stored out of publish order (first: %s)",
			s.OrderViolations, strings.Join(s.OrderExamples[:min(len(s.OrderExamples), 3)], "; ")))
	}
	if s.Unexpected > 0 {
		problems = append(problems, fmt.Sprintf("read %d UNEXPECTED values never published (first: %s)",
			s.Unexpected, examples(s.UnexpectedValues, s.Unexpected)))
	}
	if s.FailedButRead > 0 {
		problems = append(problems, fmt.Sprintf("read %d values whose publish FAILED (first: %s)",
			s.FailedButRead, examples(s.FailedButReadValues, s.FailedButRead)))
	}

	// Malformed: the counts rest on a broken pairing of invokes and
	// completions: neither validity nor an anomaly can be trusted.
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), problems, summary); ok {
		return v, msg
	}
	switch {
	case !s.DrainComplete:
		return Unknown, "drain missing or incomplete, so lost writes cannot be judged; " + summary
	case s.Unhealed && s.Lost > 0:
		msg := "the cluster never healed, so acked writes the leader lacks are not proven lost"
		if w := lostWhere(s); w != "" {
			msg += " (" + w + ")"
		}
		return Unknown, msg + "; " + summary
	}
	return Valid, summary
}

// lostWhere says where the lost values still are, from the per-node reads
// ("" when there were none).
func lostWhere(s QueueStats) string {
	var parts []string
	if s.LostOnReplicas > 0 {
		names := make([]string, 0, len(s.LostHolders))
		for n := range s.LostHolders {
			names = append(names, n)
		}
		slices.Sort(names)
		for i, n := range names {
			names[i] = fmt.Sprintf("%s (%d)", n, s.LostHolders[n])
		}
		parts = append(parts, fmt.Sprintf("%d lost to clients but still on %s: the cluster did not repair %s",
			s.LostOnReplicas, strings.Join(names, ", "), plural(s.LostOnReplicas, "it", "them")))
	}
	if s.LostOnNoReplica > 0 {
		parts = append(parts, fmt.Sprintf("%d on no replica read", s.LostOnNoReplica))
	}
	return strings.Join(parts, "; ")
}

// firstStale describes the first stale read that hid data (hid) or not.
func firstStale(rs []StaleRead, hid bool) string {
	for _, r := range rs {
		if r.Hid == hid {
			return r.String()
		}
	}
	return "beyond the first 20"
}

// examples renders up to 5 values, with "..." when total has more.
func examples(vs []string, total int) string {
	const show = 5
	out := strings.Join(vs[:min(len(vs), show)], ", ")
	if total > show {
		out += ", ..."
	}
	return out
}
