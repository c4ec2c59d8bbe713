// The porcupine model of Linearizable: one register per key (see the
// comment at the top of linearizable.go).

package checker

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"

	"jetstorm/history"
)

// kvKind is a model operation's kind.
type kvKind uint8

const (
	kvPut kvKind = iota
	kvGet
	kvCas
	kvToken // an unread indeterminate write becoming available (see kvState)
)

// unreadValue is the state of a key holding a value that no get read and no
// cas expected: all such values are interchangeable for the model.
const unreadValue = "\x00unread"

// kvInput is a porcupine operation's input.
type kvInput struct {
	kind      kvKind
	key       string
	value     string // model value written (unreadValue for unread values)
	shown     string // value as written, for descriptions
	expect    string // cas: expected value (when resolved)
	expectRev uint64
	resolved  bool // cas: expect is known
	maybe     bool // indeterminate: applied or not
	read      bool // indeterminate, but its value was read: applied
	cond      bool // token: usable only while the value is expect
	cas       bool // token: of a cas
}

// kvState is the model state of one key: its value, and the unread
// indeterminate writes invoked so far that may still be applied. Such a
// write only matters to a failed cas that finds the expected value (see
// the comment at the top of linearizable.go), so it is applied lazily,
// right before the first failed cas that needs it: free counts
// unconditional ones (puts, cas with an unknown expected revision), cond
// those of cas expecting the current value (reset whenever the value
// changes: values are unique, so a value once replaced never comes back).
type kvState struct {
	value      string
	free, cond int
}

// kvOutput is a porcupine operation's output.
type kvOutput struct {
	key    string
	value  string // get: value read
	rev    uint64
	failed bool // cas: definite "wrong last sequence"
}

// kvMeta is a porcupine operation's metadata (shown in the visualization).
type kvMeta struct {
	index   int64
	done    int64
	process int
	node    string
	typ     history.OpType
	err     string
}

// kvModel is the per-key register model.
func kvModel() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition:      kvPartition,
		PartitionEvent: kvPartitionEvent,
		Init:           func() []any { return []any{kvState{}} },
		Step:           kvStep,
		Equal:          func(a, b any) bool { return a.(kvState) == b.(kvState) },
		Hash: func(a any) uint64 { // FNV-1a
			s := a.(kvState)
			h := uint64(14695981039346656037)
			for _, b := range []byte(s.value) {
				h = (h ^ uint64(b)) * 1099511628211
			}
			h = (h ^ uint64(s.free)) * 1099511628211
			return (h ^ uint64(s.cond)) * 1099511628211
		},
		DescribeOperation: describeKVOp,
		DescribeState: func(a any) string {
			s := a.(kvState)
			d := describeKVValue(s.value)
			if n := s.free + s.cond; n > 0 {
				d += fmt.Sprintf(" [%d unread indeterminate %s pending]", n, plural(n, "write", "writes"))
			}
			return d
		},
		DescribeOperationMetadata: func(m any) string {
			meta, ok := m.(kvMeta)
			if !ok {
				return ""
			}
			s := fmt.Sprintf("ops %d→%d, process %d, %s", meta.index, meta.done, meta.process, meta.typ)
			if meta.done < 0 {
				s = fmt.Sprintf("op %d, process %d, never completed", meta.index, meta.process)
			}
			if meta.node != "" {
				s += ", node " + meta.node
			}
			if meta.err != "" {
				s += ", err: " + meta.err
			}
			return s
		},
	}
	return nm.ToModel()
}

func kvStep(state, input, output any) []any {
	s := state.(kvState)
	in := input.(*kvInput)
	out := output.(*kvOutput)
	wrote := kvState{value: in.value, free: s.free}
	switch in.kind {
	case kvGet:
		if s.value == out.value {
			return []any{s}
		}
		return nil
	case kvToken:
		switch {
		case !in.cond:
			s.free++
		case s.value == in.expect:
			s.cond++
		} // else the expected value is gone for good: the cas can never apply
		return []any{s}
	case kvPut:
		if in.maybe {
			return []any{s, wrote}
		}
		return []any{wrote}
	}
	// cas
	switch {
	case out.failed:
		switch {
		case s.value != in.expect:
			return []any{s}
		case s.cond > 0: // apply a pending unread write (a cas expecting this value) first
			return []any{kvState{value: unreadValue, free: s.free}}
		case s.free > 0: // apply a pending unread write first
			return []any{kvState{value: unreadValue, free: s.free - 1}}
		}
		return nil
	case !in.resolved && in.maybe:
		return []any{s, wrote}
	case !in.resolved:
		return []any{wrote}
	case in.maybe:
		if s.value == in.expect {
			return []any{s, wrote}
		}
		return []any{s}
	case s.value == in.expect:
		return []any{wrote}
	}
	return nil
}

func kvPartition(ops []porcupine.Operation) [][]porcupine.Operation {
	return groupByKey(ops, func(op porcupine.Operation) string { return op.Input.(*kvInput).key })
}

func kvPartitionEvent(events []porcupine.Event) [][]porcupine.Event {
	return groupByKey(events, func(e porcupine.Event) string {
		switch v := e.Value.(type) {
		case *kvInput:
			return v.key
		case *kvOutput:
			return v.key
		}
		return ""
	})
}

// groupByKey splits xs by key, in key order, keeping the order within a key.
func groupByKey[T any](xs []T, key func(T) string) [][]T {
	by := map[string][]T{}
	for _, x := range xs {
		k := key(x)
		by[k] = append(by[k], x)
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([][]T, len(keys))
	for i, k := range keys {
		parts[i] = by[k]
	}
	return parts
}
