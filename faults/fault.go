// Package faults injects failures into a cluster: one file per fault, one
// entry in Registry per fault kind, and a seeded scheduler.
package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"jetstorm/clusters"
)

// Env is what a fault may need to know about the run besides the cluster.
type Env struct {
	Stream string // the stream under test, for stream-leader targets
}

// Spec says which fault to inject and how. Fields a kind does not use are empty.
type Spec struct {
	Kind         string        `json:"kind"`
	Target       string        `json:"target,omitempty"`        // a TargetSpecs name or a node name
	Shape        string        `json:"shape,omitempty"`         // partition: isolate, halves, bridge, links
	Links        [][]string    `json:"links,omitempty"`         // partition shape links: node pairs to cut
	Delay        time.Duration `json:"delay,omitempty"`         // slowlink: added one-way latency per link
	Rate         int64         `json:"rate,omitempty"`          // slowlink: bytes/s per link direction
	SyncInterval string        `json:"sync_interval,omitempty"` // sync-interval: "always" or a duration
	Count        int           `json:"count,omitempty"`         // bitflip: bits per file; truncate: bytes; rollback: chunks
	Files        []string      `json:"files,omitempty"`         // corruption: only store files whose path contains one of these
}

// Injection is an injected fault: what it hit, and how to undo it.
type Injection struct {
	Targets []string       // node names
	Params  map[string]any // what exactly was done, for the history
	Heal    func(ctx context.Context) error
}

// Fault is one kind of failure.
type Fault interface {
	Name() string
	// Check validates a spec for a cluster of n nodes; the error names the
	// spec field at fault (see FieldError).
	Check(s Spec, nodes int) error
	// Needs says what the cluster must provide for this fault.
	Needs() Needs
	// Inject applies the fault now.
	Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error)
}

// Needs are cluster features a fault depends on.
type Needs struct {
	Links   bool // link proxies on every route link (partition, slowlink)
	PowerFS bool // powerfs under every store dir (powerloss)
}

// Registry lists every fault kind by name. Adding a fault = one file + one entry.
var Registry = map[string]Fault{
	"kill":          Kill{},
	"restart":       Kill{Graceful: true},
	"pause":         Pause{},
	"partition":     Partition{},
	"slowlink":      SlowLink{},
	"sync-interval": SyncIntervalChange{},
	"powerloss":     PowerLoss{},
	"bitflip":       BitFlip{},
	"truncate":      Truncate{},
	"rollback":      Rollback{},
	"leader":        Leader{},
}

// Kinds lists the registered fault kinds, sorted.
func Kinds() []string {
	var ks []string
	for k := range Registry {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// FieldError is a Check error about one Spec field ("target", "shape", ...).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Check validates a spec: a known kind, then the kind's own checks.
func Check(s Spec, nodes int) error {
	f, ok := Registry[s.Kind]
	if !ok {
		return fieldErr("kind", "%q is not a known fault kind (known: %s)", s.Kind, strings.Join(Kinds(), ", "))
	}
	return f.Check(s, nodes)
}

// TargetSpecs are the target names a fault accepts besides node names.
var TargetSpecs = []string{"one", "minority", "majority", "all", "stream-leader", "meta-leader"}

// NodeNames are the names the process backend gives a cluster's nodes.
func NodeNames(nodes int) []string {
	var names []string
	for i := 1; i <= nodes; i++ {
		names = append(names, fmt.Sprintf("n%d", i))
	}
	return names
}

// checkTarget validates a target spec for a cluster of n nodes.
func checkTarget(target string, nodes int) error {
	if target == "" || slices.Contains(TargetSpecs, target) || slices.Contains(NodeNames(nodes), target) {
		return nil
	}
	return fieldErr("target", "%q is not a target of this %d-node cluster (known: %s, or a node %s)",
		target, nodes, strings.Join(TargetSpecs, ", "), strings.Join(NodeNames(nodes), ", "))
}

// ResolveTargets turns a target spec into node names, choosing with rng
// among nodes in name order so a seed gives the same choice. "" means def.
func ResolveTargets(ctx context.Context, c clusters.Cluster, env Env, spec, def string, rng *rand.Rand) ([]string, error) {
	if spec == "" {
		spec = def
	}
	var names []string
	for _, n := range c.Nodes() {
		names = append(names, n.Name())
	}
	sort.Strings(names)
	pick := func(k int) []string {
		p := rng.Perm(len(names))[:k]
		out := make([]string, k)
		for i, j := range p {
			out[i] = names[j]
		}
		slices.Sort(out)
		return out
	}
	n := len(names)
	switch spec {
	case "one":
		return pick(1), nil
	case "minority":
		return pick(max(1, (n-1)/2)), nil
	case "majority":
		return pick(n/2 + 1), nil
	case "all":
		return names, nil
	case "meta-leader":
		l, err := clusters.MetaLeader(ctx, c)
		if err != nil {
			return nil, err
		}
		return []string{l}, nil
	case "stream-leader":
		l, err := clusters.StreamLeader(ctx, c, env.Stream)
		if err != nil {
			return nil, err
		}
		return []string{l}, nil
	}
	if slices.Contains(names, spec) {
		return []string{spec}, nil
	}
	return nil, fmt.Errorf("unknown fault target %q (known: %v, or a node name)", spec, TargetSpecs)
}

// targetNodes resolves a target spec (default def) to names and nodes.
func targetNodes(ctx context.Context, c clusters.Cluster, env Env, spec, def string, rng *rand.Rand) ([]string, []clusters.Node, error) {
	names, err := ResolveTargets(ctx, c, env, spec, def, rng)
	if err != nil {
		return nil, nil, err
	}
	nodes, err := nodesNamed(c, names)
	return names, nodes, err
}

// startStopped is the heal of faults that take nodes down: start every one
// of them that is not running.
func startStopped(nodes []clusters.Node) func(context.Context) error {
	return func(ctx context.Context) error {
		var errs []error
		for _, n := range nodes {
			if !n.Running() {
				errs = append(errs, n.Start(ctx))
			}
		}
		return errors.Join(errs...)
	}
}

func nodesNamed(c clusters.Cluster, names []string) ([]clusters.Node, error) {
	var ns []clusters.Node
	for _, name := range names {
		n := clusters.NodeByName(c, name)
		if n == nil {
			return nil, fmt.Errorf("no node %q in cluster", name)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// specJSON shows durations as strings.
type specJSON struct {
	Kind         string     `json:"kind"`
	Target       string     `json:"target,omitempty"`
	Shape        string     `json:"shape,omitempty"`
	Links        [][]string `json:"links,omitempty"`
	Delay        string     `json:"delay,omitempty"`
	Rate         int64      `json:"rate,omitempty"`
	SyncInterval string     `json:"sync_interval,omitempty"`
	Count        int        `json:"count,omitempty"`
	Files        []string   `json:"files,omitempty"`
}

func (s Spec) MarshalJSON() ([]byte, error) {
	j := specJSON{Kind: s.Kind, Target: s.Target, Shape: s.Shape, Links: s.Links, Rate: s.Rate, SyncInterval: s.SyncInterval, Count: s.Count, Files: s.Files}
	if s.Delay > 0 {
		j.Delay = s.Delay.String()
	}
	return json.Marshal(j)
}

func (s *Spec) UnmarshalJSON(b []byte) error {
	var j specJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Spec{Kind: j.Kind, Target: j.Target, Shape: j.Shape, Links: j.Links, Rate: j.Rate, SyncInterval: j.SyncInterval, Count: j.Count, Files: j.Files}
	if j.Delay != "" {
		d, err := time.ParseDuration(j.Delay)
		if err != nil {
			return err
		}
		s.Delay = d
	}
	return nil
}
