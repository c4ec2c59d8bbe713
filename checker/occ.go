package checker

// OCC: the optimistic-concurrency (event sourcing) checker.
//
// The occ workload appends to per-entity subjects with
// Nats-Expected-Last-Subject-Sequence and reads each entity's last message
// from the stream leader. Each entity is an append-only log whose state,
// for every operation, is its last sequence: an append expecting e
// succeeds exactly when the last sequence is e, and makes it the append's
// own sequence; a read returns it. Two checks:
//
//  1. The logs, in linear time. The drains read every copy of the stream
//     (the drain's and each replica's), and each stored append keeps the
//     expected sequence it was sent with: it must be the sequence of the
//     entity's previous message (0 for its first), else the server applied
//     an append against a last sequence that was not the current one
//     (chain broken). Every acked append is stored once at its ack's
//     sequence (else lost or misplaced), no failed one is, every stored
//     one was published (unexpected), a read's message is the one the log
//     holds at its sequence, and complete copies hold the same logs.
//
//  2. Linearizability, with porcupine, partitioned by entity, over the
//     model state "last sequence": an ok append expecting e requires the
//     state e and sets its sequence; an append rejected with the server's
//     wrong-last-sequence answer requires a state other than e at some
//     point of its call; a read requires its sequence. An append whose
//     outcome is unknown is placed by the drain: stored at s, it is an
//     append to s that returned by the first op that observed s (a read of
//     s, an ok append expecting s) or never; not stored, it never happened.
//     Other failures say nothing of the state and are dropped. A timeout is
//     unknown, never a silent valid.

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"

	"jetstorm/history"
)

// OCC checks the occ workload's history (see the comment at the top of
// occ.go). A new one per history.
type OCC struct {
	Timeout time.Duration // porcupine's budget; 0 = DefaultLinearizableTimeout

	ids     history.ValueIDs
	appends []occAppend // by append id
	reads   []occRead
	pending map[int]occPending // by process: its invoke not completed yet
	copies  copies[occLog, *occLog]
	bad     badOps
}

type occAppend struct {
	k         int
	expect    uint64
	seq       uint64 // ok: the ack's
	out       outcome
	wrong     bool // failed with the server's wrong-last-sequence answer
	call, ret int64
}

type occRead struct {
	k         int
	seq       uint64
	op        string // "-": none
	call, ret int64
}

type occPending struct {
	append int32 // the append's id; -1: a read
	k      int
	call   int64
}

// occLog is one copy of the stream as read back: each entity's messages
// in sequence order.
type occLog struct {
	copyHead
	logs    map[int][]occStored
	foreign []string
}

type occStored struct {
	seq    uint64
	op     int32 // -1: no such append was published
	opStr  string
	expect uint64
}

func (*OCC) Name() string { return "occ" }

// Observe implements Checker.
func (c *OCC) Observe(op history.Op) {
	switch op.F {
	case history.FOCCAppend, history.FOCCRead:
		c.call(op)
	default:
		c.copies.observe(op, func(l *occLog, op history.Op) { l.read(c, op) })
	}
}

func (c *OCC) call(op history.Op) {
	if c.pending == nil {
		c.pending = map[int]occPending{}
	}
	e, ok := history.ParseOCCEntry(op.ValueString())
	if !ok {
		c.bad.add(op, "not an occ value")
		return
	}
	if op.Type == history.Invoke {
		if _, open := c.pending[op.Process]; open {
			c.bad.add(op, "a second invoke while one is outstanding")
		}
		p := occPending{append: -1, k: e.K, call: op.Index}
		if op.F == history.FOCCAppend {
			// Ids are handed out here only, densely: append id is
			// c.appends[id].
			id, _, isNew := c.ids.IDKey(e.Op)
			if !isNew {
				c.bad.add(op, "append published twice")
				return
			}
			c.appends = append(c.appends, occAppend{k: e.K, expect: e.Expect, call: op.Index, ret: math.MaxInt64})
			p.append = id
		}
		c.pending[op.Process] = p
		return
	}
	p, open := c.pending[op.Process]
	if !open || (p.append >= 0) != (op.F == history.FOCCAppend) || p.k != e.K {
		c.bad.add(op, "completion without its invoke")
		return
	}
	delete(c.pending, op.Process)
	if p.append < 0 {
		if op.Type == history.OK {
			c.reads = append(c.reads, occRead{k: e.K, seq: op.Seq, op: e.Op, call: p.call, ret: op.Index})
		}
		return
	}
	a := &c.appends[p.append]
	switch op.Type {
	case history.OK:
		a.out, a.seq, a.ret = outOK, op.Seq, op.Index
	case history.Fail:
		a.out, a.wrong, a.ret = outFail, casFailIsPrecondition(op.Err), op.Index
	default:
		a.out = outInfo
	}
}

func (l *occLog) read(c *OCC, op history.Op) {
	e, ok := history.ParseOCCEntry(op.ValueString())
	if !ok || e.Op == "" {
		if len(l.foreign) < 10 {
			l.foreign = append(l.foreign, op.ValueString())
		}
		return
	}
	if l.logs == nil {
		l.logs = map[int][]occStored{}
	}
	s := occStored{seq: op.Seq, op: -1, opStr: e.Op, expect: e.Expect}
	if id, ok := c.ids.Lookup(e.Op); ok {
		s.op = id
	}
	l.logs[e.K] = append(l.logs[e.K], s)
}

// OCCStats are the occ check's figures (results.json "occ").
type OCCStats struct {
	Appends       int `json:"appends"`       // attempted
	Acked         int `json:"acked"`         // ok
	Rejected      int `json:"rejected"`      // failed with the wrong-last-sequence answer
	Failed        int `json:"failed"`        // other definite failures
	Indeterminate int `json:"indeterminate"` // unknown outcome (or never completed)
	Reads         int `json:"reads"`         // ok reads
	// Stored: appends the drain's logs hold; IndeterminateStored those
	// of them whose outcome was unknown.
	Stored              int  `json:"stored"`
	IndeterminateStored int  `json:"indeterminate_stored"`
	DrainComplete       bool `json:"drain_complete"`
	// The log anomalies of the drain's copy: acked appends missing (Lost) or
	// stored elsewhere than their ack's sequence (Misplaced), stored
	// appends whose expected sequence is not their entity's previous
	// message (ChainBroken), stored twice (Duplicated), failed ones
	// stored (FailedStored), never published (Unexpected), reads of a
	// message the log does not hold at that sequence (ReadMismatch),
	// entities whose logs differ between complete copies (Disagreements).
	Lost          int `json:"lost"`
	Misplaced     int `json:"misplaced"`
	ChainBroken   int `json:"chain_broken"`
	Duplicated    int `json:"duplicated"`
	FailedStored  int `json:"failed_stored"`
	Unexpected    int `json:"unexpected"`
	ReadMismatch  int `json:"read_mismatch"`
	Disagreements int `json:"disagreements"`
	// Nodes are each replica's own copy: whether its read completed, and
	// how many of the anomalies above it holds.
	Nodes map[string]OCCNodeStats `json:"nodes,omitempty"`
	// Linearizability (porcupine, per entity): ok, illegal or unknown,
	// and the entities without a linearization.
	Linearizable    string   `json:"linearizable"`
	IllegalEntities []int    `json:"illegal_entities,omitempty"`
	CheckedIn       string   `json:"-"` // in the message only (results stay comparable)
	Anomalies       []string `json:"anomalies,omitempty"`
	Malformed       int      `json:"malformed,omitempty"`
	// MalformedExamples are the first malformed ops.
	MalformedExamples []string `json:"malformed_examples,omitempty"`
}

// OCCNodeStats are one replica's copy of the logs.
type OCCNodeStats struct {
	Complete  bool `json:"complete"`
	Anomalies int  `json:"anomalies"`
}

// AddTo sets the occ section.
func (s OCCStats) AddTo(out *Sections) { out.OCC = &s }

// Result implements Checker.
func (c *OCC) Result(ctx context.Context) Result {
	if err := ctx.Err(); err != nil {
		return Result{Name: c.Name(), Verdict: Unknown, Message: "not checked: " + err.Error()}
	}
	s := c.stats(ctx)
	v, msg := occVerdict(s)
	return Result{Name: c.Name(), Verdict: v, Message: msg, Details: s}
}

func (c *OCC) opName(id int32) string { return c.ids.Names([]int32{id})[id] }

// judgeLog counts one copy's log anomalies into s (and its examples).
func (c *OCC) judgeLog(name string, l *occLog, s *OCCStats, drain bool) {
	note := func(format string, args ...any) {
		if len(s.Anomalies) < 20 {
			s.Anomalies = append(s.Anomalies, name+": "+fmt.Sprintf(format, args...))
		}
	}
	count := make([]uint8, len(c.appends))
	at := make([]uint64, len(c.appends))
	for _, k := range slices.Sorted(maps.Keys(l.logs)) {
		var prev uint64
		for _, m := range l.logs[k] {
			if m.expect != prev {
				s.ChainBroken++
				note("entity %d: %s stored at seq %d expecting %d, but the entity's previous message is at %d", k, m.opStr, m.seq, m.expect, prev)
			}
			prev = m.seq
			if m.op < 0 || c.appends[m.op].k != k {
				s.Unexpected++
				note("entity %d: %s at seq %d was never appended to it", k, m.opStr, m.seq)
				continue
			}
			if count[m.op] < 255 {
				count[m.op]++
			}
			at[m.op] = m.seq
		}
	}
	s.Unexpected += len(l.foreign)
	for id, a := range c.appends {
		switch {
		case count[id] > 1:
			s.Duplicated++
			note("%s stored %d times", c.opName(int32(id)), count[id])
		case count[id] == 1 && a.out == outFail:
			s.FailedStored++
			note("%s failed but is stored at seq %d", c.opName(int32(id)), at[id])
		case count[id] == 1 && a.out == outOK && at[id] != a.seq:
			s.Misplaced++
			note("%s acked at seq %d, stored at %d", c.opName(int32(id)), a.seq, at[id])
		case count[id] == 0 && a.out == outOK && l.complete:
			s.Lost++
			note("%s acked at seq %d (entity %d) is not stored", c.opName(int32(id)), a.seq, a.k)
		}
		if drain && count[id] > 0 {
			s.Stored++
			if a.out == outInfo {
				s.IndeterminateStored++
			}
		}
	}
	if !l.complete {
		return
	}
	// A read's message must be the one the log holds at its sequence.
	bySeq := map[uint64]string{}
	for _, log := range l.logs {
		for _, m := range log {
			bySeq[m.seq] = m.opStr
		}
	}
	for _, r := range c.reads {
		if r.seq == 0 {
			continue
		}
		if got, ok := bySeq[r.seq]; !ok || got != r.op {
			s.ReadMismatch++
			note("a read of entity %d returned %s at seq %d; the log holds %q there", r.k, r.op, r.seq, got)
		}
	}
}

func (c *OCC) stats(ctx context.Context) OCCStats {
	s := OCCStats{Malformed: c.bad.n, MalformedExamples: c.bad.ex, Reads: len(c.reads)}
	for _, a := range c.appends {
		s.Appends++
		switch {
		case a.out == outOK:
			s.Acked++
		case a.out == outFail && a.wrong:
			s.Rejected++
		case a.out == outFail:
			s.Failed++
		default:
			s.Indeterminate++
		}
	}
	drain := c.copies.drain()
	s.DrainComplete = drain.complete
	c.judgeLog("the drain", drain, &s, true)
	for _, name := range c.copies.nodeNames() {
		var ns OCCStats
		l := c.copies.node(name)
		c.judgeLog(name, l, &ns, false)
		if s.Nodes == nil {
			s.Nodes = map[string]OCCNodeStats{}
		}
		s.Nodes[name] = OCCNodeStats{Complete: l.complete,
			Anomalies: ns.Lost + ns.Misplaced + ns.ChainBroken + ns.Duplicated + ns.FailedStored + ns.Unexpected + ns.ReadMismatch}
		for _, a := range ns.Anomalies {
			if len(s.Anomalies) < 20 {
				s.Anomalies = append(s.Anomalies, a)
			}
		}
	}
	names, complete := c.copies.complete()
	entities := map[int]bool{}
	for _, l := range complete {
		for k := range l.logs {
			entities[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(entities)) {
		for i := 1; i < len(complete); i++ {
			if !slices.Equal(complete[0].logs[k], complete[i].logs[k]) {
				s.Disagreements++
				if len(s.Anomalies) < 20 {
					s.Anomalies = append(s.Anomalies, fmt.Sprintf("entity %d: %s and %s hold different logs (%d and %d messages)",
						k, names[0], names[i], len(complete[0].logs[k]), len(complete[i].logs[k])))
				}
				break
			}
		}
	}
	if drain.complete {
		c.linearize(ctx, drain, &s)
	} else {
		s.Linearizable = "not checked: the drain is incomplete, so appends with unknown outcomes cannot be placed"
	}
	return s
}

// occInput and occOutput are a porcupine operation's input and output.
type occInput struct {
	read   bool
	k      int
	expect uint64
	name   string
}

type occOutput struct {
	seq    uint64
	failed bool // rejected: wrong last sequence
}

// occModel: one entity's last sequence.
var occModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		by := map[int][]porcupine.Operation{}
		for _, op := range ops {
			k := op.Input.(occInput).k
			by[k] = append(by[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range slices.Sorted(maps.Keys(by)) {
			out = append(out, by[k])
		}
		return out
	},
	Init: func() any { return uint64(0) },
	Step: func(state, input, output any) (bool, any) {
		last, in, out := state.(uint64), input.(occInput), output.(occOutput)
		switch {
		case in.read:
			return last == out.seq, last
		case out.failed:
			return last != in.expect, last
		}
		return last == in.expect, out.seq
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(occInput), output.(occOutput)
		switch {
		case in.read:
			return fmt.Sprintf("read entity %d → last seq %d", in.k, out.seq)
		case out.failed:
			return fmt.Sprintf("append %s expecting %d → rejected", in.name, in.expect)
		}
		return fmt.Sprintf("append %s expecting %d → seq %d", in.name, in.expect, out.seq)
	},
	DescribeState: func(state any) string { return fmt.Sprintf("last seq %d", state.(uint64)) },
}

// linearize runs porcupine over the appends and reads, the unknown
// appends placed by the drain's logs.
func (c *OCC) linearize(ctx context.Context, drain *occLog, s *OCCStats) {
	storedAt := map[int32]uint64{}
	for _, log := range drain.logs {
		for _, m := range log {
			if m.op >= 0 {
				storedAt[m.op] = m.seq
			}
		}
	}
	// The first return of an op that observed each (entity, sequence).
	type ks struct {
		k   int
		seq uint64
	}
	observed := map[ks]int64{}
	see := func(k int, seq uint64, ret int64) {
		if r, ok := observed[ks{k, seq}]; !ok || ret < r {
			observed[ks{k, seq}] = ret
		}
	}
	for _, r := range c.reads {
		see(r.k, r.seq, r.ret)
	}
	for _, a := range c.appends {
		if a.out == outOK {
			see(a.k, a.expect, a.ret)
		}
	}
	var ops []porcupine.Operation
	for id, a := range c.appends {
		in := occInput{k: a.k, expect: a.expect, name: c.opName(int32(id))}
		switch {
		case a.out == outOK:
			ops = append(ops, porcupine.Operation{Input: in, Call: a.call, Output: occOutput{seq: a.seq}, Return: a.ret})
		case a.out == outFail && a.wrong:
			ops = append(ops, porcupine.Operation{Input: in, Call: a.call, Output: occOutput{failed: true}, Return: a.ret})
		case a.out == outInfo:
			seq, stored := storedAt[int32(id)]
			if !stored {
				continue // never happened
			}
			ret := int64(math.MaxInt64)
			if r, ok := observed[ks{a.k, seq}]; ok {
				ret = r
			}
			ops = append(ops, porcupine.Operation{Input: in, Call: a.call, Output: occOutput{seq: seq}, Return: ret})
		}
	}
	for _, r := range c.reads {
		ops = append(ops, porcupine.Operation{Input: occInput{read: true, k: r.k}, Call: r.call, Output: occOutput{seq: r.seq}, Return: r.ret})
	}
	for i := range ops {
		ops[i].ClientId = i
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultLinearizableTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(occModel, ops, timeout)
	s.Linearizable, s.CheckedIn = string(res), time.Since(start).Round(10*time.Microsecond).String()
	if res == porcupine.Illegal {
		// PartialLinearizations has one entry per partition, in order.
		partials := info.PartialLinearizations()
		for i, part := range occModel.Partition(ops) {
			if !linearizedAll(partials[i], len(part)) {
				s.IllegalEntities = append(s.IllegalEntities, part[0].Input.(occInput).k)
			}
		}
	}
}

// linearizedAll: some partial linearization of a partition covers all n
// of its operations.
func linearizedAll(partials [][]int, n int) bool {
	for _, p := range partials {
		if len(p) == n {
			return true
		}
	}
	return false
}

func occVerdict(s OCCStats) (Verdict, string) {
	summary := fmt.Sprintf("%d appends attempted, %d acked, %d rejected (wrong last sequence), %d failed otherwise, %d indeterminate; %d reads; the drain holds %d (%d of them indeterminate)",
		s.Appends, s.Acked, s.Rejected, s.Failed, s.Indeterminate, s.Reads, s.Stored, s.IndeterminateStored)
	var p problems
	p.add(s.Lost, "acked appends LOST")
	p.add(s.Misplaced, "acked appends stored away from their ack's sequence")
	p.add(s.ChainBroken, "appends stored against a last sequence that was not the entity's (CHAIN BROKEN)")
	p.add(s.Duplicated, "appends stored more than once (DUPLICATED)")
	p.add(s.FailedStored, "appends whose publish FAILED are stored")
	p.add(s.Unexpected, "stored messages never appended (UNEXPECTED)")
	p.add(s.ReadMismatch, "reads of a message the log does not hold at that sequence")
	p.add(s.Disagreements, "entities whose logs the copies DISAGREE on (split brain)")
	var incomplete []string
	for _, name := range slices.Sorted(maps.Keys(s.Nodes)) {
		p.add(s.Nodes[name].Anomalies, "log anomalies on %s's copy", name)
		if !s.Nodes[name].Complete {
			incomplete = append(incomplete, name)
		}
	}
	if s.Linearizable == string(porcupine.Illegal) {
		p = append(p, fmt.Sprintf("NOT linearizable: no linearization for entity %v", s.IllegalEntities))
	}
	if v, msg, ok := anomalyVerdict(s.Malformed, firstOf(s.MalformedExamples), p.withFirst(s.Anomalies), summary); ok {
		return v, msg
	}
	if why := copiesUnknown(s.DrainComplete, false, 0, incomplete, "appends"); why != "" {
		return Unknown, why + "; " + summary
	}
	switch {
	case s.Linearizable != string(porcupine.Ok):
		return Unknown, "porcupine timed out: verdict unknown, never a silent valid; " + summary
	case s.Acked == 0:
		return Unknown, "no append was acked: nothing to check; " + summary
	}
	return Valid, fmt.Sprintf("linearizable, checked in %s: %s", s.CheckedIn, summary)
}
