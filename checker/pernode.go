package checker

import (
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
// PerNode is a Checker: use a new &PerNode{} per history.
type PerNode struct {
	a       perNodeAnalysis
	deletes retention
}

func (*PerNode) Name() string { return "per-node" }

// Observe implements Checker: it keeps the publishes (which values were
// attempted and acked), each node's reads as a set of values, and the first
// value read at each stream sequence.
func (p *PerNode) Observe(op history.Op) { p.deletes.observe(op); p.a.observe(op) }

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

// pnValue is what the history says about one distinct value.
type pnValue struct {
	pub   bool // at least one publish invoke
	acked bool // at least one OK publish
}

// pnNode accumulates one node's reads.
type pnNode struct {
	name     string
	has      history.Bitset // values read from it
	read     int
	complete bool
}

// seqSeen is the first value read at a stream sequence, and where.
type seqSeen struct {
	val   int32 // vals index + 1; 0: nothing read at this sequence yet
	node  int32 // index into nodes, or into drainNodes when drain
	div   bool  // already counted as divergent
	drain bool  // read by the final drain (from the node that served it)
}

// seqTable maps stream sequences to seqSeen: a slice for a sequence below
// the limit when it is first put (twice the ops observed so far, plus 1024:
// sequences a stream written by the history so far can reach, with room for
// a purge or two), a map for the others. A sequence first put in the map
// stays there, though the limit grows past it.
type seqTable struct {
	ops    uint64 // ops observed so far
	dense  []seqSeen
	sparse map[uint64]seqSeen
}

func (t *seqTable) get(seq uint64) seqSeen {
	if e, ok := t.sparse[seq]; ok {
		return e
	}
	if seq < uint64(len(t.dense)) {
		return t.dense[seq]
	}
	return seqSeen{}
}

func (t *seqTable) put(seq uint64, e seqSeen) {
	if _, ok := t.sparse[seq]; !ok && seq < 2*t.ops+1024 {
		if seq >= uint64(len(t.dense)) {
			t.dense = append(t.dense, make([]seqSeen, int(seq)+1-len(t.dense))...)
		}
		t.dense[seq] = e
		return
	}
	if t.sparse == nil {
		t.sparse = map[uint64]seqSeen{}
	}
	t.sparse[seq] = e
}

// perNodeAnalysis is AnalyzePerNode's state between ops. The zero value is
// ready.
type perNodeAnalysis struct {
	s        PerNodeStats
	ids      history.ValueIDs // value -> index into vals
	vals     chunked[pnValue] // in blocks (see queue.go)
	pubOrder chunked[int32]
	nodeIdx  map[string]int32
	nodes    []pnNode
	lastNode string
	lastNi   int32         // lastNode's index; -1: none
	open     map[int]int32 // process -> value of its outstanding publish
	seqs     seqTable
	// divergent describes the first divergent sequences.
	divergent  []string
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
		a.open, a.lastNi = map[int]int32{}, -1
	}
}

func (a *perNodeAnalysis) bad(format string, args ...any) {
	a.s.Malformed++
	if len(a.s.MalformedExamples) < 10 {
		a.s.MalformedExamples = append(a.s.MalformedExamples, fmt.Sprintf(format, args...))
	}
}

func (a *perNodeAnalysis) lookup(v string) int32 {
	i, isNew := a.ids.ID(v)
	if isNew {
		a.vals.push(pnValue{})
	}
	return i
}

func (a *perNodeAnalysis) node(name string) int32 {
	if a.lastNi >= 0 && name == a.lastNode {
		return a.lastNi
	}
	n, ok := a.nodeIdx[name]
	if !ok {
		n = int32(len(a.nodes))
		a.nodeIdx[name] = n
		a.nodes = append(a.nodes, pnNode{name: name})
	}
	a.lastNode, a.lastNi = name, n
	return n
}

func (a *perNodeAnalysis) who(e seqSeen) string {
	if e.drain {
		return a.drainNodes[e.node] + " (final drain)"
	}
	return a.nodes[e.node].name
}

// seen records that r was read at seq, where e was read first.
func (a *perNodeAnalysis) seen(seq uint64, e, r seqSeen) {
	switch {
	case e.val == 0:
		a.seqs.put(seq, r)
	case e.val != r.val && !e.div:
		e.div = true
		a.seqs.put(seq, e)
		a.s.Divergent++
		if len(a.divergent) < maxNodeValues {
			a.divergent = append(a.divergent, fmt.Sprintf("seq %d: %s read %s, %s read %s",
				seq, a.who(e), a.ids.Value(e.val-1), a.who(r), a.ids.Value(r.val-1)))
		}
	}
}

// observe takes in one op of the history.
func (a *perNodeAnalysis) observe(op history.Op) {
	a.init()
	a.seqs.ops++
	switch op.F {
	case history.FPublish:
		// Publish protocol errors are the queue checker's to report;
		// here a publish only says which values were attempted and acked.
		if op.Type == history.Invoke {
			v, ok := op.Value.(string)
			if !ok {
				return
			}
			i := a.lookup(v)
			if !a.vals.at(int(i)).pub {
				a.vals.at(int(i)).pub = true
				a.pubOrder.push(i)
			}
			a.open[op.Process] = i
			return
		}
		i, ok := a.open[op.Process]
		if !ok {
			return
		}
		delete(a.open, op.Process)
		if op.Type == history.OK {
			a.vals.at(int(i)).acked = true
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
		i := a.lookup(v)
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
		ni := a.node(op.Node)
		var e seqSeen
		if op.Seq > 0 {
			e = a.seqs.get(op.Seq)
		}
		i := a.lookup(v)
		if n := &a.nodes[ni]; !n.has.Has(i) {
			n.has.Add(i)
			n.read++
		}
		if op.Seq > 0 {
			a.seen(op.Seq, e, seqSeen{val: i + 1, node: ni})
		}
	case history.FNodeDrain:
		if op.Node == "" {
			a.bad("op %d: node-drain %s has no node", op.Index, op.Type)
			return
		}
		n := a.node(op.Node)
		if op.Type == history.OK {
			a.nodes[n].complete = true
		}
	}
}

// stats finishes the analysis, once, after the last op.
func (a *perNodeAnalysis) stats() PerNodeStats {
	a.init()
	s, vals, pubOrder, nodes, divergent := &a.s, &a.vals, &a.pubOrder, a.nodes, a.divergent
	ids := &a.ids // a is a loop variable below
	// Complete nodes in name order, for deterministic pairwise output.
	var complete []int32
	for i := range nodes {
		if nodes[i].complete {
			complete = append(complete, int32(i))
		}
	}
	slices.SortFunc(complete, func(a, b int32) int { return strings.Compare(nodes[a].name, nodes[b].name) })

	// Pairwise: pair[a*k+b] counts values complete node a has and b lacks.
	k := len(complete)
	missing := make([]int, k)
	pair := make([]int, k*k)
	pairFirst := make([]int32, k*k)
	for w := 0; k > 1 && w < (vals.len()+63)/64; w++ {
		for bi, b := range complete {
			hb := nodes[b].has.Word(w)
			var others uint64
			for ai, a := range complete {
				if a == b {
					continue
				}
				ha := nodes[a].has.Word(w)
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
	for bi, b := range complete {
		for ai, a := range complete {
			if n := pair[ai*k+bi]; n > 0 && len(s.Disagreements) < maxNodeValues {
				s.Disagreements = append(s.Disagreements, fmt.Sprintf("%s lacks %d %s %s has (first: %s)",
					nodes[b].name, n, plural(n, "value", "values"), nodes[a].name, ids.Value(pairFirst[ai*k+bi])))
			}
		}
	}
	for _, d := range divergent {
		if len(s.Disagreements) < maxNodeValues {
			s.Disagreements = append(s.Disagreements, d)
		}
	}

	mi := make(map[int32]int, k) // node -> its index in complete
	for ci, n := range complete {
		mi[n] = ci
	}
	for ni := range nodes {
		n := &nodes[ni]
		ns := NodeStats{Complete: n.complete, Read: n.read, LostValues: []string{}}
		if ci, ok := mi[int32(ni)]; ok {
			ns.MissingVsOthers = missing[ci]
		}
		for i := range pubOrder.all() {
			if vals.at(int(i)).acked && !n.has.Has(i) {
				ns.Lost++
				if len(ns.LostValues) < maxNodeValues {
					ns.LostValues = append(ns.LostValues, ids.Value(i))
				}
			}
		}
		// Word-wise: the values it has that were never published.
		for w, word := range n.has {
			for ; word != 0; word &= word - 1 {
				i := w*64 + bits.TrailingZeros64(word)
				if !vals.at(int(i)).pub {
					ns.Unexpected++
					if len(ns.UnexpectedValues) < maxNodeValues {
						ns.UnexpectedValues = append(ns.UnexpectedValues, ids.Value(int32(i)))
					}
				}
			}
		}
		s.Nodes[n.name] = ns
	}
	return *s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
