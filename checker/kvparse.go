// Parsing a KV history for Linearizable (linearizable.go): pairing kv
// invokes with their completions, and reading op values.

package checker

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"

	"jetstorm/history"
)

// kvCall is one kv operation: its invoke and, when it came, its completion.
type kvCall struct {
	f         string
	process   int
	index     int64 // invoke's index
	done      int64 // completion's index (-1: never completed)
	node      string
	key       string
	value     string // written value (put, cas)
	expectRev uint64 // cas
	hasExpect bool

	typ      history.OpType // completion type; Info when it never completed
	call     int64
	ret      int64
	err      string
	outValue string // OK get: value read
	rev      uint64 // OK: revision written or read
}

// kvParser pairs kv invokes with their completions and collects fault
// windows as annotations, one op at a time. The zero value is ready.
type kvParser struct {
	st         LinearizableStats // Malformed and its examples
	calls      []*kvCall
	pending    map[int]*kvCall // process -> its outstanding call
	faults     []porcupine.Annotation
	openFaults []int // indexes into faults, in start order
	faultProc  []int // the process of each entry of faults
	maxTime    int64
}

// parseKV pairs kv invokes with their completions and collects fault
// windows as annotations.
func parseKV(h []history.Op, st *LinearizableStats) ([]*kvCall, []porcupine.Annotation) {
	p := kvParser{st: *st}
	for _, op := range h {
		p.observe(op)
	}
	calls, faults := p.finish()
	*st = p.st
	return calls, faults
}

func (p *kvParser) malformed(op history.Op, why string) {
	p.st.Malformed++
	if len(p.st.MalformedExamples) < maxLinExamples {
		p.st.MalformedExamples = append(p.st.MalformedExamples, fmt.Sprintf("op %d (process %d, %s %s): %s", op.Index, op.Process, op.Type, op.F, why))
	}
}

// observe takes in one op of the history.
func (p *kvParser) observe(op history.Op) {
	if p.pending == nil {
		p.pending = map[int]*kvCall{}
	}
	p.maxTime = max(p.maxTime, int64(op.Time))
	switch op.F {
	case history.FKVPut, history.FKVGet, history.FKVCas:
	case history.FFault:
		desc, details := describeFault(op.Value)
		switch op.Type {
		case history.Invoke:
			p.openFaults = append(p.openFaults, len(p.faults))
			p.faultProc = append(p.faultProc, op.Process)
			p.faults = append(p.faults, porcupine.Annotation{Tag: "nemesis", Start: int64(op.Time), End: -1, Description: desc, Details: details})
		case history.OK, history.Info:
			// The same process (each fault has its own), else the same
			// description, else the oldest.
			j := slices.IndexFunc(p.openFaults, func(i int) bool { return p.faultProc[i] == op.Process })
			if j < 0 {
				j = slices.IndexFunc(p.openFaults, func(i int) bool { return p.faults[i].Description == desc })
			}
			if j < 0 && len(p.openFaults) > 0 {
				j = 0
			}
			if op.Type == history.Info {
				details += "; heal failed: " + op.Err
			}
			if j < 0 { // an end without a start: mark the moment
				p.faults = append(p.faults, porcupine.Annotation{Tag: "nemesis", Start: int64(op.Time), End: int64(op.Time), Description: desc + " (end)", Details: details})
				p.faultProc = append(p.faultProc, op.Process)
				return
			}
			a := &p.faults[p.openFaults[j]]
			a.End = int64(op.Time)
			if op.Type == history.Info {
				a.Details = details
			}
			p.openFaults = slices.Delete(p.openFaults, j, j+1)
		}
		return
	default:
		return
	}
	m := kvFields(op.Value)
	if op.Type == history.Invoke {
		if prev := p.pending[op.Process]; prev != nil {
			p.malformed(op, fmt.Sprintf("invoke while op %d is outstanding", prev.index))
			delete(p.pending, op.Process)
		}
		key, ok := kvString(m["key"])
		if !ok {
			p.malformed(op, "no key")
			return
		}
		c := &kvCall{f: op.F, process: op.Process, index: op.Index, node: op.Node, key: key, call: int64(op.Time), typ: history.Info, ret: math.MaxInt64, done: -1}
		if op.F != history.FKVGet {
			c.value, _ = kvString(m["value"])
		}
		if op.F == history.FKVCas {
			c.expectRev, c.hasExpect = kvUint(m["expect_rev"])
		}
		p.calls = append(p.calls, c)
		p.pending[op.Process] = c
		return
	}
	c := p.pending[op.Process]
	if c == nil || c.f != op.F {
		p.malformed(op, "completion without a matching invoke")
		return
	}
	delete(p.pending, op.Process)
	c.typ, c.ret, c.err, c.done = op.Type, max(int64(op.Time), c.call), op.Err, op.Index
	if op.Node != "" {
		c.node = op.Node
	}
	if op.Type == history.OK {
		if op.F == history.FKVGet {
			c.outValue, _ = kvString(m["value"])
		}
		c.rev, _ = kvUint(m["rev"])
	}
}

// finish ends the parse, once, after the last op: the calls in invoke
// order, and the fault windows.
func (p *kvParser) finish() ([]*kvCall, []porcupine.Annotation) {
	// Invokes never completed stay Info with Return = MaxInt64.
	for i := range p.faults {
		if p.faults[i].End < 0 {
			p.faults[i].End = max(p.maxTime, p.faults[i].Start)
			p.faults[i].Details += "; not ended in the history"
		}
	}
	return p.calls, p.faults
}

// kvFields returns an op value as a map, whatever Go type it had in memory
// (a history read from JSON has map[string]any).
func kvFields(v any) map[string]any {
	switch m := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return m
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

func kvString(v any) (string, bool) {
	switch s := v.(type) {
	case nil:
		return "", false
	case string:
		return s, true
	case fmt.Stringer:
		return s.String(), true
	}
	return fmt.Sprint(v), true
}

func kvUint(v any) (uint64, bool) {
	switch n := v.(type) {
	case float64:
		if n >= 0 && n == math.Trunc(n) {
			return uint64(n), true
		}
	case json.Number:
		var u uint64
		if _, err := fmt.Sscan(n.String(), &u); err == nil {
			return u, true
		}
	case uint64:
		return n, true
	case uint:
		return uint64(n), true
	case uint32:
		return uint64(n), true
	case int:
		if n >= 0 {
			return uint64(n), true
		}
	case int64:
		if n >= 0 {
			return uint64(n), true
		}
	case int32:
		if n >= 0 {
			return uint64(n), true
		}
	}
	return 0, false
}
