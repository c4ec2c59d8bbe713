package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"

	"jetstorm/clusters"
)

// Disk corruption faults (bitflip, truncate, rollback) change a node's store
// files (through clusters.Store, so any backend that reaches its nodes'
// stores can take them) while the node is down, then restart it on them:
// what does the server make of a damaged disk? Each records which files it
// touched and how. Shared code lives here; each fault is its own file.

// CorruptParams are a corruption fault's parameters (keys count, files),
// the same in a timeline step and in the faults: section.
type CorruptParams struct {
	Count int `yaml:"count" json:"count,omitempty"` // bitflip: bits per file (3); truncate: bytes (random); rollback: 4 KiB chunks (4)
	// Files: only store files that match one of these: a StoreGroups name
	// (raft-state) or a fragment of the path (.blk); none: any file.
	Files []string `yaml:"files" json:"files,omitempty"`
}

// corruptParams is what the corruption faults share about their parameters.
type corruptParams struct{}

func (corruptParams) StepParams() any   { return &CorruptParams{} }
func (corruptParams) RandomParams() any { return &CorruptParams{} }

func (corruptParams) Draw(_ *rand.Rand, random any) Params { return *random.(*CorruptParams) }

func (corruptParams) CheckRandom(random any, nodes []string) error {
	if random.(*CorruptParams).Count < 0 {
		return fieldErr("count", "must not be negative")
	}
	return nil
}

func (corruptParams) Check(s Spec, nodes []string) error {
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	if paramsOf[CorruptParams](s).Count < 0 {
		return fieldErr("count", "must not be negative")
	}
	return nil
}

// pickFiles chooses up to k distinct store files of a node that match one
// of the patterns (fileMatches: a group name or a path fragment; none: any
// file).
func pickFiles(st clusters.Store, k int, patterns []string, rng *rand.Rand) ([]string, error) {
	all, err := st.Files()
	if err != nil {
		return nil, err
	}
	var cand []string
	for _, f := range all {
		if len(patterns) == 0 {
			cand = append(cand, f)
			continue
		}
		for _, p := range patterns {
			if fileMatches(f, p) {
				cand = append(cand, f)
				break
			}
		}
	}
	if len(cand) == 0 {
		return nil, fmt.Errorf("no store files matching %v", patterns)
	}
	rng.Shuffle(len(cand), func(i, j int) { cand[i], cand[j] = cand[j], cand[i] })
	if k > len(cand) {
		k = len(cand)
	}
	out := cand[:k]
	sort.Strings(out)
	return out, nil
}

// nodeStores are the stores of the target nodes.
func nodeStores(nodes []clusters.Node) ([]clusters.Store, error) {
	var out []clusters.Store
	for _, n := range nodes {
		st := n.Store()
		if st == nil {
			return nil, fmt.Errorf("node %s: its store cannot be reached on this backend", n.Name())
		}
		out = append(out, st)
	}
	return out, nil
}

// corruptDown is the shape of bitflip and truncate: kill the targets, damage
// their files with damage, and heal by restarting them.
func corruptDown(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand,
	damage func(st clusters.Store, rng *rand.Rand) ([]map[string]any, error)) (*Injection, error) {
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "one", rng)
	if err != nil {
		return nil, err
	}
	stores, err := nodeStores(nodes)
	if err != nil {
		return nil, err
	}
	touched := map[string]any{}
	inj := &Injection{Targets: names, Params: map[string]any{"files": touched}, Heal: startStopped(nodes)}
	for i, n := range nodes {
		if err := n.Kill(); err != nil {
			return inj, err
		}
		changes, err := damage(stores[i], rng)
		touched[n.Name()] = changes
		if err != nil {
			return inj, fmt.Errorf("%s: %w", n.Name(), err)
		}
	}
	return inj, nil
}
