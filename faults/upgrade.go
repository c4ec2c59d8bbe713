package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	"jetstorm/clusters"
)

// Upgrade is a rolling upgrade (or downgrade) during the run, what every
// operator does: node by node (the targets, default all, in name order),
// stop it the way the official Helm chart's preStop hook does (lame duck),
// replace its server with `to` (a release such as v2.12.1, built from the
// module proxy and cached, "embedded", or a path), start it, wait for a
// healthy cluster, then the next. Between the steps the cluster runs mixed
// versions, which is the point. It lasts for the run (no heal). Each
// node's version before and after, read from /varz, goes into the history.
// Process backend only (a docker cluster runs one image).
type Upgrade struct{}

// UpgradeParams are an upgrade's parameters (timeline key to).
type UpgradeParams struct {
	To string `yaml:"to" json:"to,omitempty"` // the server to move to: v2.12.1, embedded, or a path
}

func (Upgrade) Name() string                { return "upgrade" }
func (Upgrade) Needs() Needs                { return Needs{Servers: true} }
func (Upgrade) StepParams() any             { return &UpgradeParams{} }
func (Upgrade) RandomParams() any           { return nil }
func (Upgrade) Draw(*rand.Rand, any) Params { return nil }

func (Upgrade) CheckRandom(any, []string) error { return nil }

// TimelineOnly: a random schedule has no version to draw.
func (Upgrade) TimelineOnly() {}

func (Upgrade) Check(s Spec, nodes []string) error {
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	to := paramsOf[UpgradeParams](s).To
	if to == "" {
		return fieldErr("to", "to is missing: the server to upgrade to (a version such as v2.12.1, embedded, or a path); upgrade is a timeline step")
	}
	if _, err := clusters.ServerSpecKind(to); err != nil {
		return fieldErr("to", "%v", err)
	}
	return nil
}

// upgradeHealthy bounds the wait for a healthy cluster after each node.
const upgradeHealthy = 60 * time.Second

func (Upgrade) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	to := paramsOf[UpgradeParams](s).To
	if to == "" {
		return nil, fmt.Errorf("upgrade: no `to` (upgrade is a timeline step)")
	}
	bin, err := clusters.ServerBinary(ctx, to, nil) // built before the run (scenarios.Run); cached here
	if err != nil {
		return nil, fmt.Errorf("upgrade to %s: %w", to, err)
	}
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "all", rng)
	if err != nil {
		return nil, err
	}
	versions := map[string]any{}
	inj := &Injection{Targets: names, Params: map[string]any{"to": to, "versions": versions},
		Heal: func(context.Context) error { return nil }}
	for _, n := range nodes {
		before, _ := clusters.NodeVersion(ctx, n)
		if err := n.SetServerBinary(bin); err != nil { // for its next start
			return inj, err
		}
		if err := n.Signal(syscall.SIGUSR2); err != nil {
			return inj, fmt.Errorf("upgrade %s: lame duck: %w", n.Name(), err)
		}
		stop := "lame duck"
		if err := awaitLameDuckExit(ctx, n, time.Now()); err != nil {
			stop = err.Error()
			if n.Running() {
				return inj, err
			}
		}
		if err := n.Start(ctx); err != nil {
			return inj, fmt.Errorf("upgrade %s to %s: start: %w", n.Name(), to, err)
		}
		after, err := clusters.NodeVersion(ctx, n)
		versions[n.Name()] = map[string]string{"before": before, "after": after, "stop": stop}
		if err != nil {
			return inj, fmt.Errorf("upgrade %s: /varz: %w", n.Name(), err)
		}
		hctx, cancel := context.WithTimeout(ctx, upgradeHealthy)
		err = c.WaitHealthy(hctx)
		cancel()
		if err != nil {
			return inj, fmt.Errorf("upgrade: the cluster is not healthy after %s moved to %s: %w", n.Name(), to, err)
		}
	}
	return inj, nil
}
