package checker

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"jetstorm/history"
)

// This file holds what the atomic, counter and occ checks share: each
// judges copies of a stream read back after the run (the final drain's
// and, with final.per_node, each node's own), keeps the history's
// malformed ops, and words its verdict the same way.

// copyHead is what every read-back copy keeps beside its check's facts.
type copyHead struct {
	complete bool // its read reached the stream's end
}

func (h *copyHead) head() *copyHead { return h }

// copies are the read-back copies of one check, of its copy type C.
type copies[C any, P interface {
	*C
	head() *copyHead
}] struct {
	by map[string]P // by node; "": the final drain's
}

// observe applies op when it reads a copy back (a drain's read or end);
// read takes each message read into its copy.
func (cs *copies[C, P]) observe(op history.Op, read func(P, history.Op)) {
	node := op.Node
	if op.F == history.FRead || op.F == history.FDrain {
		node = ""
	}
	switch op.F {
	case history.FRead, history.FNodeRead:
		if op.Type == history.OK {
			read(cs.of(node), op)
		}
	case history.FDrain, history.FNodeDrain:
		if op.Type != history.Invoke {
			cs.of(node).head().complete = op.Type == history.OK
		} else if node != "" {
			cs.of(node) // a node whose read ends before its first message still counts, incomplete
		}
	}
}

// of is node's copy ("": the drain's), made on first use.
func (cs *copies[C, P]) of(node string) P {
	if cs.by == nil {
		cs.by = map[string]P{}
	}
	c := cs.by[node]
	if c == nil {
		c = P(new(C))
		cs.by[node] = c
	}
	return c
}

// drain is the final drain's copy; an empty, incomplete one when no
// drain read anything.
func (cs *copies[C, P]) drain() P {
	if c := cs.by[""]; c != nil {
		return c
	}
	return P(new(C))
}

// node is a node's own copy (nil: none read).
func (cs *copies[C, P]) node(name string) P { return cs.by[name] }

// nodeNames are the nodes whose own copies were read, sorted.
func (cs *copies[C, P]) nodeNames() []string {
	names := slices.Sorted(maps.Keys(cs.by))
	return slices.DeleteFunc(names, func(n string) bool { return n == "" })
}

// complete are the copies whose read reached the end, the drain's first
// ("the drain"), then the nodes' in name order: the ones that must agree.
func (cs *copies[C, P]) complete() (names []string, cps []P) {
	if d := cs.by[""]; d != nil && d.head().complete {
		names, cps = append(names, "the drain"), append(cps, d)
	}
	for _, name := range cs.nodeNames() {
		if c := cs.by[name]; c.head().complete {
			names, cps = append(names, name), append(cps, c)
		}
	}
	return names, cps
}

// badOps are a history's malformed ops: how many, and the first 20.
type badOps struct {
	n  int
	ex []string
}

func (b *badOps) add(op history.Op, why string) {
	if b.n++; len(b.ex) < 20 {
		b.ex = append(b.ex, fmt.Sprintf("op %d (%s %s %v): %s", op.Index, op.F, op.Type, op.Value, why))
	}
}

// outcomeOf is a write's outcome by its completion's type; false for an
// invoke or a type no completion has.
func outcomeOf(t history.OpType) (outcome, bool) {
	switch t {
	case history.OK:
		return outOK, true
	case history.Fail:
		return outFail, true
	case history.Info:
		return outInfo, true
	}
	return outNone, false
}

// noteTo returns a function that adds a formatted anomaly to list, the
// first 20 only.
func noteTo(list *[]string) func(format string, args ...any) {
	return func(format string, args ...any) {
		if len(*list) < 20 {
			*list = append(*list, fmt.Sprintf(format, args...))
		}
	}
}

// problems are the anomalies a verdict names, each as "N what".
type problems []string

// add names n anomalies of a kind (none when n is 0); format and args
// say what they are.
func (p *problems) add(n int, format string, args ...any) {
	if n > 0 {
		*p = append(*p, fmt.Sprintf("%d "+format, append([]any{n}, args...)...))
	}
}

// withFirst adds the first few examples when there are problems.
func (p problems) withFirst(examples []string) []string {
	if len(p) > 0 && len(examples) > 0 {
		return append(p, "first: "+strings.Join(examples[:min(len(examples), 5)], "; "))
	}
	return p
}

// copiesUnknown is why a check over read-back copies cannot be decided
// once no anomaly decided it ("" when it can): the drain did not finish,
// so lost ones cannot be judged; the cluster never healed and the drain
// lacks lost acked ones, not proven lost (one may sit on a replica that
// never came back); or the named nodes' own reads did not finish. what
// names the check's writes ("batches").
func copiesUnknown(drainComplete, unhealed bool, lost int, incomplete []string, what string) string {
	switch {
	case !drainComplete:
		return "drain missing or incomplete, so lost " + what + " cannot be judged"
	case unhealed && lost > 0:
		return fmt.Sprintf("the cluster never healed, so %d acked %s the drain lacks are not proven lost", lost, what)
	case len(incomplete) > 0:
		return fmt.Sprintf("per-node drain incomplete on %s, so the replicas cannot be judged", strings.Join(incomplete, ", "))
	}
	return ""
}
