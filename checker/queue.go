package checker

import (
	"fmt"
	"slices"
	"time"

	"jetstorm/history"
)

// Queue checks the queue workload against the final drain: every
// acknowledged publish must be read, nothing may be read that was never
// published, a publish reported as failed must not be read, and the acked
// writes of one process must be stored in the order it published them.
// Duplicates are reported but allowed: JetStream delivery is at-least-once.
//
// Lost writes are broken down per writing process as Jepsen's NATS test
// does. A process is the op's Process: a sequential run of publishes, each
// invoked after the previous one completed (a client retires its process
// after an indeterminate op and continues as a new one). Take the process's
// published values in invoke order and the first and last of them that were
// read, whatever their publish outcome (as in Jepsen: an indeterminate
// publish that was read was stored after every earlier ack). A lost value
// before the first is lost-prefix (the stream "started over"), after the
// last is lost-postfix (possibly a slow or short reader; this includes every
// lost value of a process none of whose values was read), and between them
// lost-middle: a later write of the same process survived while this one
// vanished, the worst kind.
//
// Queue is a Checker: use a new &Queue{} per history. Values, when set,
// is shared with the other observers of the history (the per-node check,
// the report's digest): see View.
type Queue struct {
	Values  *Values
	a       queueAnalysis
	deletes retention
}

func (*Queue) Name() string { return "queue" }

// Observe implements Checker: what each value's publishes and reads say
// goes to the values; the drain's reads by node and its stale reads stay
// here.
func (q *Queue) Observe(op history.Op) {
	if q.a.view.V == nil {
		q.a.view.V = q.Values
	}
	q.deletes.observe(op)
	q.a.observe(op)
}

// maxValues caps the example lists so a catastrophic run stays reportable.
const maxValues = 100

// QueueStats is what AnalyzeQueue finds; Queue.Result returns it as Details.
// Publish counts (Acked+Failed+Indeterminate = Attempted) count operations;
// the read-side counts count distinct values.
type QueueStats struct {
	Attempted     int `json:"attempted"`       // publish invokes
	Acked         int `json:"acked"`           // OK publishes
	Failed        int `json:"failed"`          // Fail publishes
	Indeterminate int `json:"indeterminate"`   // Info publishes (and invokes never completed)
	Read          int `json:"read"`            // distinct values read
	Lost          int `json:"lost"`            // acked, never read
	LostPrefix    int `json:"lost_prefix"`     // lost, before its process's first read value
	LostMiddle    int `json:"lost_middle"`     // lost, between its process's first and last read values
	LostPostfix   int `json:"lost_postfix"`    // lost, after its process's last read value (or none was read)
	Recovered     int `json:"recovered"`       // indeterminate, but read
	Unexpected    int `json:"unexpected"`      // read, never attempted
	Duplicated    int `json:"duplicated"`      // distinct values read more than once
	FailedButRead int `json:"failed_but_read"` // a Fail publish whose value was read: the failure was a lie

	// OrderViolations counts, per process, consecutive acked-and-read values
	// (in publish order) whose read stream sequences do not increase. Each
	// was acked before the next was invoked, so must be stored before it.
	OrderViolations int      `json:"order_violations"`
	OrderExamples   []string `json:"order_examples,omitempty"` // first 10, in publish order of the later value

	LostValues          []string `json:"lost_values"`                      // first 100, in publish (history) order
	UnexpectedValues    []string `json:"unexpected_values,omitempty"`      // first 100, in read order
	DuplicatedValues    []string `json:"duplicated_values,omitempty"`      // first 100, in read order
	FailedButReadValues []string `json:"failed_but_read_values,omitempty"` // first 100, in publish order

	DrainComplete bool `json:"drain_complete"`

	// ReadsByNode counts the final drain's reads per node that served them
	// (the consumer's host, or the stream leader).
	ReadsByNode map[string]int `json:"reads_by_node,omitempty"`

	// Where the lost values are, from the per-node reads of every replica's
	// own copy (all zero when there were none): LostOnReplicas are still on
	// some replica ("lost to clients": the cluster did not repair them),
	// LostHolders counts them per node; LostOnNoReplica are on no replica
	// that was read.
	LostOnReplicas  int            `json:"lost_on_replicas,omitempty"`
	LostOnNoReplica int            `json:"lost_on_no_replica,omitempty"`
	LostHolders     map[string]int `json:"lost_holders,omitempty"`
	// Unhealed: the cluster was not healthy after the final heal (a
	// recover op with outcome info). Then only lost values that no
	// replica read holds, with at least one replica read completely, are
	// proven (LostProven); the rest are acked but unread, and the verdict
	// is at best unknown.
	Unhealed   bool `json:"unhealed,omitempty"`
	LostProven int  `json:"lost_proven,omitempty"`

	// StaleReads: a drain consumer claimed the end of the stream before
	// the leader's last sequence (its host was behind). Allowed, unless
	// the host's own copy already held what it hid (StaleReadsHiding).
	StaleReads       []StaleRead `json:"stale_reads,omitempty"` // first 20
	StaleReadCount   int         `json:"stale_read_count,omitempty"`
	StaleReadsHiding int         `json:"stale_reads_hiding,omitempty"`

	// Malformed counts ops that break the publish protocol (a completion
	// without an invoke, a second invoke while one is outstanding, a
	// non-string value). Any makes the verdict Unknown.
	Malformed         int      `json:"malformed,omitempty"`
	MalformedExamples []string `json:"malformed_examples,omitempty"` // first 10

	// Exactly-once publishing (the workload's exactly_once: a publish
	// whose outcome is unknown is retried with the same Nats-Msg-Id):
	// Retries counts the attempts sent again; a duplicate is inside the
	// stream's duplicate window (DuplicatedInWindow, invalid) when every
	// publish, first attempt to last completion, fits in the window, so
	// the server had to recognise each retry; otherwise it is reported as
	// possibly outside it (DuplicatedOutsideWindow, expected).
	ExactlyOnce             bool  `json:"exactly_once,omitempty"`
	DuplicateWindowMs       int64 `json:"duplicate_window_ms,omitempty"`
	Retries                 int   `json:"retries,omitempty"`
	DuplicatedInWindow      int   `json:"duplicated_in_window,omitempty"`
	DuplicatedOutsideWindow int   `json:"duplicated_outside_window,omitempty"`
}

// procState is one writing process's walk through its values, in publish
// invoke order.
type procState struct {
	first, last int // positions of its first and last read values; -1: none
}

// queueAnalysis is AnalyzeQueue's state between ops: the values (shared
// or its own) and what only the queue check needs. The zero value is
// ready.
type queueAnalysis struct {
	s    QueueStats
	view View
	pos  int64 // ops observed
	// Malformed stale reads (the values hold the publish protocol's).
	bad []BadOp
	// The publishes' span: the earliest invoke, the latest completion.
	pubFrom, pubTo time.Duration
	pubSeen        bool
}

// AnalyzeQueue computes QueueStats in one pass over h, then passes over the
// distinct values.
func AnalyzeQueue(h []history.Op) QueueStats {
	var a queueAnalysis
	for _, op := range h {
		a.observe(op)
	}
	return a.stats()
}

// observe takes in one op of the history.
func (a *queueAnalysis) observe(op history.Op) {
	a.view.Observe(op)
	a.pos++
	s := &a.s
	switch op.F {
	case history.FRead:
		if _, ok := op.Value.(string); ok && op.Type == history.OK && op.Node != "" {
			if s.ReadsByNode == nil {
				s.ReadsByNode = map[string]int{}
			}
			s.ReadsByNode[op.Node]++
		}
	case history.FDrain:
		if op.Type == history.OK {
			s.DrainComplete = true
		}
	case history.FRecover:
		s.Unhealed = op.Type == history.Info
	case history.FPublish:
		if !a.pubSeen || op.Time < a.pubFrom {
			a.pubFrom = op.Time
		}
		a.pubTo, a.pubSeen = max(a.pubTo, op.Time), true
	case history.FDedup:
		var d history.Dedup
		if err := op.Decode(&d); err != nil || d.WindowMs <= 0 {
			a.bad = append(a.bad, BadOp{Pos: a.pos - 1, Msg: fmt.Sprintf("op %d: dedup %v is no duplicate window", op.Index, op.Value)})
			return
		}
		s.ExactlyOnce, s.DuplicateWindowMs = true, d.WindowMs
	case history.FPublishRetry:
		s.Retries++
	case history.FStaleRead:
		var sr StaleRead
		if err := op.Decode(&sr.StaleRead); err != nil || op.Node == "" || sr.ClaimedEnd >= sr.LeaderLast {
			a.bad = append(a.bad, BadOp{Pos: a.pos - 1, Msg: fmt.Sprintf("op %d: stale-read %v on node %q is not a stale read", op.Index, op.Value, op.Node)})
			return
		}
		sr.Node, sr.Behind = op.Node, sr.LeaderLast-sr.ClaimedEnd
		sr.Hid = sr.Confirmed && sr.NodeLastErr == "" && sr.NodeLast >= sr.LeaderLast
		s.StaleReadCount++
		if sr.Hid {
			s.StaleReadsHiding++
		}
		if len(s.StaleReads) < maxNodeValues {
			s.StaleReads = append(s.StaleReads, sr)
		}
	}
}

// mergeBad is the malformed examples of two lists in history order, the
// first 10, and their count.
func mergeBad(x []BadOp, xn int, y []BadOp) (int, []string) {
	n := xn + len(y)
	var out []string
	for len(out) < 10 && (len(x) > 0 || len(y) > 0) {
		if len(y) == 0 || (len(x) > 0 && x[0].Pos < y[0].Pos) {
			out, x = append(out, x[0].Msg), x[1:]
		} else {
			out, y = append(out, y[0].Msg), y[1:]
		}
	}
	return n, out
}

// orderViolation is a pair of one process's consecutive acked values
// stored out of order: later was published after earlier.
type orderViolation struct {
	proc           int
	later, earlier int32
	pos            int // later's position in publish order
}

// stats finishes the analysis, once, after the last op.
func (a *queueAnalysis) stats() QueueStats {
	if a.view.V == nil {
		a.view.V = &Values{}
	}
	v, s := a.view.V, &a.s
	v.Finish()
	s.LostValues = []string{} // "lost_values": [] rather than null
	s.Attempted, s.Acked, s.Failed, s.Indeterminate = v.Attempted, v.Acked, v.Failed, v.Indeterminate
	s.Read, s.Duplicated = v.Read, v.Duplicated
	s.DuplicatedValues = v.DuplicatedValues
	if s.ExactlyOnce {
		if a.pubTo-a.pubFrom < time.Duration(s.DuplicateWindowMs)*time.Millisecond {
			s.DuplicatedInWindow = s.Duplicated
		} else {
			s.DuplicatedOutsideWindow = s.Duplicated
		}
	}
	s.Malformed, s.MalformedExamples = mergeBad(v.Bad, v.BadCount, a.bad)
	if s.Malformed == 0 {
		s.MalformedExamples = nil
	}
	var nodes []ValuesNode
	for _, n := range v.Nodes() {
		if n.OK {
			nodes = append(nodes, n)
		}
	}
	pubPos := v.PubPosition()

	// Each process's values in publish order: where its read values start
	// and end, and whether its acked ones were stored in order (the first
	// ten violations in publish order are kept).
	procs := make([]procState, v.Processes())
	var order []orderViolation
	for p := range procs {
		ps := &procs[p]
		ps.first, ps.last = -1, -1
		prev := int32(-1) // its last acked, read value with a known seq
		pos := 0
		for id := range v.ProcessValues(p) {
			pos++
			if v.Reads(id) == 0 {
				continue
			}
			if ps.first < 0 {
				ps.first = pos - 1
			}
			ps.last = pos - 1
			seq := v.Seq(id)
			if v.Outcome(id) != outOK || seq == 0 {
				continue
			}
			if prev >= 0 && seq <= v.Seq(prev) {
				s.OrderViolations++
				ov := orderViolation{v.Process(p), id, prev, pubPos(id)}
				i, _ := slices.BinarySearchFunc(order, ov.pos, func(o orderViolation, pos int) int { return o.pos - pos })
				if i < 10 {
					order = slices.Insert(order, i, ov)[:min(len(order)+1, 10)]
				}
			}
			prev = id
		}
	}
	// Then each lost, recovered or failed-but-read value, counted.
	for p := range procs {
		ps := &procs[p]
		pos := 0
		for id := range v.ProcessValues(p) {
			pos++
			out, read := v.Outcome(id), v.Reads(id) > 0
			switch {
			case out == outOK && !read:
				s.Lost++
				switch {
				case pos-1 < ps.first:
					s.LostPrefix++
				case ps.first < 0 || pos-1 > ps.last:
					s.LostPostfix++
				default:
					s.LostMiddle++
				}
				held, complete := false, false
				for _, n := range nodes {
					complete = complete || n.Complete
					if n.Has.Has(id) {
						held = true
						if s.LostHolders == nil {
							s.LostHolders = map[string]int{}
						}
						s.LostHolders[n.Name]++
					}
				}
				switch {
				case held:
					s.LostOnReplicas++
				case len(nodes) > 0:
					s.LostOnNoReplica++
				}
				// Missing from every complete replica (and from the leader's
				// read): proven lost even though the cluster never healed.
				if s.Unhealed && complete && !held {
					s.LostProven++
				}
			case out == outInfo && read:
				s.Recovered++
			case out == outFail && read:
				s.FailedButRead++
			}
		}
	}
	// The example lists, in publish (or read) order, named at the end.
	var lost, failedRead, unexpected []int32
	for id := range v.PubOrder {
		if len(lost) == maxValues && len(failedRead) == maxValues {
			break
		}
		out, read := v.Outcome(id), v.Reads(id) > 0
		switch {
		case out == outOK && !read && len(lost) < maxValues:
			lost = append(lost, id)
		case out == outFail && read && len(failedRead) < maxValues:
			failedRead = append(failedRead, id)
		}
	}
	for _, id := range v.ReadEarly() {
		if !v.Published(id) {
			s.Unexpected++
			if len(unexpected) < maxValues {
				unexpected = append(unexpected, id)
			}
		}
	}
	want := slices.Concat(lost, failedRead, unexpected)
	for _, o := range order {
		want = append(want, o.later, o.earlier)
	}
	names := v.IDs.Names(want)
	for _, id := range lost {
		s.LostValues = append(s.LostValues, names[id])
	}
	for _, id := range failedRead {
		s.FailedButReadValues = append(s.FailedButReadValues, names[id])
	}
	for _, id := range unexpected {
		s.UnexpectedValues = append(s.UnexpectedValues, names[id])
	}
	for _, o := range order {
		s.OrderExamples = append(s.OrderExamples, fmt.Sprintf("process %d: %s (seq %d) read before %s (seq %d)",
			o.proc, names[o.later], v.Seq(o.later), names[o.earlier], v.Seq(o.earlier)))
	}
	return *s
}
