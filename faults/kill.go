package faults

import (
	"context"
	"errors"
	"math/rand/v2"

	"jetstorm/clusters"
)

// Kill SIGKILLs the target nodes (default one); healing restarts them on
// the same store. The kernel page cache survives, so this loses no written
// data by itself. With Graceful (kind "restart") the nodes get SIGTERM and
// shut down cleanly instead.
type Kill struct{ Graceful bool }

func (k Kill) Name() string {
	if k.Graceful {
		return "restart"
	}
	return "kill"
}

func (Kill) NeedsLinks() bool { return false }

func (Kill) Check(s Spec, nodes int) error { return checkTarget(s.Target, nodes) }

func (k Kill) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	names, err := ResolveTargets(ctx, c, env, s.Target, "one", rng)
	if err != nil {
		return nil, err
	}
	nodes, err := nodesNamed(c, names)
	if err != nil {
		return nil, err
	}
	var errs []error
	signal := "SIGKILL"
	for _, n := range nodes {
		if k.Graceful {
			signal = "SIGTERM"
			errs = append(errs, n.Stop(ctx))
		} else {
			errs = append(errs, n.Kill())
		}
	}
	return &Injection{
		Targets: names,
		Params:  map[string]any{"signal": signal},
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
