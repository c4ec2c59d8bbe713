package checker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"jetstorm/history"
)

// Counter checks the counter workload (history.FCounterAdd) with what the
// server stores: every increment is a message keeping its Nats-Incr and
// the subject's running total. In the drain's copy and every replica's
// own, each counter's messages form a chain, total_k = total_(k-1) +
// incr_k from 0; every acked increment is in it exactly once, at its
// ack's sequence with its ack's total; no failed one is; one with an
// unknown outcome may or may not be; nothing else is. Complete copies hold
// the same chains (else a split brain), and the leader's final value of
// each counter is its chain's last total. A counter explained by the
// acked increments plus some of the unknown ones is valid.
type Counter struct {
	ids    history.ValueIDs
	incs   []counterInc // by op id
	copies copies[counterCopy, *counterCopy]
	finals map[int]counterFinal
	bad    badOps
	// Unhealed: the cluster was not healthy after the final heal.
	unhealed bool
}

// counterInc is what the publishes say of one increment.
type counterInc struct {
	k        int32
	incr     int64
	ackTotal int64
	ackSeq   uint64
	out      outcome
}

type counterFinal struct {
	total int64
	seq   uint64
}

// counterCopy is one copy of the stream as read back: each counter's
// chain, in sequence order.
type counterCopy struct {
	copyHead
	chains  map[int][]counterLink
	foreign []string // messages that are no counter increment
}

// counterLink is one stored increment.
type counterLink struct {
	seq   uint64
	op    int32 // -1: no such increment was published
	opStr string
	incr  int64
	total int64
}

func (c *Counter) Name() string { return "counter" }

// Observe implements Checker.
func (c *Counter) Observe(op history.Op) {
	switch op.F {
	case history.FCounterAdd:
		c.add(op)
	case history.FCounterFinal:
		if e, ok := history.ParseCounterEntry(op.ValueString()); ok && e.HasTotal {
			if c.finals == nil {
				c.finals = map[int]counterFinal{}
			}
			c.finals[e.K] = counterFinal{e.Total, op.Seq}
		} else {
			c.bad.add(op, "not a counter value")
		}
	case history.FRecover:
		c.unhealed = op.Type == history.Info
	default:
		c.copies.observe(op, func(cc *counterCopy, op history.Op) { cc.read(c, op) })
	}
}

func (c *Counter) add(op history.Op) {
	e, ok := history.ParseCounterEntry(op.ValueString())
	if !ok {
		c.bad.add(op, "not a counter increment")
		return
	}
	if op.Type == history.Invoke {
		// Ids are handed out here only, densely: increment id is
		// c.incs[id].
		if _, _, isNew := c.ids.IDKey(e.Op); !isNew {
			c.bad.add(op, "increment published twice")
			return
		}
		c.incs = append(c.incs, counterInc{k: int32(e.K), incr: e.Incr})
		return
	}
	id, ok := c.ids.Lookup(e.Op)
	if !ok || c.incs[id].out != outNone || c.incs[id].incr != e.Incr || int(c.incs[id].k) != e.K {
		c.bad.add(op, "completion without its invoke")
		return
	}
	in := &c.incs[id]
	switch op.Type {
	case history.OK:
		if !e.HasTotal {
			c.bad.add(op, "ok without the ack's total")
			return
		}
		in.out, in.ackSeq, in.ackTotal = outOK, op.Seq, e.Total
	case history.Fail:
		in.out = outFail
	case history.Info:
		in.out = outInfo
	default:
		c.bad.add(op, "unknown op type")
	}
}

func (cc *counterCopy) read(c *Counter, op history.Op) {
	e, ok := history.ParseCounterEntry(op.ValueString())
	if !ok || !e.HasTotal {
		if len(cc.foreign) < 10 {
			cc.foreign = append(cc.foreign, op.ValueString())
		}
		return
	}
	if cc.chains == nil {
		cc.chains = map[int][]counterLink{}
	}
	l := counterLink{seq: op.Seq, op: -1, opStr: e.Op, incr: e.Incr, total: e.Total}
	if id, ok := c.ids.Lookup(e.Op); ok {
		l.op = id
	}
	cc.chains[e.K] = append(cc.chains[e.K], l)
}

// CounterStats are the counter check's figures (results.json "counters").
type CounterStats struct {
	Increments    int `json:"increments"` // attempted
	Acked         int `json:"acked"`
	Failed        int `json:"failed"`
	Indeterminate int `json:"indeterminate"`
	// Applied: increments in the drain's chains; IndeterminateApplied
	// those of them whose outcome was unknown.
	Applied              int  `json:"applied"`
	IndeterminateApplied int  `json:"indeterminate_applied"`
	DrainComplete        bool `json:"drain_complete"`
	Unhealed             bool `json:"unhealed,omitempty"`
	// The anomalies, in the drain's copy: acked increments missing (Lost),
	// increments applied more than once (Duplicated), failed ones applied
	// (FailedApplied), acked ones stored away from their ack's sequence or
	// total (AckMismatch), totals that are not the previous total plus
	// the increment (ChainBreaks), stored increments never published or
	// stored with another increment or counter (Unexpected), counters
	// whose final value is not their chain's last total (FinalMismatch).
	Lost          int `json:"lost"`
	Duplicated    int `json:"duplicated"`
	FailedApplied int `json:"failed_applied"`
	AckMismatch   int `json:"ack_mismatch"`
	ChainBreaks   int `json:"chain_breaks"`
	Unexpected    int `json:"unexpected"`
	FinalMismatch int `json:"final_mismatch"`
	// Disagreements: counters whose chains differ between complete copies.
	Disagreements int `json:"disagreements"`
	// Values are each counter's final value (the leader's), its chain's
	// last total in the drain, the sum of its acked increments and how
	// many increments its chain holds, by counter index.
	Values    map[string]CounterValue    `json:"values,omitempty"`
	Anomalies []string                   `json:"anomalies,omitempty"`
	Nodes     map[string]CounterNodeStat `json:"nodes,omitempty"`
	Malformed int                        `json:"malformed,omitempty"`
	// MalformedExamples are the first malformed ops.
	MalformedExamples []string `json:"malformed_examples,omitempty"`
}

// CounterValue is one counter at the end.
type CounterValue struct {
	Final     int64 `json:"final"`
	HasFinal  bool  `json:"has_final"`
	ChainLast int64 `json:"chain_last"`
	AckedSum  int64 `json:"acked_sum"`
	Links     int   `json:"links"`
}

// CounterNodeStat is one replica's copy.
type CounterNodeStat struct {
	Complete      bool `json:"complete"`
	Applied       int  `json:"applied"`
	Lost          int  `json:"lost"`
	Duplicated    int  `json:"duplicated"`
	FailedApplied int  `json:"failed_applied"`
	AckMismatch   int  `json:"ack_mismatch"`
	ChainBreaks   int  `json:"chain_breaks"`
	Unexpected    int  `json:"unexpected"`
}

// AddTo sets the counters section.
func (s CounterStats) AddTo(out *Sections) { out.Counters = &s }

// Result implements Checker.
func (c *Counter) Result(ctx context.Context) Result {
	return judge(ctx, "counter", c.stats, counterVerdict)
}

// judgeCounterCopy counts one copy's anomalies into n, with examples.
func (c *Counter) judgeCounterCopy(name string, cc *counterCopy, n *CounterNodeStat, ex *[]string) {
	note := func(format string, args ...any) {
		if len(*ex) < 20 {
			*ex = append(*ex, name+": "+fmt.Sprintf(format, args...))
		}
	}
	seen := make([]uint8, len(c.incs))
	at := make([]counterLink, len(c.incs))
	for _, k := range slices.Sorted(maps.Keys(cc.chains)) {
		var prev int64
		for _, l := range cc.chains[k] {
			if l.total != prev+l.incr {
				n.ChainBreaks++
				note("counter %d at seq %d: total %d is not %d + %d (increment %s)", k, l.seq, l.total, prev, l.incr, l.opStr)
			}
			prev = l.total
			switch {
			case l.op < 0:
				n.Unexpected++
				note("counter %d at seq %d: increment %s (%+d) was never published", k, l.seq, l.opStr, l.incr)
				continue
			case c.incs[l.op].incr != l.incr || int(c.incs[l.op].k) != k:
				n.Unexpected++
				note("counter %d at seq %d: increment %s stored as %+d, published as %+d to counter %d", k, l.seq, l.opStr, l.incr, c.incs[l.op].incr, c.incs[l.op].k)
				continue
			}
			if seen[l.op] < 255 {
				seen[l.op]++
			}
			at[l.op] = l
		}
	}
	n.Unexpected += len(cc.foreign)
	for _, f := range cc.foreign[:min(len(cc.foreign), 3)] {
		note("%q is no counter increment", f)
	}
	for id, in := range c.incs {
		switch {
		case seen[id] > 1:
			n.Duplicated++
			note("increment %s (%+d to counter %d) applied %d times", c.opName(int32(id)), in.incr, in.k, seen[id])
		case seen[id] == 1 && in.out == outFail:
			n.FailedApplied++
			note("increment %s (%+d to counter %d) failed but is applied at seq %d", c.opName(int32(id)), in.incr, in.k, at[id].seq)
		case seen[id] == 1 && in.out == outOK && (at[id].seq != in.ackSeq || at[id].total != in.ackTotal):
			n.AckMismatch++
			note("increment %s acked at seq %d with total %d, stored at seq %d with total %d", c.opName(int32(id)), in.ackSeq, in.ackTotal, at[id].seq, at[id].total)
		case seen[id] == 0 && in.out == outOK && cc.complete:
			n.Lost++
			note("acked increment %s (%+d to counter %d, ack seq %d, total %d) is not applied", c.opName(int32(id)), in.incr, in.k, in.ackSeq, in.ackTotal)
		}
		if seen[id] > 0 {
			n.Applied++
		}
	}
}

// opName is increment id's "P-C" (one lookup: only for a few examples).
func (c *Counter) opName(id int32) string { return c.ids.Names([]int32{id})[id] }

func (c *Counter) stats() CounterStats {
	s := CounterStats{Unhealed: c.unhealed, Malformed: c.bad.n, MalformedExamples: c.bad.ex}
	drain := c.copies.drain()
	s.DrainComplete = drain.complete
	sums := map[int]int64{}
	for _, in := range c.incs {
		s.Increments++
		switch in.out {
		case outOK:
			s.Acked++
			sums[int(in.k)] += in.incr
		case outFail:
			s.Failed++
		case outInfo:
			s.Indeterminate++
		}
	}
	var d CounterNodeStat
	c.judgeCounterCopy("the drain", drain, &d, &s.Anomalies)
	s.Lost, s.Duplicated, s.FailedApplied, s.AckMismatch = d.Lost, d.Duplicated, d.FailedApplied, d.AckMismatch
	s.ChainBreaks, s.Unexpected, s.Applied = d.ChainBreaks, d.Unexpected, d.Applied
	for _, l := range slices.Concat(slices.Collect(maps.Values(drain.chains))...) {
		if l.op >= 0 && c.incs[l.op].out == outInfo {
			s.IndeterminateApplied++
		}
	}
	keys := map[int]bool{}
	for k := range drain.chains {
		keys[k] = true
	}
	for k := range c.finals {
		keys[k] = true
	}
	for k := range sums {
		keys[k] = true
	}
	s.Values = map[string]CounterValue{}
	sorted := slices.Sorted(maps.Keys(keys))
	for _, k := range sorted {
		v := CounterValue{AckedSum: sums[k], Links: len(drain.chains[k])}
		if ch := drain.chains[k]; len(ch) > 0 {
			v.ChainLast = ch[len(ch)-1].total
		}
		if f, ok := c.finals[k]; ok {
			v.Final, v.HasFinal = f.total, true
		}
		if drain.complete && (v.HasFinal != (v.Links > 0) || v.Final != v.ChainLast) {
			s.FinalMismatch++
			if len(s.Anomalies) < 20 {
				s.Anomalies = append(s.Anomalies, fmt.Sprintf("counter %d: final value %d (read: %v), its chain ends at %d (%d increments)", k, v.Final, v.HasFinal, v.ChainLast, v.Links))
			}
		}
		s.Values[fmt.Sprint(k)] = v
	}
	// Every replica's own copy, and whether the complete copies agree.
	for _, name := range c.copies.nodeNames() {
		if s.Nodes == nil {
			s.Nodes = map[string]CounterNodeStat{}
		}
		cc := c.copies.node(name)
		n := CounterNodeStat{Complete: cc.complete}
		c.judgeCounterCopy(name, cc, &n, &s.Anomalies)
		s.Nodes[name] = n
	}
	names, complete := c.copies.complete()
	for _, k := range sorted {
		for i := 1; i < len(complete); i++ {
			a, b := complete[0].chains[k], complete[i].chains[k]
			if j := chainDiff(a, b); j >= 0 {
				s.Disagreements++
				if len(s.Anomalies) < 20 {
					s.Anomalies = append(s.Anomalies, fmt.Sprintf("counter %d: %s and %s differ from link %d of its chain on (%s vs %s)",
						k, names[0], names[i], j+1, linkAt(a, j), linkAt(b, j)))
				}
				break
			}
		}
	}
	return s
}

// chainDiff is the first index where two chains differ, -1 when equal.
func chainDiff(a, b []counterLink) int {
	for i := range min(len(a), len(b)) {
		if a[i].seq != b[i].seq || a[i].opStr != b[i].opStr || a[i].incr != b[i].incr || a[i].total != b[i].total {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func linkAt(ch []counterLink, i int) string {
	if i >= len(ch) {
		return "none"
	}
	l := ch[i]
	return fmt.Sprintf("seq %d %s %+d = %d", l.seq, l.opStr, l.incr, l.total)
}

func counterVerdict(s CounterStats) (Verdict, string) {
	var vals []string
	for _, k := range slices.Sorted(maps.Keys(s.Values)) {
		v := s.Values[k]
		vals = append(vals, fmt.Sprintf("c%s=%d", k, v.Final))
	}
	summary := fmt.Sprintf("%d increments attempted, %d acked, %d failed, %d indeterminate; %d applied (%d of them indeterminate); final values %s",
		s.Increments, s.Acked, s.Failed, s.Indeterminate, s.Applied, s.IndeterminateApplied, strings.Join(vals, " "))
	var p problems
	lost := s.Lost
	if s.Unhealed {
		lost = 0 // on a cluster that never healed a missing one is not proven lost
	}
	p.add(lost, "acked increments LOST")
	p.add(s.Duplicated, "increments applied more than once (DUPLICATED)")
	p.add(s.FailedApplied, "increments whose publish FAILED are applied")
	p.add(s.AckMismatch, "acked increments stored away from their ack's sequence or total (ACK MISMATCH)")
	p.add(s.ChainBreaks, "totals that are not the previous total plus the increment (CHAIN BROKEN)")
	p.add(s.Unexpected, "stored increments never published as stored (UNEXPECTED)")
	p.add(s.FinalMismatch, "counters whose final value is not their chain's last total")
	var incomplete []string
	for _, name := range slices.Sorted(maps.Keys(s.Nodes)) {
		n := s.Nodes[name]
		if !n.Complete {
			incomplete = append(incomplete, name)
		}
		if !s.Unhealed {
			p.add(n.Lost, "acked increments missing from %s's copy", name)
		}
		p.add(n.Duplicated, "increments applied more than once on %s", name)
		p.add(n.FailedApplied, "failed increments applied on %s", name)
		p.add(n.AckMismatch, "ack mismatches on %s", name)
		p.add(n.ChainBreaks, "chain breaks on %s", name)
		p.add(n.Unexpected, "unexpected increments on %s", name)
	}
	p.add(s.Disagreements, "counters whose chains the copies DISAGREE on (split brain)")
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), p.withFirst(s.Anomalies), summary); ok {
		return v, msg
	}
	if why := copiesUnknown(s.DrainComplete, s.Unhealed, s.Lost, incomplete, "increments"); why != "" {
		return Unknown, why + "; " + summary
	}
	if len(s.Nodes) == 0 {
		summary += "; no replica's own copy read (final.per_node off)"
	}
	return Valid, summary
}
