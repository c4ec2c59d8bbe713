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
type Kill struct {
	NoParams
	Graceful bool
}

func (k Kill) Name() string {
	if k.Graceful {
		return "restart"
	}
	return "kill"
}

func (Kill) Needs() Needs { return Needs{} }

func (Kill) Check(s Spec, nodes []string) error { return checkTarget(s.Target, nodes) }

func (k Kill) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "one", rng)
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
		Heal:    startStopped(nodes),
	}, errors.Join(errs...)
}
