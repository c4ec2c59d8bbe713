package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"jetstorm/clusters"
	"jetstorm/history"
	"jetstorm/units"
)

// NemesisProcess is the history process of the first fault of a plan; the
// i-th fault's ops have process NemesisProcess-i, so faults that overlap
// (a timeline may say so) still pair their start and end by process.
const NemesisProcess = -2

// Planned is one fault of a schedule. Everything random about it (kind,
// target spec, parameters, and the seed that picks concrete nodes) is fixed
// at planning time, so the same seed gives the same schedule.
type Planned struct {
	At   time.Duration // since the workload started
	For  time.Duration // how long until healed
	Spec               // what to inject
	Seed uint64        // picks the concrete nodes; < 2^53 so JSON keeps it exact
}

// plannedJSON is Planned as results.json and the history show it.
type plannedJSON struct {
	At   string `json:"at"`
	For  string `json:"for"`
	Spec Spec   `json:"fault"`
	Seed uint64 `json:"seed"`
}

func (p Planned) MarshalJSON() ([]byte, error) {
	return json.Marshal(plannedJSON{p.At.String(), p.For.String(), p.Spec, p.Seed})
}

func (p *Planned) UnmarshalJSON(b []byte) error {
	var j plannedJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	at, err := time.ParseDuration(j.At)
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(j.For)
	if err != nil {
		return err
	}
	*p = Planned{At: at, For: d, Spec: j.Spec, Seed: j.Seed}
	return nil
}

// RandomOptions describe a random schedule.
type RandomOptions struct {
	Kinds    []string
	Targets  []string      // default [one]
	Params   RandomSection // each kind's parameters from the faults: section; a kind missing: its defaults
	Interval time.Duration // between fault starts; the first starts one interval in
	For      time.Duration // how long each fault lasts
	Total    time.Duration // the workload's duration: every fault heals before it ends
	Mix      *Mix          // nil: every fault drawn from all of Kinds
}

// Mix rotates the fault kinds over a long run, as Jepsen's stable periods
// do, to reach rarer interleavings: the run is cut into periods of Period;
// each is quiet (no fault starts in it) with probability Quiet, or else
// draws its faults from Kinds kinds picked at random from the schedule's.
type Mix struct {
	Period units.Duration `yaml:"period"` // default 2m
	Kinds  int            `yaml:"kinds"`  // kinds per period; default 2 (all when fewer)
	Quiet  float64        `yaml:"quiet"`  // fraction of quiet periods, 0..1; default 0.25
}

// RandomPlan draws a schedule from rng: for each fault its kind, its
// target, its parameters (the kind's Draw) and its seed, in that order
// (with a Mix, each period first draws whether it is quiet, then its
// kinds).
func RandomPlan(rng *rand.Rand, o RandomOptions) []Planned {
	if len(o.Kinds) == 0 || o.Interval <= 0 {
		return nil
	}
	var plan []Planned
	period, kinds := -1, o.Kinds
	for at := o.Interval; at+o.For <= o.Total; at += o.Interval {
		if o.Mix != nil {
			if p := int(at / o.Mix.Period.D()); p != period {
				period, kinds = p, o.Mix.draw(rng, o.Kinds)
			}
			if len(kinds) == 0 {
				continue // a quiet period
			}
		}
		sp := Spec{Kind: pick(rng, kinds), Target: pick(rng, o.Targets, "one")}
		if f, ok := Registry[sp.Kind]; ok {
			sp.Params = nonZero(f.Draw(rng, o.Params.Random(sp.Kind)))
		}
		plan = append(plan, Planned{At: at, For: o.For, Spec: sp, Seed: rng.Uint64() >> 11})
	}
	return plan
}

// draw is one period's kinds: none (quiet), or Kinds of all, in the
// schedule's order.
func (m *Mix) draw(rng *rand.Rand, all []string) []string {
	if rng.Float64() < m.Quiet {
		return nil
	}
	k := min(max(m.Kinds, 1), len(all))
	idx := rng.Perm(len(all))[:k]
	slices.Sort(idx)
	out := make([]string, k)
	for i, j := range idx {
		out[i] = all[j]
	}
	return out
}

// RunPlan injects each planned fault at its time (relative to start) and
// heals it after its duration. Faults overlap only where the plan says so
// (a timeline step that starts before an earlier one's planned end: a
// partition while a node is down); otherwise a fault first waits until the
// earlier ones have healed, and then (bounded) for the cluster to be
// healthy, so faults do not pile up on a cluster that has not recovered
// from the last one. When ctx ends, the faults in progress are healed
// before returning. Every fault's start and end go into the history.
func RunPlan(ctx context.Context, c clusters.Cluster, env Env, plan []Planned, rec *history.Recorder, start time.Time, log *slog.Logger) error {
	type running struct {
		end  time.Duration // planned end, since start
		done chan struct{} // closed when healed
	}
	var (
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
		active []running
	)
	// A FatalError ends the plan: ctx then heals what is in progress now.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	for i, p := range plan {
		if !sleepUntil(ctx, start.Add(p.At)) {
			break
		}
		// Faults planned to be over by now must have healed first.
		var still []running
		for _, r := range active {
			if r.end > p.At {
				still = append(still, r)
				continue
			}
			select {
			case <-r.done:
			case <-ctx.Done():
			}
		}
		active = still
		if ctx.Err() != nil {
			break
		}
		if len(active) == 0 {
			hctx, cancel := context.WithTimeout(ctx, min(p.For+10*time.Second, 30*time.Second))
			herr := c.WaitHealthy(hctx)
			cancel()
			if ctx.Err() != nil {
				break
			}
			if herr != nil {
				log.Warn("injecting fault into an unhealthy cluster", "kind", p.Kind, "err", herr)
			}
		}
		started, err := Inject(ctx, c, env, p, NemesisProcess-i, rec, log)
		if err != nil {
			if fatal := (*FatalError)(nil); errors.As(err, &fatal) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				stop()
				break
			}
			// A fault that could not start (e.g. no leader yet) is not a run error.
			log.Warn("fault not injected", "kind", p.Kind, "target", p.Target, "err", err)
			continue
		}
		r := running{end: p.At + p.For, done: make(chan struct{})}
		active = append(active, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(r.done)
			sleepUntil(ctx, time.Now().Add(p.For))
			if err := started.Heal(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Started is an injected fault: what it hit (Desc, as its history ops
// carry it) and how to heal it.
type Started struct {
	Desc map[string]any // kind, spec, for, nodes and what the fault did
	heal func() error
}

// Heal undoes the fault and records its end (see Inject).
func (s *Started) Heal() error { return s.heal() }

// Inject starts fault p now, recording it as process proc, and returns
// the handle that heals it and records the end. A fault that could not
// start is recorded as failed and returned as the error (a run logs it and
// goes on: e.g. no leader yet).
func Inject(ctx context.Context, c clusters.Cluster, env Env, p Planned, proc int, rec *history.Recorder, log *slog.Logger) (*Started, error) {
	f, ok := Registry[p.Kind]
	if !ok {
		rec.Record(history.Op{Process: proc, Type: history.Fail, F: history.FFault, Value: map[string]any{"kind": p.Kind}, Err: "unknown fault kind"})
		return nil, fmt.Errorf("unknown fault kind %q", p.Kind)
	}
	desc := map[string]any{"kind": p.Kind, "spec": p.Spec, "for": p.For.String()}
	// The fault starts when Inject does: a rolling one (upgrade,
	// sync-interval) returns only when it has gone round every node.
	began := max(time.Since(rec.Start()), 1)
	env.FaultID, env.FaultFor = NemesisProcess-proc+1, p.For
	inj, err := f.Inject(ctx, c, env, p.Spec, rand.New(rand.NewPCG(p.Seed, 0)))
	if inj == nil {
		rec.Record(history.Op{Process: proc, Type: history.Fail, F: history.FFault, Value: desc, Err: err.Error()})
		return nil, err
	}
	desc["nodes"] = inj.Targets
	for k, v := range inj.Params {
		desc[k] = v
	}
	op := history.Op{Process: proc, Type: history.Invoke, F: history.FFault, Value: desc, Time: began}
	if err != nil {
		op.Err = err.Error()
	}
	rec.Record(op)
	args := []any{"kind", p.Kind}
	if sides, ok := inj.Params["sides"]; ok { // a partition: its shape and sides read better than the cut links' nodes
		args = append(args, "shape", inj.Params["shape"], "sides", sides)
	}
	args = append(args, "nodes", inj.Targets)
	if p.For > 0 { // a fault of the control API may have none: healed when asked
		args = append(args, "for", p.For)
	}
	log.Info("fault", args...)
	return &Started{Desc: desc, heal: func() error {
		// Heal even when the run is being stopped: never leave a node down.
		within := healWithin
		if sh, ok := f.(SlowHeal); ok {
			within = sh.HealWithin()
		}
		hctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		end := history.Op{Process: proc, Type: history.OK, F: history.FFault, Value: desc}
		herr := inj.Heal(hctx)
		if len(inj.Result) > 0 {
			v := maps.Clone(desc)
			maps.Copy(v, inj.Result)
			end.Value = v
		}
		if herr != nil {
			end.Type, end.Err = history.Info, herr.Error()
			rec.Record(end)
			return fmt.Errorf("heal %s %v: %w", p.Kind, inj.Targets, herr)
		}
		rec.Record(end)
		log.Info("healed", "kind", p.Kind, "nodes", inj.Targets)
		return nil
	}}, nil
}

// sleepUntil waits for t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
