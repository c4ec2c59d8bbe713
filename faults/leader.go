package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"jetstorm/clusters"
)

// Leader makes the target node (default: a random current follower) the
// stream leader, by asking the current leader to step down with
// the target as the preferred placement. Nothing is broken, but leadership
// is where damage shows: a node whose store was corrupted, rolled back or
// lost power serves and replicates from its own copy once it leads. There
// is nothing to heal; leadership stays where it went.
type Leader struct{ NoParams }

func (Leader) Name() string { return "leader" }
func (Leader) Needs() Needs { return Needs{} }
func (Leader) Check(s Spec, nodes []string) error {
	if targetSet(s.Target) != nil {
		return fieldErr("target", "one node leads: give one node, not a set")
	}
	return checkTarget(s.Target, nodes)
}

func (Leader) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	if env.Stream == "" {
		return nil, fmt.Errorf("leader: the workload names no stream")
	}
	nc, err := clusters.Connect(strings.Join(clusters.ClientURLs(c), ","), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("leader: connect: %w", err)
	}
	defer nc.Close()
	// Only a replica that is online and current can be elected.
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	var info *jetstream.StreamInfo
	st, err := js.Stream(ictx, env.Stream)
	if err == nil {
		info, err = st.Info(ictx)
	}
	cancel()
	if err != nil {
		return nil, fmt.Errorf("leader: stream %s: %w", env.Stream, err)
	}
	var cur string
	var ready []string
	if info.Cluster != nil {
		cur = info.Cluster.Leader
		for _, r := range info.Cluster.Replicas {
			if r.Current && !r.Offline {
				ready = append(ready, r.Name)
			}
		}
	}
	slices.Sort(ready)
	var name string
	if s.Target == "" {
		if len(ready) == 0 {
			return nil, fmt.Errorf("leader: no current replica of stream %s besides the leader %q", env.Stream, cur)
		}
		name = ready[rng.IntN(len(ready))]
	} else {
		names, err := ResolveTargets(ctx, c, env, s.Target, "one", rng)
		if err != nil {
			return nil, err
		}
		name = names[0] // one node leads
		if name != cur && !slices.Contains(ready, name) {
			return nil, fmt.Errorf("leader: %s is not a current replica of stream %s (leader %q, current followers %v)", name, env.Stream, cur, ready)
		}
	}
	inj := &Injection{Targets: []string{name}, Params: map[string]any{"stream": env.Stream, "previous": cur},
		Heal: func(context.Context) error { return nil }}
	return inj, clusters.MoveStreamLeader(ctx, nc, env.Stream, name)
}
