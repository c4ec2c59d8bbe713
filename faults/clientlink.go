package faults

import (
	"context"
	"fmt"
	"math/rand/v2"

	"jetstorm/clusters"
)

// Client-link faults act on the link between the target nodes and their
// clients (cluster.client_links: every client connection to node n passes
// a proxy of jetstorm's), not on the routes, so a node stays in its
// cluster while its clients lose it. A client pinned to it (the default)
// gets no answer until the heal (its publishes time out: unknown
// outcomes); a roaming one (workload.clients_roam) notices in seconds and
// moves to another node.

// ClientPartition cuts the target nodes (default one) off their clients,
// silently, as a pulled cable would (nothing passes, nothing is reset:
// what was in flight is delivered at the heal); healing restores them.
type ClientPartition struct{ NoParams }

func (ClientPartition) Name() string                       { return "client-partition" }
func (ClientPartition) Needs() Needs                       { return Needs{ClientLinks: true} }
func (ClientPartition) Check(s Spec, nodes []string) error { return checkTarget(s.Target, nodes) }

func (ClientPartition) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	names, links, err := clientLinks(ctx, c, env, s, "one", rng)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		l.Cut()
	}
	return &Injection{Targets: names, Params: map[string]any{"clients_cut": true},
		Heal: func(context.Context) error {
			for _, l := range links {
				l.Heal()
			}
			return nil
		}}, nil
}

// ClientSlowLink adds delay (one way, each direction) and optionally a
// bandwidth limit (rate, bytes/s) between the target nodes (default all)
// and their clients; the keys are slowlink's. Healing removes both.
type ClientSlowLink struct{ SlowLink }

func (ClientSlowLink) Name() string { return "client-slowlink" }
func (ClientSlowLink) Needs() Needs { return Needs{ClientLinks: true} }

func (ClientSlowLink) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	names, links, err := clientLinks(ctx, c, env, s, "all", rng)
	if err != nil {
		return nil, err
	}
	p := paramsOf[SlowLinkParams](s)
	delay, rate := p.Delay.D(), int64(p.Rate.Bytes())
	for _, l := range links {
		l.SetDelay(delay)
		l.SetRate(rate)
	}
	return &Injection{Targets: names, Params: map[string]any{"delay": delay.String(), "rate": rate},
		Heal: func(context.Context) error {
			for _, l := range links {
				l.SetDelay(0)
				l.SetRate(0)
			}
			return nil
		}}, nil
}

// clientLinks resolves a client fault's targets to their client links.
func clientLinks(ctx context.Context, c clusters.Cluster, env Env, s Spec, def string, rng *rand.Rand) ([]string, []clusters.LinkControl, error) {
	net, ok := c.(clusters.Network)
	if !ok {
		return nil, nil, fmt.Errorf("%s: this cluster has no client links", s.Kind)
	}
	names, err := ResolveTargets(ctx, c, env, s.Target, def, rng)
	if err != nil {
		return nil, nil, err
	}
	var links []clusters.LinkControl
	for _, name := range names {
		l := net.ClientLink(name)
		if l == nil {
			return nil, nil, fmt.Errorf("%s: no client link to %s (cluster.client_links off?)", s.Kind, name)
		}
		links = append(links, l)
	}
	return names, links, nil
}
