package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"jetstorm/clusters"
)

// SyncIntervalChange sets jetstream sync_interval on the target nodes
// (default all). The setting is not reloadable, so this is a rolling
// restart: one node at a time is stopped (SIGTERM), restarted with the new
// config and waited for, and /jsz must then report the new value. The
// change lasts for the rest of the run: healing does nothing.
type SyncIntervalChange struct{}

func (SyncIntervalChange) Name() string { return "sync-interval" }
func (SyncIntervalChange) Needs() Needs { return Needs{} }

func (SyncIntervalChange) Check(s Spec, nodes int) error {
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	if _, _, err := ParseSyncInterval(s.SyncInterval); err != nil {
		return fieldErr("sync_interval", "%v", err)
	}
	return nil
}

// ParseSyncInterval reads "always" or a positive duration.
func ParseSyncInterval(v string) (always bool, d time.Duration, err error) {
	if strings.EqualFold(v, "always") {
		return true, 0, nil
	}
	d, err = time.ParseDuration(v)
	if err != nil || d <= 0 {
		return false, 0, fmt.Errorf("sync_interval %q: want \"always\" or a positive duration", v)
	}
	return false, d, nil
}

// SyncIntervalConf is the value as a nats-server config file needs it: a
// bare `always`, or a quoted duration (a bare 1m would parse as a size).
func SyncIntervalConf(v string) string {
	if strings.EqualFold(v, "always") {
		return "always"
	}
	return fmt.Sprintf("%q", v)
}

func (SyncIntervalChange) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	always, d, err := ParseSyncInterval(s.SyncInterval)
	if err != nil {
		return nil, err
	}
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "all", rng)
	if err != nil {
		return nil, err
	}
	inj := &Injection{
		Targets: names,
		Params:  map[string]any{"sync_interval": s.SyncInterval, "rolling_restart": true},
		Heal:    func(context.Context) error { return nil },
	}
	for _, n := range nodes {
		if err := n.SetSyncInterval(SyncIntervalConf(s.SyncInterval)); err != nil {
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
				n.Name(), info.Config.SyncAlways, info.Config.SyncInterval, s.SyncInterval)
		}
	}
	return inj, nil
}
