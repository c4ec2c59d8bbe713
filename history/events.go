package history

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Statuses of a FaultWindow.
const (
	FaultHealed      = "healed"       // its end op is ok
	FaultHealFailed  = "heal failed"  // its end op is info
	FaultNotHealed   = "not healed"   // no end op: it lasts to the end of the history
	FaultNotInjected = "not injected" // a fail op: the fault could not be injected
)

// FaultWindow is one fault of a history, from its invoke to its end op.
type FaultWindow struct {
	Start, End time.Duration
	Kind       string
	Nodes      []string
	Status     string // FaultHealed, FaultHealFailed, FaultNotHealed or FaultNotInjected
	Err        string
	Params     string // the rest of the op's value as "k=v" pairs in key order (see Compact)
}

// Label is the fault's kind and nodes: "kill n1,n2".
func (f FaultWindow) Label() string {
	if len(f.Nodes) == 0 {
		return f.Kind
	}
	return f.Kind + " " + strings.Join(f.Nodes, ",")
}

// FaultWindows pairs each fault invoke with the next fault end (ok or
// info) of the same process (each fault of a plan has its own process, so
// overlapping faults pair correctly; in older histories every fault had
// the same one and faults ran one after another). A fault that never ended
// lasts until end. Fail ops (a fault that could not be injected) are
// returned separately, as notInjected windows of no length.
func FaultWindows(ops []Op, end time.Duration) (injected, notInjected []FaultWindow) {
	open := map[int][]int{} // process -> indices into injected, oldest first
	for _, op := range ops {
		if op.F != FFault {
			continue
		}
		switch op.Type {
		case Invoke:
			w := describeFault(op.Value)
			w.Start, w.End, w.Status, w.Err = op.Time, end, FaultNotHealed, op.Err
			injected = append(injected, w)
			open[op.Process] = append(open[op.Process], len(injected)-1)
		case Fail:
			w := describeFault(op.Value)
			w.Start, w.End, w.Status, w.Err = op.Time, op.Time, FaultNotInjected, op.Err
			notInjected = append(notInjected, w)
		default:
			q := open[op.Process]
			if len(q) == 0 {
				continue
			}
			w := &injected[q[0]]
			open[op.Process] = q[1:]
			w.End = max(op.Time, w.Start)
			w.Status = FaultHealed
			if op.Type == Info {
				w.Status = FaultHealFailed
				w.Err = op.Err
			}
		}
	}
	return injected, notInjected
}

// describeFault reads kind and nodes from a fault op's value and renders
// the other fields as "k=v" pairs in key order.
func describeFault(v any) FaultWindow {
	var w FaultWindow
	m, ok := v.(map[string]any)
	if !ok {
		if v != nil {
			w.Kind = fmt.Sprint(v)
		}
		return w
	}
	w.Kind, _ = m["kind"].(string)
	switch ns := m["nodes"].(type) {
	case []any:
		for _, n := range ns {
			w.Nodes = append(w.Nodes, fmt.Sprint(n))
		}
	case []string:
		w.Nodes = append(w.Nodes, ns...)
	case string:
		w.Nodes = []string{ns}
	}
	var rest []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k == "kind" || k == "nodes" {
			continue
		}
		if s := Compact(m[k]); s != "" {
			rest = append(rest, k+"="+s)
		}
	}
	w.Params = strings.Join(rest, " ")
	return w
}

// Compact renders a value read back from JSON on one line: a map as "k=v"
// pairs in key order (nested maps flattened the same way), a string as
// itself, anything else as JSON. Empty maps and nulls are "".
func Compact(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if s := Compact(x[k]); s != "" {
				parts = append(parts, k+"="+s)
			}
		}
		return strings.Join(parts, " ")
	}
	b, err := json.Marshal(v) // maps inside marshal with sorted keys
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
