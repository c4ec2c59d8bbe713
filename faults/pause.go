package faults

import (
	"context"
	"errors"
	"math/rand/v2"

	"jetstorm/clusters"
)

// Pause freezes the target nodes (default one) with SIGSTOP: the process
// holds its sockets but answers nothing, like a long GC pause or a hung VM.
// Healing sends SIGCONT.
type Pause struct{ NoParams }

func (Pause) Name() string                       { return "pause" }
func (Pause) Needs() Needs                       { return Needs{} }
func (Pause) Check(s Spec, nodes []string) error { return checkTarget(s.Target, nodes) }

func (Pause) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "one", rng)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, n := range nodes {
		errs = append(errs, n.Pause())
	}
	return &Injection{
		Targets: names,
		Params:  map[string]any{"signal": "SIGSTOP"},
		Heal: func(ctx context.Context) error {
			var errs []error
			for _, n := range nodes {
				errs = append(errs, n.Resume())
			}
			return errors.Join(errs...)
		},
	}, errors.Join(errs...)
}
