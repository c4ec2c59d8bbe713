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

// PauseConsumer pauses a durable consumer of the stream under test
// (PauseConsumer, nats-server 2.11+) and resumes it when healed: nothing may
// be delivered while it is paused, across leader changes. The step key
// consumer names it; without one (and in random schedules) it is drawn from
// the workload's consumers. It hits no node: its targets are empty.
type PauseConsumer struct{}

// PauseConsumerParams are a pause-consumer's parameters (key consumer).
type PauseConsumerParams struct {
	Consumer string `yaml:"consumer" json:"consumer,omitempty"`
}

// pauseFor is how long the server is told to pause: far past any fault's
// duration, so only the heal (ResumeConsumer) ends it, and a heal that
// failed still ends within the hour.
const pauseFor = time.Hour

func (PauseConsumer) Name() string                                 { return "pause-consumer" }
func (PauseConsumer) Needs() Needs                                 { return Needs{} }
func (PauseConsumer) StepParams() any                              { return &PauseConsumerParams{} }
func (PauseConsumer) RandomParams() any                            { return nil }
func (PauseConsumer) Draw(*rand.Rand, any) Params                  { return nil }
func (PauseConsumer) CheckRandom(random any, nodes []string) error { return nil }

// Check accepts any target (a random schedule gives every fault one) and
// ignores it: the fault hits a consumer, not a node.
func (PauseConsumer) Check(s Spec, nodes []string) error { return checkTarget(s.Target, nodes) }

func (PauseConsumer) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	name := paramsOf[PauseConsumerParams](s).Consumer
	if name == "" {
		if len(env.Consumers) == 0 {
			return nil, fmt.Errorf("pause-consumer: the workload has no durable consumers")
		}
		cs := slices.Sorted(slices.Values(env.Consumers))
		name = cs[rng.IntN(len(cs))]
	}
	js, closeConn, err := jsOf(c)
	if err != nil {
		return nil, fmt.Errorf("pause-consumer: %w", err)
	}
	defer closeConn()
	until := time.Now().Add(pauseFor)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	resp, err := js.PauseConsumer(pctx, env.Stream, name, until)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("pause-consumer %s: %w", name, err)
	}
	if !resp.Paused {
		return nil, fmt.Errorf("pause-consumer %s: the server did not pause it", name)
	}
	heal := func(ctx context.Context) error {
		js, closeConn, err := jsOf(c)
		if err != nil {
			return err
		}
		defer closeConn()
		// Retry: the consumer's leader may be moving after other faults.
		for {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = js.ResumeConsumer(rctx, env.Stream, name)
			cancel()
			if err == nil || ctx.Err() != nil {
				return err
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return &Injection{Params: map[string]any{"consumer": name, "stream": env.Stream}, Heal: heal}, nil
}

// jsOf connects to any node of c.
func jsOf(c clusters.Cluster) (jetstream.JetStream, func(), error) {
	nc, err := clusters.Connect(strings.Join(clusters.ClientURLs(c), ","), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return js, nc.Close, nil
}
