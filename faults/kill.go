package faults

import (
	"context"
	"errors"
	"math/rand/v2"

	"jetstorm/clusters"
)

// Kill SIGKILLs the target nodes; healing restarts them on the same store.
// The kernel page cache survives, so this loses no written data by itself.
type Kill struct{}

func (Kill) Name() string { return "kill" }

func (Kill) Inject(ctx context.Context, c clusters.Cluster, env Env, target string, rng *rand.Rand) (*Injection, error) {
	names, err := ResolveTargets(ctx, c, env, target, rng)
	if err != nil {
		return nil, err
	}
	nodes, err := nodesNamed(c, names)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, n := range nodes {
		errs = append(errs, n.Kill())
	}
	return &Injection{
		Targets: names,
		Params:  map[string]any{"signal": "SIGKILL"},
		Heal: func(ctx context.Context) error {
			var errs []error
			for _, n := range nodes {
				if !n.Running() {
					errs = append(errs, n.Start(ctx))
				}
			}
			return errors.Join(errs...)
		},
	}, errors.Join(errs...)
}
