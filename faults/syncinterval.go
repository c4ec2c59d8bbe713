package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"jetstorm/clusters"
	"jetstorm/units"
)

// SyncIntervalChange sets jetstream sync_interval on the target nodes
// (default all). The setting is not reloadable, so this is a rolling
// restart: one node at a time is stopped (SIGTERM), restarted with the new
// config and waited for, and /jsz must then report the new value. The
// change lasts for the rest of the run: healing does nothing.
type SyncIntervalChange struct{}

// SyncIntervalParams are a sync-interval fault's parameter (key sync_interval).
type SyncIntervalParams struct {
	SyncInterval units.SyncInterval `yaml:"sync_interval" json:"sync_interval,omitzero"`
}

// syncIntervalRandom is the faults: section's sync-interval key.
type syncIntervalRandom struct {
	SyncIntervals []units.SyncInterval `yaml:"sync_intervals"` // to choose from; default [always, 2m]
}

func (SyncIntervalChange) Name() string      { return "sync-interval" }
func (SyncIntervalChange) Needs() Needs      { return Needs{} }
func (SyncIntervalChange) StepParams() any   { return &SyncIntervalParams{} }
func (SyncIntervalChange) RandomParams() any { return &syncIntervalRandom{} }

func (SyncIntervalChange) Draw(rng *rand.Rand, random any) Params {
	return SyncIntervalParams{pick(rng, random.(*syncIntervalRandom).SyncIntervals, units.SyncAlways(), units.SyncEvery(2*time.Minute))}
}

func (SyncIntervalChange) CheckRandom(random any, nodes []string) error {
	for i, v := range random.(*syncIntervalRandom).SyncIntervals {
		if v.IsZero() {
			return fieldErr(fmt.Sprintf("sync_intervals[%d]", i), `must be "always" or a positive duration`)
		}
	}
	return nil
}

func (SyncIntervalChange) Check(s Spec, nodes []string) error {
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	if paramsOf[SyncIntervalParams](s).SyncInterval.IsZero() {
		return fieldErr("sync_interval", `sync_interval is missing: want "always" or a positive duration`)
	}
	return nil
}

func (SyncIntervalChange) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	v := paramsOf[SyncIntervalParams](s).SyncInterval
	if v.IsZero() {
		return nil, fmt.Errorf("sync-interval: no sync_interval given")
	}
	always, d := v.Always(), v.Interval()
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "all", rng)
	if err != nil {
		return nil, err
	}
	inj := &Injection{
		Targets: names,
		Params:  map[string]any{"sync_interval": v.String(), "rolling_restart": true},
		Heal:    func(context.Context) error { return nil },
	}
	for _, n := range nodes {
		if err := n.SetSyncInterval(v.ConfString()); err != nil {
			return inj, err
		}
		if err := n.Stop(ctx); err != nil {
			return inj, err
		}
		if err := n.Start(ctx); err != nil {
			return inj, err
		}
		hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := c.WaitHealthy(hctx)
		cancel()
		if err != nil {
			return inj, fmt.Errorf("after restarting %s: %w", n.Name(), err)
		}
		info, err := clusters.Jsz(ctx, n)
		if err != nil {
			return inj, err
		}
		if info.Config.SyncAlways != always || (!always && info.Config.SyncInterval != d) {
			return inj, fmt.Errorf("%s: /jsz reports sync_always=%v sync_interval=%s after the change to %s",
				n.Name(), info.Config.SyncAlways, info.Config.SyncInterval, v)
		}
	}
	return inj, nil
}
