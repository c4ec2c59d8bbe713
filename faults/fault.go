// Package faults injects failures into a cluster: one file per fault, one
// entry in Registry per fault kind, and a seeded scheduler.
package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	"jetstorm/clusters"
)

// Env is what a fault may need to know about the run besides the cluster.
type Env struct {
	Stream string // the stream under test, for stream-leader targets
}

// Injection is an injected fault: what it hit, and how to undo it.
type Injection struct {
	Targets []string       // node names
	Params  map[string]any // fault parameters, for the history
	Heal    func(ctx context.Context) error
}

// Fault is one kind of failure.
type Fault interface {
	Name() string
	// Inject applies the fault to the nodes the target spec names now.
	Inject(ctx context.Context, c clusters.Cluster, env Env, target string, rng *rand.Rand) (*Injection, error)
}

// Registry lists every fault kind by name. Adding a fault = one file + one entry.
var Registry = map[string]Fault{
	"kill": Kill{},
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

// TargetSpecs are the target names a fault accepts.
var TargetSpecs = []string{"one", "minority", "majority", "all", "stream-leader", "meta-leader"}

// ResolveTargets turns a target spec into node names, choosing with rng
// among nodes in name order so a seed gives the same choice.
func ResolveTargets(ctx context.Context, c clusters.Cluster, env Env, spec string, rng *rand.Rand) ([]string, error) {
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
	return nil, fmt.Errorf("unknown fault target %q (known: %v)", spec, TargetSpecs)
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
