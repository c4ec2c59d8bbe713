package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	"jetstorm/clusters"
)

// LameDuck is the restart operators do: the target nodes (default one) get
// the lame duck signal (SIGUSR2, nats-server --signal ldm; the embedded
// node handles it the same way). Each stops taking clients, hands its Raft
// leaderships to other nodes, stops JetStream, then closes its clients
// over clusters.LameDuckDuration, so clients that may reconnect elsewhere
// (workload.clients_roam) move away, and exits. The fault lasts from the
// signal to the restart: healing waits for each target to exit (one still
// running after the lame duck time and a margin is killed, and the heal
// says so), then starts them again.
type LameDuck struct{ NoParams }

func (LameDuck) Name() string { return "lame-duck" }

func (LameDuck) Needs() Needs { return Needs{} }

func (LameDuck) Check(s Spec, nodes []string) error { return checkTarget(s.Target, nodes) }

// lameDuckWait bounds the wait for a node in lame duck mode to exit.
var lameDuckWait = clusters.LameDuckDuration + clusters.LameDuckGrace + 15*time.Second

func (LameDuck) Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error) {
	names, nodes, err := targetNodes(ctx, c, env, s.Target, "one", rng)
	if err != nil {
		return nil, err
	}
	sent := time.Now()
	inj := &Injection{Targets: names,
		Params: map[string]any{"signal": "SIGUSR2", "lame_duck_duration": clusters.LameDuckDuration.String()},
		Heal: func(ctx context.Context) error {
			var errs []error
			for _, n := range nodes {
				errs = append(errs, awaitLameDuckExit(ctx, n, sent))
			}
			return errors.Join(append(errs, startStopped(nodes)(ctx))...)
		}}
	for _, n := range nodes {
		if err := n.Signal(syscall.SIGUSR2); err != nil {
			return inj, err
		}
	}
	return inj, nil
}

// awaitLameDuckExit waits for n, signalled at sent, to leave lame duck
// mode and exit; one still running lameDuckWait after the signal is
// killed, and the error says so.
func awaitLameDuckExit(ctx context.Context, n clusters.Node, sent time.Time) error {
	for n.Running() {
		if time.Since(sent) > lameDuckWait || ctx.Err() != nil {
			return errors.Join(fmt.Errorf("lame duck: %s still running %s after the signal, killed", n.Name(), time.Since(sent).Round(time.Second)), n.Kill())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}
