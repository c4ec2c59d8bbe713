package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"jetstorm/clusters"
)

// Leader makes the target node (default: a random node that does not lead
// now) the stream leader, by asking the current leader to step down with
// the target as the preferred placement. Nothing is broken, but leadership
// is where damage shows: a node whose store was corrupted, rolled back or
// lost power serves and replicates from its own copy once it leads. There
// is nothing to heal; leadership stays where it went.
type Leader struct{}

func (Leader) Name() string                  { return "leader" }
func (Leader) Needs() Needs                  { return Needs{} }
func (Leader) Check(s Spec, nodes int) error { return checkTarget(s.Target, nodes) }

func (Leader) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	if env.Stream == "" {
		return nil, fmt.Errorf("leader: the workload names no stream")
	}
	var names []string
	if s.Target == "" {
		cur, err := clusters.StreamLeader(ctx, c, env.Stream)
		if err != nil {
			return nil, err
		}
		for _, n := range c.Nodes() {
			if n.Name() != cur {
				names = append(names, n.Name())
			}
		}
		slices.Sort(names)
		if len(names) == 0 {
			return nil, fmt.Errorf("leader: no node but the leader %s", cur)
		}
		names = []string{names[rng.IntN(len(names))]}
	} else {
		var err error
		if names, err = ResolveTargets(ctx, c, env, s.Target, "one", rng); err != nil {
			return nil, err
		}
		names = names[:1] // one node leads
	}
	nc, err := nats.Connect(strings.Join(clusters.ClientURLs(c), ","), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("leader: connect: %w", err)
	}
	defer nc.Close()
	inj := &Injection{Targets: names, Params: map[string]any{"stream": env.Stream},
		Heal: func(context.Context) error { return nil }}
	return inj, clusters.MoveStreamLeader(ctx, nc, env.Stream, names[0])
}
