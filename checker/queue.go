package checker

import (
	"fmt"

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
// Queue is a Checker: use a new &Queue{} per history.
type Queue struct {
	a       queueAnalysis
	deletes retention
}

func (*Queue) Name() string { return "queue" }

// Observe implements Checker: it keeps the publishes, reads, per-node reads
// and stale reads of op, by distinct value.
func (q *Queue) Observe(op history.Op) { q.deletes.observe(op); q.a.observe(op) }

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
}

// outcome is the strongest evidence about a value's publishes. It is ordered
// so that if one value is published more than once (a client retry), an OK
// ack (stored) beats Info (maybe) beats Fail (not stored).
type outcome uint8

const (
	outNone outcome = iota // invoked, not yet completed
	outFail
	outInfo
	outOK
)

// valState is what the history says about one distinct value (its string
// is a.ids.Value of its index). Fields are sized and ordered to keep it at
// 24 bytes: there is one per value.
type valState struct {
	seq   uint64 // lowest stream sequence it was read at (0: unread or unknown)
	proc  int32  // dense index of the process of its first publish invoke
	reads int32
	out   outcome
	pub   bool // at least one publish invoke
}

// procState is one writing process's walk through its values, in publish
// invoke order.
type procState struct {
	n, m        int32 // positions handed out in the first and second pass
	first, last int32 // positions of its first and last read values; -1: none
	prev        int32 // vals index of its last acked, read value with a known seq; -1: none
}

// queuePending is a process's outstanding publish.
type queuePending struct {
	val   int   // index into vals
	index int64 // the invoke op, for messages
}

// queueAnalysis is AnalyzeQueue's state between ops. Each value costs about
// two map operations: everything else indexes a slice, which matters at
// 1e6 ops (maps that size miss cache). The zero value is ready.
type queueAnalysis struct {
	s       QueueStats
	open    map[int]queuePending // process -> its outstanding publish
	procIdx map[int]int32        // process -> dense index into procIDs
	procIDs []int
	ids     history.ValueIDs  // value -> index into vals
	vals    chunked[valState] // in blocks: a slice of millions would be copied as it grows
	// vals indices in first-publish / first-read order: deterministic lists
	pubOrder, readOrder chunked[int32]
	// Per-node reads: which values each node's own copy holds.
	nodeIdx   map[string]int
	nodeNames []string
	nodeHas   []history.Bitset
	nodeDone  []bool
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

func (a *queueAnalysis) init() {
	if a.open == nil {
		a.s.LostValues = []string{} // "lost_values": [] rather than null
		a.open, a.procIdx, a.nodeIdx = map[int]queuePending{}, map[int]int32{}, map[string]int{}
	}
}

func (a *queueAnalysis) bad(format string, args ...any) {
	a.s.Malformed++
	if len(a.s.MalformedExamples) < 10 {
		a.s.MalformedExamples = append(a.s.MalformedExamples, fmt.Sprintf(format, args...))
	}
}

func (a *queueAnalysis) lookup(v string) int {
	i, isNew := a.ids.ID(v)
	if isNew {
		a.vals.push(valState{})
	}
	return int(i)
}

func (a *queueAnalysis) node(name string) int {
	n, ok := a.nodeIdx[name]
	if !ok {
		n = len(a.nodeNames)
		a.nodeIdx[name] = n
		a.nodeNames = append(a.nodeNames, name)
		a.nodeHas = append(a.nodeHas, nil)
		a.nodeDone = append(a.nodeDone, false)
	}
	return n
}

func (a *queueAnalysis) settle(i int, t history.OpType) {
	o := outInfo
	switch t {
	case history.OK:
		a.s.Acked++
		o = outOK
	case history.Fail:
		a.s.Failed++
		o = outFail
	default:
		a.s.Indeterminate++
	}
	a.vals.at(i).out = max(a.vals.at(i).out, o)
}

// observe takes in one op of the history.
func (a *queueAnalysis) observe(op history.Op) {
	a.init()
	s := &a.s
	switch op.F {
	case history.FPublish:
		if op.Type == history.Invoke {
			v, ok := op.Value.(string)
			if !ok {
				a.bad("op %d: publish value %v is not a string", op.Index, op.Value)
				return
			}
			if p, busy := a.open[op.Process]; busy {
				// The earlier publish's fate is unknown: count it as Info.
				a.bad("op %d: process %d invoked a publish while op %d was outstanding", op.Index, op.Process, p.index)
				a.settle(p.val, history.Info)
			}
			s.Attempted++
			i := a.lookup(v)
			if !a.vals.at(i).pub {
				a.vals.at(i).pub = true
				a.pubOrder.push(int32(i))
				pi, ok := a.procIdx[op.Process]
				if !ok {
					pi = int32(len(a.procIDs))
					a.procIdx[op.Process] = pi
					a.procIDs = append(a.procIDs, op.Process)
				}
				a.vals.at(i).proc = pi
			}
			a.open[op.Process] = queuePending{i, op.Index}
			return
		}
		p, ok := a.open[op.Process]
		if !ok {
			a.bad("op %d: publish %s by process %d has no invoke", op.Index, op.Type, op.Process)
			return
		}
		delete(a.open, op.Process)
		if v, ok := op.Value.(string); ok {
			if id, seen := a.ids.Lookup(v); !seen || int(id) != p.val {
				a.bad("op %d: publish %s value %q differs from invoke op %d value %q", op.Index, op.Type, v, p.index, a.ids.Value(int32(p.val)))
			}
		}
		a.settle(p.val, op.Type)
	case history.FRead:
		if op.Type != history.OK {
			return
		}
		v, ok := op.Value.(string)
		if !ok {
			a.bad("op %d: read value %v is not a string", op.Index, op.Value)
			return
		}
		i := a.lookup(v)
		if op.Seq > 0 && (a.vals.at(i).seq == 0 || op.Seq < a.vals.at(i).seq) {
			a.vals.at(i).seq = op.Seq // a duplicate's first copy is the one that was stored in order
		}
		switch a.vals.at(i).reads++; a.vals.at(i).reads {
		case 1:
			a.readOrder.push(int32(i))
		case 2:
			s.Duplicated++
			s.DuplicatedValues = appendCapped(s.DuplicatedValues, v)
		}
		if op.Node != "" {
			if s.ReadsByNode == nil {
				s.ReadsByNode = map[string]int{}
			}
			s.ReadsByNode[op.Node]++
		}
	case history.FDrain:
		if op.Type == history.OK {
			s.DrainComplete = true
		}
	case history.FNodeRead:
		// Malformed node ops are the per-node checker's to report.
		if v, ok := op.Value.(string); ok && op.Type == history.OK && op.Node != "" {
			n := a.node(op.Node)
			a.nodeHas[n].Add(int32(a.lookup(v)))
		}
	case history.FNodeDrain:
		if op.Node != "" && op.Type == history.OK {
			n := a.node(op.Node)
			a.nodeDone[n] = true
		}
	case history.FRecover:
		s.Unhealed = op.Type == history.Info
	case history.FStaleRead:
		var sr StaleRead
		if err := op.Decode(&sr.StaleRead); err != nil || op.Node == "" || sr.ClaimedEnd >= sr.LeaderLast {
			a.bad("op %d: stale-read %v on node %q is not a stale read", op.Index, op.Value, op.Node)
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

// stats finishes the analysis, once, after the last op.
func (a *queueAnalysis) stats() QueueStats {
	a.init()
	// The run died before these completed: they may or may not have happened.
	// Map order does not matter here: settle only counts.
	for _, p := range a.open {
		a.settle(p.val, history.Info)
	}
	s, vals, pubOrder, readOrder := &a.s, &a.vals, &a.pubOrder, &a.readOrder
	procIDs, nodeNames, nodeHas, nodeDone := a.procIDs, a.nodeNames, a.nodeHas, a.nodeDone

	s.Read = readOrder.len()
	// First pass over each process's values in publish order: where its
	// read values start and end, and whether its acked ones were stored in
	// order.
	procs := make([]procState, len(procIDs))
	for p := range procs {
		procs[p] = procState{first: -1, last: -1, prev: -1}
	}
	for i := range pubOrder.all() {
		st := vals.at(int(i))
		ps := &procs[st.proc]
		pos := ps.n
		ps.n++
		if st.reads == 0 {
			continue
		}
		if ps.first < 0 {
			ps.first = pos
		}
		ps.last = pos
		if st.out != outOK || st.seq == 0 {
			continue
		}
		if ps.prev >= 0 {
			if prev := vals.at(int(ps.prev)); st.seq <= prev.seq {
				s.OrderViolations++
				if len(s.OrderExamples) < 10 {
					s.OrderExamples = append(s.OrderExamples, fmt.Sprintf("process %d: %s (seq %d) read before %s (seq %d)",
						procIDs[st.proc], a.ids.Value(i), st.seq, a.ids.Value(ps.prev), prev.seq))
				}
			}
		}
		ps.prev = int32(i)
	}
	for i := range pubOrder.all() {
		st := vals.at(int(i))
		ps := &procs[st.proc]
		pos := ps.m
		ps.m++
		switch {
		case st.out == outOK && st.reads == 0:
			s.Lost++
			s.LostValues = appendCapped(s.LostValues, a.ids.Value(i))
			switch {
			case pos < ps.first:
				s.LostPrefix++
			case ps.first < 0 || pos > ps.last:
				s.LostPostfix++
			default:
				s.LostMiddle++
			}
			held, complete := false, false
			for n := range nodeNames {
				complete = complete || nodeDone[n]
				if nodeHas[n].Has(int32(i)) {
					held = true
					if s.LostHolders == nil {
						s.LostHolders = map[string]int{}
					}
					s.LostHolders[nodeNames[n]]++
				}
			}
			switch {
			case held:
				s.LostOnReplicas++
			case len(nodeNames) > 0:
				s.LostOnNoReplica++
			}
			// Missing from every complete replica (and from the leader's
			// read): proven lost even though the cluster never healed.
			if s.Unhealed && complete && !held {
				s.LostProven++
			}
		case st.out == outInfo && st.reads > 0:
			s.Recovered++
		case st.out == outFail && st.reads > 0:
			s.FailedButRead++
			s.FailedButReadValues = appendCapped(s.FailedButReadValues, a.ids.Value(i))
		}
	}
	for i := range readOrder.all() {
		if !vals.at(int(i)).pub {
			s.Unexpected++
			s.UnexpectedValues = appendCapped(s.UnexpectedValues, a.ids.Value(i))
		}
	}
	return *s
}

func appendCapped(vs []string, v string) []string {
	if len(vs) < maxValues {
		vs = append(vs, v)
	}
	return vs
}
