package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"jetstorm/clusters"
)

// PowerLoss cuts the power of the target nodes (default one): SIGKILL the
// node and the powerfs process holding its unsynced writes, so everything
// not fsynced is gone, as after an OS crash. Healing restarts them (a fresh
// mount of what reached the disk). Needs cluster.powerloss_fs (process and
// docker backends).
type PowerLoss struct{ NoParams }

// powerCutter is a node whose store can lose unsynced data.
type powerCutter interface {
	PowerLoss() (droppedBytes int64, err error)
}

func (PowerLoss) Name() string                       { return "powerloss" }
func (PowerLoss) Needs() Needs                       { return Needs{PowerFS: true} }
func (PowerLoss) Check(s Spec, nodes []string) error { return checkTarget(s.Target, nodes) }

func (PowerLoss) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "one", rng)
	if err != nil {
		return nil, err
	}
	dropped := map[string]int64{}
	var errs []error
	// Cut every target before restarting any: "all" is one blackout.
	for _, n := range nodes {
		pc, ok := n.(powerCutter)
		if !ok {
			return nil, fmt.Errorf("powerloss: node %s cannot lose power (it needs cluster.powerloss_fs, on the process or docker backend)", n.Name())
		}
		b, err := pc.PowerLoss()
		dropped[n.Name()] = b
		errs = append(errs, err)
	}
	return &Injection{
		Targets: names,
		Params:  map[string]any{"unsynced_bytes_lost": dropped},
		Heal:    startStopped(nodes),
	}, errors.Join(errs...)
}
