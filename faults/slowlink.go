package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"jetstorm/clusters"
	"jetstorm/units"
)

// SlowLink adds latency (delay, one way, each direction) and optionally a
// bandwidth limit (rate, bytes/s) on every route link that touches the
// target nodes (default all: every link). Healing removes both. A timeline
// step and the faults: section take the same keys (delay default 50ms
// there).
type SlowLink struct{}

// SlowLinkParams are a slowlink's parameters (keys delay, rate).
type SlowLinkParams struct {
	Delay units.Duration `yaml:"delay"` // added one-way latency per link
	Rate  units.Size     `yaml:"rate"`  // bandwidth limit per link direction, bytes/s; 0: none
}

func (SlowLink) Name() string    { return "slowlink" }
func (SlowLink) Needs() Needs    { return Needs{Links: true, Delay: true} }
func (SlowLink) StepParams() any { return &SlowLinkParams{} }
func (SlowLink) RandomParams() any {
	return &SlowLinkParams{Delay: units.Duration(50 * time.Millisecond)}
}

func (SlowLink) Draw(_ *rand.Rand, random any) Params { return *random.(*SlowLinkParams) }

func (SlowLink) CheckRandom(random any, nodes []string) error {
	if random.(*SlowLinkParams).Delay < 0 {
		return fieldErr("delay", "must not be negative")
	}
	return nil
}

func (SlowLink) Check(s Spec, nodes []string) error {
	if err := checkTarget(s.Target, nodes); err != nil {
		return err
	}
	if p := paramsOf[SlowLinkParams](s); p.Delay <= 0 && p.Rate <= 0 {
		return fieldErr("delay", "slowlink needs a positive delay or rate")
	}
	return nil
}

// slowLinkJSON is how history and results show the parameters: the delay
// as a duration string, the rate as bytes/s.
type slowLinkJSON struct {
	Delay string `json:"delay,omitempty"`
	Rate  int64  `json:"rate,omitempty"`
}

func (p SlowLinkParams) MarshalJSON() ([]byte, error) {
	j := slowLinkJSON{Rate: int64(p.Rate.Bytes())}
	if p.Delay > 0 {
		j.Delay = p.Delay.String()
	}
	return json.Marshal(j)
}

func (p *SlowLinkParams) UnmarshalJSON(b []byte) error {
	var j slowLinkJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = SlowLinkParams{Rate: units.Size(j.Rate)}
	if j.Delay != "" {
		d, err := time.ParseDuration(j.Delay)
		if err != nil {
			return err
		}
		p.Delay = units.Duration(d)
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
	p := paramsOf[SlowLinkParams](s)
	delay, rate := p.Delay.D(), int64(p.Rate.Bytes())
	var links []clusters.LinkControl
	for _, n := range c.Nodes() {
		for _, t := range targets {
			if n.Name() == t {
				continue
			}
			for _, l := range []clusters.LinkControl{net.Link(t, n.Name()), net.Link(n.Name(), t)} {
				if l == nil {
					return nil, fmt.Errorf("slowlink: no link proxy %s-%s (link_proxies off?)", t, n.Name())
				}
				links = append(links, l)
			}
		}
	}
	for _, l := range links {
		l.SetDelay(delay)
		l.SetRate(rate)
	}
	return &Injection{
		Targets: targets,
		Params:  map[string]any{"delay": delay.String(), "rate": rate},
		Heal: func(ctx context.Context) error {
			for _, l := range links {
				l.SetDelay(0)
				l.SetRate(0)
			}
			return nil
		},
	}, nil
}
