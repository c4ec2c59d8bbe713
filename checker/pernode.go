package checker

import (
	"context"
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
type PerNode struct{}

func (PerNode) Name() string { return "per-node" }

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

// PerNodeStats is what AnalyzePerNode finds; PerNode.Check returns it as
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

// bitset is a set of value indices.
type bitset []uint64

func (b bitset) has(i int32) bool {
	w := int(i >> 6)
	return w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
}

func (b *bitset) add(i int32) {
	w := int(i >> 6)
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w+1-len(*b))...)
	}
	(*b)[w] |= 1 << (uint(i) & 63)
}

func (b bitset) word(w int) uint64 {
	if w < len(b) {
		return b[w]
	}
	return 0
}

// pnValue is what the history says about one distinct value.
type pnValue struct {
	v     string
	pub   bool // at least one publish invoke
	acked bool // at least one OK publish
}

// pnNode accumulates one node's reads.
type pnNode struct {
	name     string
	has      bitset // values read from it
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

// seqTable maps stream sequences to seqSeen: a slice below limit (twice
// the history's length: sequences a stream written by this history can
// reach, with room for a purge or two), a map at and above it.
type seqTable struct {
	limit  uint64
	dense  []seqSeen
	sparse map[uint64]seqSeen
}

func newSeqTable(ops int) *seqTable {
	return &seqTable{limit: 2*uint64(ops) + 1024, sparse: map[uint64]seqSeen{}}
}

func (t *seqTable) get(seq uint64) seqSeen {
	if seq < uint64(len(t.dense)) {
		return t.dense[seq]
	}
	if seq < t.limit {
		return seqSeen{}
	}
	return t.sparse[seq]
}

func (t *seqTable) put(seq uint64, e seqSeen) {
	if seq < t.limit {
		if seq >= uint64(len(t.dense)) {
			t.dense = append(t.dense, make([]seqSeen, int(seq)+1-len(t.dense))...)
		}
		t.dense[seq] = e
		return
	}
	t.sparse[seq] = e
}

// AnalyzePerNode computes PerNodeStats in one pass over h, then word-wise
// passes over each node's bitset of values. A publish costs a map operation
// or two; a node read of the value another node already read at that
// sequence (the usual case) costs none: sequences index a slice, and reads
// come in runs per node.
func AnalyzePerNode(h []history.Op) PerNodeStats {
	s := PerNodeStats{Nodes: map[string]NodeStats{}}
	bad := func(format string, args ...any) {
		s.Malformed++
		if len(s.MalformedExamples) < 10 {
			s.MalformedExamples = append(s.MalformedExamples, fmt.Sprintf(format, args...))
		}
	}
	idx := make(map[string]int32, len(h)/3)
	vals := make([]pnValue, 0, len(h)/3)
	var pubOrder []int32
	lookup := func(v string) int32 {
		i, ok := idx[v]
		if !ok {
			i = int32(len(vals))
			idx[v] = i
			vals = append(vals, pnValue{v: v})
		}
		return i
	}
	nodeIdx := map[string]int32{}
	var nodes []pnNode
	lastNode, lastNi := "", int32(-1)
	node := func(name string) int32 {
		if lastNi >= 0 && name == lastNode {
			return lastNi
		}
		n, ok := nodeIdx[name]
		if !ok {
			n = int32(len(nodes))
			nodeIdx[name] = n
			nodes = append(nodes, pnNode{name: name})
		}
		lastNode, lastNi = name, n
		return n
	}
	open := map[int]int32{} // process -> value of its outstanding publish
	seqs := newSeqTable(len(h))
	var divergent []string
	drainIdx := map[string]int32{}
	var drainNodes []string
	who := func(e seqSeen) string {
		if e.drain {
			return drainNodes[e.node] + " (final drain)"
		}
		return nodes[e.node].name
	}
	// seen records that r was read at seq, where e was read first.
	seen := func(seq uint64, e, r seqSeen) {
		switch {
		case e.val == 0:
			seqs.put(seq, r)
		case e.val != r.val && !e.div:
			e.div = true
			seqs.put(seq, e)
			s.Divergent++
			if len(divergent) < maxNodeValues {
				divergent = append(divergent, fmt.Sprintf("seq %d: %s read %s, %s read %s",
					seq, who(e), vals[e.val-1].v, who(r), vals[r.val-1].v))
			}
		}
	}

	for _, op := range h {
		switch op.F {
		case history.FPublish:
			// Publish protocol errors are the queue checker's to report;
			// here a publish only says which values were attempted and acked.
			if op.Type == history.Invoke {
				v, ok := op.Value.(string)
				if !ok {
					continue
				}
				i := lookup(v)
				if !vals[i].pub {
					vals[i].pub = true
					pubOrder = append(pubOrder, i)
				}
				open[op.Process] = i
				continue
			}
			i, ok := open[op.Process]
			if !ok {
				continue
			}
			delete(open, op.Process)
			if op.Type == history.OK {
				vals[i].acked = true
			}
		case history.FRead:
			// The final drain's reads name the node that served them (its
			// consumer's host, or the leader): a read of that node's copy,
			// which must agree with every other copy at each sequence. They
			// count for divergence only: they are not a per-node read.
			v, ok := op.Value.(string)
			if op.Type != history.OK || op.Node == "" || op.Seq == 0 || !ok {
				continue
			}
			i := lookup(v)
			di, ok := drainIdx[op.Node]
			if !ok {
				di = int32(len(drainNodes))
				drainIdx[op.Node] = di
				drainNodes = append(drainNodes, op.Node)
			}
			seen(op.Seq, seqs.get(op.Seq), seqSeen{val: i + 1, node: di, drain: true})
		case history.FNodeRead:
			if op.Type != history.OK {
				continue
			}
			if op.Node == "" {
				bad("op %d: node-read has no node", op.Index)
				continue
			}
			v, ok := op.Value.(string)
			if !ok {
				bad("op %d: node-read value %v is not a string", op.Index, op.Value)
				continue
			}
			ni := node(op.Node)
			var e seqSeen
			if op.Seq > 0 {
				e = seqs.get(op.Seq)
			}
			var i int32
			if e.val > 0 && vals[e.val-1].v == v {
				i = e.val - 1 // the usual case: another node already read it here; skip the map
			} else {
				i = lookup(v)
			}
			if n := &nodes[ni]; !n.has.has(i) {
				n.has.add(i)
				n.read++
			}
			if op.Seq > 0 {
				seen(op.Seq, e, seqSeen{val: i + 1, node: ni})
			}
		case history.FNodeDrain:
			if op.Node == "" {
				bad("op %d: node-drain %s has no node", op.Index, op.Type)
				continue
			}
			n := node(op.Node)
			if op.Type == history.OK {
				nodes[n].complete = true
			}
		}
	}

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
	for w := 0; k > 1 && w < (len(vals)+63)/64; w++ {
		for bi, b := range complete {
			hb := nodes[b].has.word(w)
			var others uint64
			for ai, a := range complete {
				if a == b {
					continue
				}
				ha := nodes[a].has.word(w)
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
					nodes[b].name, n, plural(n, "value", "values"), nodes[a].name, vals[pairFirst[ai*k+bi]].v))
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
		for _, i := range pubOrder {
			if vals[i].acked && !n.has.has(i) {
				ns.Lost++
				if len(ns.LostValues) < maxNodeValues {
					ns.LostValues = append(ns.LostValues, vals[i].v)
				}
			}
		}
		// Word-wise: the values it has that were never published.
		for w, word := range n.has {
			for ; word != 0; word &= word - 1 {
				i := w*64 + bits.TrailingZeros64(word)
				if !vals[i].pub {
					ns.Unexpected++
					if len(ns.UnexpectedValues) < maxNodeValues {
						ns.UnexpectedValues = append(ns.UnexpectedValues, vals[i].v)
					}
				}
			}
		}
		s.Nodes[n.name] = ns
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Check analyzes h and judges it.
func (PerNode) Check(ctx context.Context, h []history.Op) Result {
	r := Result{Name: "per-node", Verdict: Unknown}
	if err := ctx.Err(); err != nil {
		r.Message = "not checked: " + err.Error()
		return r
	}
	s := AnalyzePerNode(h)
	r.Details = s
	r.Verdict, r.Message = perNodeVerdict(s)
	return r
}

func perNodeVerdict(s PerNodeStats) (Verdict, string) {
	if len(s.Nodes) == 0 && s.Malformed == 0 {
		return Skipped, "no per-node reads in the history (final.per_node off)"
	}
	names := make([]string, 0, len(s.Nodes))
	for n := range s.Nodes {
		names = append(names, n)
	}
	slices.Sort(names)

	var problems, parts, incomplete []string
	nComplete, disagree := 0, s.Divergent > 0
	for _, name := range names {
		ns := s.Nodes[name]
		if !ns.Complete {
			incomplete = append(incomplete, name)
			parts = append(parts, fmt.Sprintf("%s %d read/%d acked but unread (incomplete)", name, ns.Read, ns.Lost))
		} else {
			nComplete++
			parts = append(parts, fmt.Sprintf("%s %d read/%d lost", name, ns.Read, ns.Lost))
			if ns.Lost > 0 {
				problems = append(problems, fmt.Sprintf("%s LOST %d acknowledged writes (first: %s)",
					name, ns.Lost, examples(ns.LostValues, ns.Lost)))
			}
			disagree = disagree || ns.MissingVsOthers > 0
		}
		if ns.Unexpected > 0 {
			problems = append(problems, fmt.Sprintf("%s has %d UNEXPECTED values never published (first: %s)",
				name, ns.Unexpected, examples(ns.UnexpectedValues, ns.Unexpected)))
		}
	}
	if disagree {
		problems = append(problems, fmt.Sprintf("SPLIT BRAIN: nodes disagree, %d divergent seqs (%s)",
			s.Divergent, strings.Join(s.Disagreements[:min(len(s.Disagreements), 3)], "; ")))
	}
	summary := fmt.Sprintf("%d nodes, %d complete: %s", len(names), nComplete, strings.Join(parts, ", "))

	switch {
	case s.Malformed > 0:
		msg := fmt.Sprintf("malformed history (%d bad ops; first: %s)", s.Malformed, s.MalformedExamples[0])
		return Unknown, strings.Join(append([]string{msg}, append(problems, summary)...), "; ")
	case len(problems) > 0:
		return Invalid, strings.Join(append(problems, summary), "; ")
	case len(incomplete) > 0:
		return Unknown, fmt.Sprintf("per-node drain missing or incomplete on %s, so its lost writes and disagreement cannot be judged; %s",
			strings.Join(incomplete, ", "), summary)
	}
	return Valid, summary
}
