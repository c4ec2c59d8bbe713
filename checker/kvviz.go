// Linearizable's HTML visualization: porcupine's client rows, the
// descriptions of operations, states and faults, and writing the file.

package checker

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"
)

// assignClients gives each operation the lowest ClientId free at its call
// (interval colouring), so the visualization has one row per concurrent
// client rather than one per (retired) process.
func assignClients(ops []porcupine.Operation) {
	order := make([]int, len(ops))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ops[order[a]].Call < ops[order[b]].Call })
	var busyUntil []int64
	for _, i := range order {
		id := slices.IndexFunc(busyUntil, func(t int64) bool { return t < ops[i].Call })
		if id < 0 {
			id = len(busyUntil)
			busyUntil = append(busyUntil, 0)
		}
		busyUntil[id] = ops[i].Return
		ops[i].ClientId = id
	}
}

func describeKVValue(v string) string {
	switch v {
	case "":
		return "(absent)"
	case unreadValue:
		return "(a value never read)"
	}
	return v
}

func describeKVOp(input, output any) string {
	in := input.(*kvInput)
	out := output.(*kvOutput)
	var s string
	switch in.kind {
	case kvGet:
		s = fmt.Sprintf("get %s → %s", in.key, describeKVValue(out.value))
		if out.rev != 0 {
			s += fmt.Sprintf(" @%d", out.rev)
		}
		return s
	case kvPut:
		s = fmt.Sprintf("put %s=%s", in.key, in.shown)
	case kvToken:
		switch {
		case in.cond:
			s = fmt.Sprintf("cas %s: %s → %s", in.key, describeKVValue(in.expect), in.shown)
		case in.cas && in.resolved:
			s = fmt.Sprintf("cas %s: %s (or any) → %s", in.key, describeKVValue(in.expect), in.shown)
		case in.cas:
			s = fmt.Sprintf("cas %s: rev %d (unknown value) → %s", in.key, in.expectRev, in.shown)
		default:
			s = fmt.Sprintf("put %s=%s", in.key, in.shown)
		}
	default:
		from := describeKVValue(in.expect)
		if !in.resolved {
			from = fmt.Sprintf("rev %d (unknown value)", in.expectRev)
		}
		s = fmt.Sprintf("cas %s: %s → %s", in.key, from, in.shown)
	}
	switch {
	case out.failed:
		s += " (failed)"
	case in.kind == kvToken:
		s += " (indeterminate, never read)"
	case in.maybe:
		s += " (unknown outcome)"
	case in.read:
		s += " (indeterminate, value read)"
	case out.rev != 0:
		s += fmt.Sprintf(" @%d", out.rev)
	}
	return s
}

// describeFault renders a fault op's value as "kind node,node" plus the
// whole value as details.
func describeFault(v any) (desc, details string) {
	m := kvFields(v)
	kind, _ := kvString(m["kind"])
	if kind == "" {
		kind = "fault"
	}
	var nodes []string
	switch ns := m["nodes"].(type) {
	case []string:
		nodes = ns
	case []any:
		for _, n := range ns {
			s, _ := kvString(n)
			nodes = append(nodes, s)
		}
	case nil:
	default:
		s, _ := kvString(ns)
		nodes = append(nodes, s)
	}
	desc = kind
	if len(nodes) > 0 {
		desc += " " + strings.Join(nodes, ",")
	}
	if b, err := json.Marshal(m); err == nil {
		details = string(b)
	}
	return desc, details
}

// visualize writes porcupine's HTML, turning a panic inside porcupine into
// an error.
func visualize(model porcupine.Model, info porcupine.LinearizationInfo, path string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("porcupine visualization panicked: %v", p)
		}
	}()
	return porcupine.VisualizePath(model, info, path)
}
