package checker

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"jetstorm/history"
)

// PerNode checks each node's own copy of the stream, read after the run
// directly from that node (node-read ops, bracketed per node by a node-drain
// invoke and its completion), as Jepsen's NATS test does to find split
// brain. A node must hold every acknowledged publish and nothing never
// published, and nodes must agree with each other: the same values, and the
// same value at each stream sequence.
//
// Missing values (lost, or lacking what another node has) are only proven by
// a complete node drain and only judged between complete nodes; an
// unexpected value, or one sequence read with two values ("divergent"), is
// proven by any read. A node whose drain did not complete makes an otherwise
// clean result Unknown: it could hide exactly the disagreement looked for.
//
// A history with no node-read or node-drain ops (final.per_node off) is
// Skipped: it proves nothing either way.
//
// PerNode is a Checker: use a new &PerNode{} per history. Values, when
// set, is shared with the other observers of the history (see
// View).
type PerNode struct {
	Values  *Values
	a       perNodeAnalysis
	deletes retention
}

func (*PerNode) Name() string { return "per-node" }

// Observe implements Checker: the values keep the publishes (which values
// were attempted and acked) and each node's reads as a set of values; the
// first value read at each stream sequence is kept here.
func (p *PerNode) Observe(op history.Op) {
	if p.a.view.V == nil {
		p.a.view.V = p.Values
	}
	p.deletes.observe(op)
	p.a.observe(op)
}

// maxNodeValues caps PerNode's example lists.
const maxNodeValues = 20

// NodeStats is what one node's copy of the stream holds.
type NodeStats struct {
	Complete         bool     `json:"complete"`                    // a node-drain of this node completed (ok)
	Read             int      `json:"read"`                        // distinct values read from it
	Lost             int      `json:"lost"`                        // acked publishes not read from it (proven only when Complete)
	Unexpected       int      `json:"unexpected"`                  // values read from it that were never published
	MissingVsOthers  int      `json:"missing_vs_others"`           // distinct values another complete node has and it lacks (0 unless Complete)
	LostValues       []string `json:"lost_values"`                 // first 20, in publish order
	UnexpectedValues []string `json:"unexpected_values,omitempty"` // first 20, in first-read order
}

// PerNodeStats is what AnalyzePerNode finds; PerNode.Result returns it as
// Details.
type PerNodeStats struct {
	Nodes map[string]NodeStats `json:"per_node"`
	// System is the history's meta system ("stan": NATS Streaming, whose
	// replicas' own copies cannot be read: the check is skipped).
	System string `json:"system,omitempty"`
	// Divergent counts stream sequences read with different values (on
	// different nodes, or in different reads of one node).
	Divergent int `json:"divergent"`
	// Disagreements describes, first, each ordered pair of complete nodes
	// where one lacks values the other has, then each divergent sequence in
	// history order. First 20.
	Disagreements []string `json:"disagreements,omitempty"`
	// Malformed counts node-read/node-drain ops without a node, or with a
	// non-string value. Any makes the verdict Unknown.
	Malformed         int      `json:"malformed,omitempty"`
	MalformedExamples []string `json:"malformed_examples,omitempty"` // first 10
}

// seqTable maps stream sequences to seqSeen: a dense table for a sequence
// below the limit when it is first put (twice the ops observed so far,
// plus 1024: sequences a stream written by the history so far can reach,
// with room for a purge or two), a map for the others. A sequence first
// put in the map stays there, though the limit grows past it.
//
// The dense table is 2 bytes a sequence (near: ids follow sequences). Who
// read it first changes seldom along the sequences (the drain reads them
// in order, then each node), so that is kept as runs: from a run's
// sequence on, until the next run's, when put in ascending order; the few
// put below an earlier one are kept apart (late).
type seqTable struct {
	ops    uint64              // ops observed so far
	val    history.Near[int16] // seq -> val
	runs   []seqRun            // who, for seqs put in ascending order
	last   uint64              // the highest seq put in runs
	late   map[uint64]uint8    // who, for seqs put below last
	div    map[uint64]struct{} // divergent dense seqs
	sparse map[uint64]seqSeen
}

type seqRun struct {
	seq uint64
	who uint8 // node index, | seqDrain
}

// seqNodes bounds the node index of a dense entry; seqDrain marks a read
// of the final drain.
const (
	seqNodes = 128
	seqDrain = 128
)

func (t *seqTable) get(seq uint64) seqSeen {
	if e, ok := t.sparse[seq]; ok {
		return e
	}
	v := t.val.Get(int(seq))
	if v == 0 {
		return seqSeen{}
	}
	who, ok := t.late[seq]
	if !ok {
		i, _ := slices.BinarySearchFunc(t.runs, seq+1, func(r seqRun, s uint64) int { return cmp.Compare(r.seq, s) })
		who = t.runs[i-1].who
	}
	_, div := t.div[seq]
	return seqSeen{val: int32(v), node: int32(who % seqNodes), drain: who&seqDrain != 0, div: div}
}

// first puts e, the first read at seq.
func (t *seqTable) first(seq uint64, e seqSeen) {
	if seq >= 2*t.ops+1024 || e.node >= seqNodes {
		if t.sparse == nil {
			t.sparse = map[uint64]seqSeen{}
		}
		t.sparse[seq] = e
		return
	}
	who := uint8(e.node)
	if e.drain {
		who |= seqDrain
	}
	t.val.Set(int(seq), uint64(e.val))
	switch {
	case len(t.runs) > 0 && seq < t.last:
		if t.late == nil {
			t.late = map[uint64]uint8{}
		}
		t.late[seq] = who
		return
	case len(t.runs) == 0 || t.runs[len(t.runs)-1].who != who:
		t.runs = append(t.runs, seqRun{seq, who})
	}
	t.last = seq
}

// diverged marks seq (whose first read was e) as counted divergent.
func (t *seqTable) diverged(seq uint64, e seqSeen) {
	if _, ok := t.sparse[seq]; ok {
		e.div = true
		t.sparse[seq] = e
		return
	}
	if t.div == nil {
		t.div = map[uint64]struct{}{}
	}
	t.div[seq] = struct{}{}
}

// seqSeen is the first value read at a stream sequence, and where.
type seqSeen struct {
	val   int32 // id + 1; 0: nothing read at this sequence yet
	node  int32 // index into nodes, or into drainNodes when drain
	div   bool  // already counted as divergent
	drain bool  // read by the final drain (from the node that served it)
}

// divergence is a sequence read with two values: e first, then r.
type divergence struct {
	seq  uint64
	e, r seqSeen
}

// perNodeAnalysis is AnalyzePerNode's state between ops: the values
// (shared or its own) and what only the per-node check needs. The zero
// value is ready.
type perNodeAnalysis struct {
	s          PerNodeStats
	view       View
	nodeIdx    map[string]int32
	nodes      []string // the nodes read, by their index in seqSeen
	lastNode   string
	lastNi     int32 // lastNode's index; -1: none
	seqs       seqTable
	divergent  []divergence // the first maxNodeValues
	drainIdx   map[string]int32
	drainNodes []string
}

// AnalyzePerNode computes PerNodeStats in one pass over h, then word-wise
// passes over each node's bitset of values. A publish costs a map operation
// or two; a node read of the value another node already read at that
// sequence (the usual case) costs none: sequences index a slice, and reads
// come in runs per node.
func AnalyzePerNode(h []history.Op) PerNodeStats {
	var a perNodeAnalysis
	for _, op := range h {
		a.observe(op)
	}
	return a.stats()
}

func (a *perNodeAnalysis) init() {
	if a.nodeIdx == nil {
		a.s.Nodes = map[string]NodeStats{}
		a.nodeIdx, a.drainIdx = map[string]int32{}, map[string]int32{}
		a.lastNi = -1
	}
}

func (a *perNodeAnalysis) bad(format string, args ...any) {
	a.s.Malformed++
	if len(a.s.MalformedExamples) < 10 {
		a.s.MalformedExamples = append(a.s.MalformedExamples, fmt.Sprintf(format, args...))
	}
}

// node is the index of a node read, for seqSeen.
func (a *perNodeAnalysis) node(name string) int32 {
	if a.lastNi >= 0 && name == a.lastNode {
		return a.lastNi
	}
	n, ok := a.nodeIdx[name]
	if !ok {
		n = int32(len(a.nodes))
		a.nodeIdx[name] = n
		a.nodes = append(a.nodes, name)
	}
	a.lastNode, a.lastNi = name, n
	return n
}

func (a *perNodeAnalysis) who(e seqSeen) string {
	if e.drain {
		return a.drainNodes[e.node] + " (final drain)"
	}
	return a.nodes[e.node]
}

// seen records that r was read at seq, where e was read first.
func (a *perNodeAnalysis) seen(seq uint64, e, r seqSeen) {
	switch {
	case e.val == 0:
		a.seqs.first(seq, r)
	case e.val != r.val && !e.div:
		a.seqs.diverged(seq, e)
		a.s.Divergent++
		if len(a.divergent) < maxNodeValues {
			a.divergent = append(a.divergent, divergence{seq, e, r})
		}
	}
}

// observe takes in one op of the history.
func (a *perNodeAnalysis) observe(op history.Op) {
	a.init()
	a.view.Observe(op)
	a.seqs.ops++
	ids := &a.view.V.IDs
	switch op.F {
	case history.FMeta:
		var m history.Meta
		if op.Decode(&m) == nil {
			a.s.System = m.System
		}
	case history.FRead:
		// The final drain's reads name the node that served them (its
		// consumer's host, or the leader): a read of that node's copy,
		// which must agree with every other copy at each sequence. They
		// count for divergence only: they are not a per-node read.
		v, ok := op.Value.(string)
		if op.Type != history.OK || op.Node == "" || op.Seq == 0 || !ok {
			return
		}
		i, _ := ids.Lookup(v)
		di, ok := a.drainIdx[op.Node]
		if !ok {
			di = int32(len(a.drainNodes))
			a.drainIdx[op.Node] = di
			a.drainNodes = append(a.drainNodes, op.Node)
		}
		a.seen(op.Seq, a.seqs.get(op.Seq), seqSeen{val: i + 1, node: di, drain: true})
	case history.FNodeRead:
		if op.Type != history.OK {
			return
		}
		if op.Node == "" {
			a.bad("op %d: node-read has no node", op.Index)
			return
		}
		v, ok := op.Value.(string)
		if !ok {
			a.bad("op %d: node-read value %v is not a string", op.Index, op.Value)
			return
		}
		if op.Seq > 0 {
			i, _ := ids.Lookup(v)
			a.seen(op.Seq, a.seqs.get(op.Seq), seqSeen{val: i + 1, node: a.node(op.Node)})
		}
	case history.FNodeDrain:
		if op.Node == "" {
			a.bad("op %d: node-drain %s has no node", op.Index, op.Type)
		}
	}
}

// stats finishes the analysis, once, after the last op.
func (a *perNodeAnalysis) stats() PerNodeStats {
	a.init()
	if a.view.V == nil {
		a.view.V = &Values{}
	}
	v, s := a.view.V, &a.s
	nodes := v.Nodes()
	// Complete nodes in name order, for deterministic pairwise output.
	var complete []int32
	for i := range nodes {
		if nodes[i].Complete {
			complete = append(complete, int32(i))
		}
	}
	slices.SortFunc(complete, func(a, b int32) int { return strings.Compare(nodes[a].Name, nodes[b].Name) })

	// Pairwise: pair[a*k+b] counts values complete node a has and b lacks.
	k := len(complete)
	missing := make([]int, k)
	pair := make([]int, k*k)
	pairFirst := make([]int32, k*k)
	for w := 0; k > 1 && w < (v.Len()+63)/64; w++ {
		for bi, b := range complete {
			hb := nodes[b].Has.Word(w)
			var others uint64
			for ai, a := range complete {
				if a == b {
					continue
				}
				ha := nodes[a].Has.Word(w)
				others |= ha
				if d := ha &^ hb; d != 0 {
					if pair[ai*k+bi] == 0 {
						pairFirst[ai*k+bi] = int32(w*64 + bits.TrailingZeros64(d))
					}
					pair[ai*k+bi] += bits.OnesCount64(d)
				}
			}
			missing[bi] += bits.OnesCount64(others &^ hb)
		}
	}

	// Per node: the acked values it lacks (in publish order), the values
	// it has that were never published.
	mi := make(map[int32]int, k) // node -> its index in complete
	for ci, n := range complete {
		mi[n] = ci
	}
	lost := make([][]int32, len(nodes))
	unexpected := make([][]int32, len(nodes))
	want := slices.Clone(pairFirst)
	for ni := range nodes {
		n := &nodes[ni]
		ns := NodeStats{Complete: n.Complete, LostValues: []string{}}
		if ci, ok := mi[int32(ni)]; ok {
			ns.MissingVsOthers = missing[ci]
		}
		for id := range v.PubOrder {
			if v.Outcome(id) == outOK && !n.Has.Has(id) {
				ns.Lost++
				if len(lost[ni]) < maxNodeValues {
					lost[ni] = append(lost[ni], id)
				}
			}
		}
		// Word-wise: the values it has that were never published.
		for w, word := range n.Has {
			ns.Read += bits.OnesCount64(word)
			for ; word != 0; word &= word - 1 {
				id := int32(w*64 + bits.TrailingZeros64(word))
				if !v.Published(id) {
					ns.Unexpected++
					if len(unexpected[ni]) < maxNodeValues {
						unexpected[ni] = append(unexpected[ni], id)
					}
				}
			}
		}
		want = append(append(want, lost[ni]...), unexpected[ni]...)
		s.Nodes[n.Name] = ns
	}
	for _, d := range a.divergent {
		want = append(want, d.e.val-1, d.r.val-1)
	}
	names := v.IDs.Names(want)
	for ni, n := range nodes {
		ns := s.Nodes[n.Name]
		for _, id := range lost[ni] {
			ns.LostValues = append(ns.LostValues, names[id])
		}
		for _, id := range unexpected[ni] {
			ns.UnexpectedValues = append(ns.UnexpectedValues, names[id])
		}
		s.Nodes[n.Name] = ns
	}
	for bi, b := range complete {
		for ai, a := range complete {
			if n := pair[ai*k+bi]; n > 0 && len(s.Disagreements) < maxNodeValues {
				s.Disagreements = append(s.Disagreements, fmt.Sprintf("%s lacks %d %s %s has (first: %s)",
					nodes[b].Name, n, plural(n, "value", "values"), nodes[a].Name, names[pairFirst[ai*k+bi]]))
			}
		}
	}
	for _, d := range a.divergent {
		if len(s.Disagreements) < maxNodeValues {
			s.Disagreements = append(s.Disagreements, fmt.Sprintf("seq %d: %s read %s, %s read %s",
				d.seq, a.who(d.e), names[d.e.val-1], a.who(d.r), names[d.r.val-1]))
		}
	}
	return *s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
