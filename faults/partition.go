package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	"jetstorm/clusters"
)

// Partition cuts route links between nodes: jetstorm's link proxies stop
// passing bytes on a cut link (process backend; see clusters.Link.Cut), or
// kernel rules drop its packets (docker backend; clusters.DockerLink),
// silently (no reset, like a pulled cable), and exactly: once Inject
// returns, no byte crosses a cut link, even towards a paused node; healing
// restores every cut link.
// Shapes:
//   - isolate: the target nodes (default one) from the rest
//   - halves:  a random minority | majority split
//   - bridge:  two sides that share one node, which still sees both
//   - links:   the node pairs listed in Links
//
// A timeline step gives shape and links; the faults: section lists shapes
// to choose from (default [isolate]; not links).
//
// Client connections are not cut: a client pinned to a cut-off node still
// reaches it, as a client in the same rack would.
type Partition struct{}

var PartitionShapes = []string{"isolate", "halves", "bridge", "links"}

// PartitionParams are a partition's parameters (timeline keys shape, links).
type PartitionParams struct {
	Shape string     `yaml:"shape" json:"shape,omitempty"` // isolate (default), halves, bridge, links
	Links [][]string `yaml:"links" json:"links,omitempty"` // shape links: node pairs to cut, e.g. [[n1, n2]]
}

// partitionRandom is the faults: section's partition key.
type partitionRandom struct {
	Shapes []string `yaml:"shapes"` // to choose from; default [isolate]
}

func (Partition) Name() string      { return "partition" }
func (Partition) Needs() Needs      { return Needs{Links: true} }
func (Partition) StepParams() any   { return &PartitionParams{} }
func (Partition) RandomParams() any { return &partitionRandom{} }

func (Partition) Draw(rng *rand.Rand, random any) Params {
	return PartitionParams{Shape: pick(rng, random.(*partitionRandom).Shapes, "isolate")}
}

func (Partition) CheckRandom(random any, nodes []string) error {
	var errs []error
	for i, sh := range random.(*partitionRandom).Shapes {
		key := fmt.Sprintf("shapes[%d]", i)
		switch {
		case sh == "links":
			errs = append(errs, fieldErr(key, "links: a shape with explicit links belongs in a timeline step"))
		case !slices.Contains(PartitionShapes, sh):
			errs = append(errs, fieldErr(key, "%q is not a partition shape (known: isolate, halves, bridge, links)", sh))
		}
	}
	return errors.Join(errs...)
}

func (Partition) Check(s Spec, nodes []string) error {
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	p := paramsOf[PartitionParams](s)
	shape := p.Shape
	if shape == "" && len(p.Links) > 0 {
		shape = "links"
	}
	switch shape {
	case "", "isolate", "halves", "bridge":
		if len(p.Links) > 0 {
			return fieldErr("links", "links are only for shape links, not %q", shape)
		}
	case "links":
		if len(p.Links) == 0 {
			return fieldErr("links", "shape links needs a list of node pairs, e.g. [[n1, n2]]")
		}
		for _, l := range p.Links {
			if len(l) != 2 || l[0] == l[1] {
				return fieldErr("links", "%v is not a pair of two different nodes", l)
			}
			for _, n := range l {
				if !slices.Contains(nodes, n) {
					return fieldErr("links", "%q is not a node of this %d-node cluster", n, len(nodes))
				}
			}
		}
	default:
		return fieldErr("shape", "%q is not a partition shape (known: isolate, halves, bridge, links)", p.Shape)
	}
	if len(nodes) < 2 {
		return fieldErr("kind", "a partition needs at least 2 nodes")
	}
	return nil
}

func (Partition) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	net, ok := c.(clusters.Network)
	if !ok {
		return nil, fmt.Errorf("partition: jetstorm does not control this cluster's links")
	}
	var all []string
	for _, n := range c.Nodes() {
		all = append(all, n.Name())
	}
	sort.Strings(all)
	p := paramsOf[PartitionParams](s)
	shape := p.Shape
	if shape == "" {
		shape = "isolate"
		if len(p.Links) > 0 {
			shape = "links"
		}
	}
	var pairs [][2]string
	var sides [][]string
	switch shape {
	case "isolate":
		a, err := ResolveTargets(ctx, c, env, s.Target, "one", rng)
		if err != nil {
			return nil, err
		}
		b := without(all, a)
		sides, pairs = [][]string{a, b}, between(a, b)
	case "halves":
		p := shuffled(all, rng)
		a, b := p[:len(p)/2], p[len(p)/2:]
		sides, pairs = [][]string{sorted(a), sorted(b)}, between(a, b)
	case "bridge":
		p := shuffled(all, rng)
		m := len(p) / 2
		left, mid, right := p[:m], p[m], p[m+1:]
		if len(right) == 0 { // 2 nodes: nothing to bridge; cut the pair
			right, mid = []string{mid}, ""
		}
		sides, pairs = [][]string{sorted(append(slices.Clone(left), mid)), sorted(append(slices.Clone(right), mid))}, between(left, right)
		if mid == "" {
			sides = [][]string{sorted(left), sorted(right)}
		}
	case "links":
		for _, l := range p.Links {
			pairs = append(pairs, [2]string{l[0], l[1]})
		}
	default:
		return nil, fmt.Errorf("partition: unknown shape %q", shape)
	}
	var links []clusters.LinkControl
	for _, p := range pairs {
		for _, l := range []clusters.LinkControl{net.Link(p[0], p[1]), net.Link(p[1], p[0])} {
			if l == nil {
				return nil, fmt.Errorf("partition: no controlled link %s-%s (link_proxies off?)", p[0], p[1])
			}
			links = append(links, l)
		}
	}
	for _, l := range links {
		l.Cut()
	}
	var targets []string
	for _, p := range pairs {
		targets = append(targets, p[0], p[1])
	}
	slices.Sort(targets)
	return &Injection{
		Targets: slices.Compact(targets),
		Params:  map[string]any{"shape": shape, "sides": sides, "cut": pairs},
		Heal: func(ctx context.Context) error {
			for _, l := range links {
				l.Heal()
			}
			return nil
		},
	}, nil
}

func without(all, drop []string) []string {
	var out []string
	for _, n := range all {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}

func between(a, b []string) [][2]string {
	var out [][2]string
	for _, x := range a {
		for _, y := range b {
			if x != y {
				out = append(out, [2]string{x, y})
			}
		}
	}
	return out
}

func shuffled(names []string, rng *rand.Rand) []string {
	out := slices.Clone(names)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
