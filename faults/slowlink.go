package faults

import (
	"context"
	"fmt"
	"math/rand/v2"

	"jetstorm/clusters"
)

// SlowLink adds latency (Delay, one way, each direction) and optionally a
// bandwidth limit (Rate, bytes/s) on every route link that touches the
// target nodes (default all: every link). Healing removes both.
type SlowLink struct{}

func (SlowLink) Name() string { return "slowlink" }
func (SlowLink) Needs() Needs { return Needs{Links: true} }

func (SlowLink) Check(s Spec, nodes int) error {
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	if s.Delay <= 0 && s.Rate <= 0 {
		return fieldErr("delay", "slowlink needs a positive delay or rate")
	}
	return nil
}

func (SlowLink) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	net, ok := c.(clusters.Network)
	if !ok {
		return nil, fmt.Errorf("slowlink: this cluster has no link proxies")
	}
	targets, err := ResolveTargets(ctx, c, env, s.Target, "all", rng)
	if err != nil {
		return nil, err
	}
	var links []*clusters.Link
	for _, n := range c.Nodes() {
		for _, t := range targets {
			if n.Name() == t {
				continue
			}
			for _, l := range []*clusters.Link{net.Link(t, n.Name()), net.Link(n.Name(), t)} {
				if l == nil {
					return nil, fmt.Errorf("slowlink: no link proxy %s-%s (link_proxies off?)", t, n.Name())
				}
				links = append(links, l)
			}
		}
	}
	for _, l := range links {
		l.SetDelay(s.Delay)
		l.SetRate(s.Rate)
	}
	return &Injection{
		Targets: targets,
		Params:  map[string]any{"delay": s.Delay.String(), "rate": s.Rate},
		Heal: func(ctx context.Context) error {
			for _, l := range links {
				l.SetDelay(0)
				l.SetRate(0)
			}
			return nil
		},
	}, nil
}
