// Package faults injects failures into a cluster: one file per fault, one
// entry in Registry per fault kind, and a seeded scheduler.
//
// A fault owns its parameters: its file declares the struct a timeline
// step's keys decode into (StepParams, which Spec.Params then holds), the
// struct the random faults: section's keys decode into (RandomParams, with
// its defaults), how a random fault draws its parameters from the latter
// (Draw), and how both are checked. The scenario keys are the union of the
// registered faults' yaml tags (params.go), so adding a fault with
// parameters is its file plus its Registry line.
package faults

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"jetstorm/clusters"
)

// Env is what a fault may need to know about the run besides the cluster.
type Env struct {
	Stream    string   // the stream under test, for stream-leader targets
	Consumers []string // the workload's durable consumers (pause-consumer)
	Dir       string   // the run directory (exec: the hooks' output)
	// FaultID and FaultFor (set by Inject) are the fault's number in its
	// plan, from 1, and its planned duration (exec hooks see both).
	FaultID  int
	FaultFor time.Duration
}

// Spec says which fault to inject and how. Its JSON is flat: the kind's
// parameters sit next to kind and target (see params.go).
type Spec struct {
	Kind   string
	Target string // a TargetSpecs name, a node name, or a node set (NodeSet)
	Params Params // the kind's own parameters: nil, or the struct its StepParams points to
}

// Params are one fault's parameters: a value of the struct type its kind's
// StepParams returns a pointer to (PartitionParams, SlowLinkParams, ...),
// or nil for kinds without parameters and for the kind's zero parameters.
type Params any

// Injection is an injected fault: what it hit, and how to undo it.
type Injection struct {
	Targets []string       // node names
	Params  map[string]any // what exactly was done, for the history
	Heal    func(ctx context.Context) error
	// Result, set by Heal, is what the heal found (membership: the peer
	// sets after the return); it joins Params in the fault's end op.
	Result map[string]any
}

// Fault is one kind of failure. Faults without parameters embed NoParams.
type Fault interface {
	Name() string
	// Needs says what the cluster must provide for this fault.
	Needs() Needs

	// StepParams returns a pointer to a new zero parameter struct, which a
	// timeline step's mapping is decoded into (yaml tags: the step keys it
	// reads besides at, fault, for, target) and a planned fault's JSON
	// (json tags, or its own MarshalJSON/UnmarshalJSON). Spec.Params holds
	// the struct itself. nil: the kind has no parameters.
	StepParams() any
	// RandomParams returns a pointer to a new struct, with its defaults set,
	// which the faults: section is decoded into (yaml tags: the keys it
	// reads there). nil: none.
	RandomParams() any
	// Draw draws one random fault's parameters from what RandomParams
	// returned (decoded), using rng only as far as the kind needs.
	Draw(rng *rand.Rand, random any) Params
	// CheckRandom validates what RandomParams returned (decoded); the error
	// (a FieldError, or several joined) names the key: "shapes[1]".
	CheckRandom(random any, nodes []string) error
	// Check validates a spec for a cluster of the named nodes; the error
	// names the spec field at fault (see FieldError): "target", "shape".
	Check(s Spec, nodes []string) error

	// Inject applies the fault now.
	Inject(ctx context.Context, c clusters.Cluster, env Env, s Spec, rng *rand.Rand) (*Injection, error)
}

// TimelineOnly is a fault a random schedule cannot draw (its parameters
// have no random form): timeline steps only.
type TimelineOnly interface{ TimelineOnly() }

// SlowHeal is a fault whose heal may take longer than healWithin
// (membership: the server takes a removed node back only minutes later).
type SlowHeal interface{ HealWithin() time.Duration }

// healWithin bounds a heal, unless the fault is a SlowHeal.
const healWithin = 60 * time.Second

// Needs are cluster features a fault depends on.
type Needs struct {
	Links   bool // link proxies on every route link (partition, slowlink)
	PowerFS bool // powerfs under every store dir (powerloss)
	// Delay: the links must also delay (slowlink); the docker backend
	// then proxies every route link instead of cutting them in the kernel.
	Delay bool
	// Store: the fault writes the stores' files from the machine jetstorm
	// runs on (bitflip, truncate, rollback), which a remote docker engine's
	// containers do not share.
	Store bool
	// Servers: the fault changes the server a node runs (upgrade), which
	// only the process backend can (a docker cluster runs one image).
	Servers bool
	// ClientLinks: a proxy between each node and its clients
	// (client-partition, client-slowlink; process backend).
	ClientLinks bool
	// System: a system account user in every node's config, for the
	// system account's API (membership; process backend).
	System bool
}

// Registry lists every fault kind by name. Adding a fault = one file + one
// entry: its parameters' keys join the scenario keys through it.
var Registry = map[string]Fault{
	"kill":             Kill{},
	"restart":          Kill{Graceful: true},
	"pause":            Pause{},
	"partition":        Partition{},
	"slowlink":         SlowLink{},
	"sync-interval":    SyncIntervalChange{},
	"powerloss":        PowerLoss{},
	"bitflip":          BitFlip{},
	"truncate":         Truncate{},
	"rollback":         Rollback{},
	"leader":           Leader{},
	"pause-consumer":   PauseConsumer{},
	"lame-duck":        LameDuck{},
	"upgrade":          Upgrade{},
	"client-partition": ClientPartition{},
	"client-slowlink":  ClientSlowLink{},
	"membership":       Membership{},
	"exec":             Exec{},
}

// Kinds lists the registered fault kinds, sorted.
func Kinds() []string { return slices.Sorted(maps.Keys(Registry)) }

// FieldError is a Check error about one Spec field ("target", "shape", ...),
// or a CheckRandom error about one key of the faults: section ("shapes[1]").
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Check validates a spec for a cluster of the named nodes (see
// clusters.NodeNames): a known kind, then the kind's own checks.
func Check(s Spec, nodes []string) error {
	f, ok := Registry[s.Kind]
	if !ok {
		return fieldErr("kind", "%q is not a known fault kind (known: %s)", s.Kind, strings.Join(Kinds(), ", "))
	}
	return f.Check(s, nodes)
}

// TargetSpecs are the target names a fault accepts besides node names.
var TargetSpecs = []string{"one", "minority", "majority", "all", "stream-leader", "meta-leader"}

// checkTarget validates a target spec for a cluster of the named nodes.
func checkTarget(target string, nodes []string) error {
	if set := targetSet(target); set != nil {
		return checkSet(set, nodes)
	}
	if target == "" || slices.Contains(TargetSpecs, target) || slices.Contains(nodes, target) {
		return nil
	}
	return fieldErr("target", "%q is not a target of this %d-node cluster (known: %s, or a node %s)",
		target, len(nodes), strings.Join(TargetSpecs, ", "), strings.Join(nodes, ", ")+", or a list of nodes")
}

// ResolveTargets turns a target spec into node names, choosing with rng
// among nodes in name order so a seed gives the same choice. "" means def.
func ResolveTargets(ctx context.Context, c clusters.Cluster, env Env, spec, def string, rng *rand.Rand) ([]string, error) {
	if spec == "" {
		spec = def
	}
	var names []string
	for _, n := range c.Nodes() {
		names = append(names, n.Name())
	}
	sort.Strings(names)
	pick := func(k int) []string {
		p := rng.Perm(len(names))[:k]
		out := make([]string, k)
		for i, j := range p {
			out[i] = names[j]
		}
		slices.Sort(out)
		return out
	}
	n := len(names)
	switch spec {
	case "one":
		return pick(1), nil
	case "minority":
		return pick(max(1, (n-1)/2)), nil
	case "majority":
		return pick(n/2 + 1), nil
	case "all":
		return names, nil
	case "meta-leader", "stream-leader":
		var l string
		var err error
		if st, ok := c.(interface{ STAN() bool }); ok && st.STAN() {
			l, err = clusters.STANLeader(ctx, c) // NATS Streaming: one Raft leader serves everything
		} else if spec == "meta-leader" {
			l, err = clusters.MetaLeader(ctx, c)
		} else {
			l, err = clusters.StreamLeader(ctx, c, env.Stream)
		}
		if err != nil {
			return nil, err
		}
		// The server names it; a membership fault may have renamed it.
		if n := clusters.NodeByName(c, l); n != nil {
			l = n.Name()
		}
		return []string{l}, nil
	}
	if slices.Contains(names, spec) {
		return []string{spec}, nil
	}
	if set := targetSet(spec); set != nil {
		if err := checkSet(set, names); err != nil {
			return nil, err
		}
		return slices.Sorted(slices.Values(set)), nil
	}
	return nil, fmt.Errorf("unknown fault target %q (known: %v, a node name, or a list of them)", spec, TargetSpecs)
}

// targetNodes resolves a target spec (default def) to names and nodes.
func targetNodes(ctx context.Context, c clusters.Cluster, env Env, spec, def string, rng *rand.Rand) ([]string, []clusters.Node, error) {
	names, err := ResolveTargets(ctx, c, env, spec, def, rng)
	if err != nil {
		return nil, nil, err
	}
	nodes, err := nodesNamed(c, names)
	return names, nodes, err
}

// startStopped is the heal of faults that take nodes down: start every one
// of them that is not running.
func startStopped(nodes []clusters.Node) func(context.Context) error {
	return func(ctx context.Context) error {
		var errs []error
		for _, n := range nodes {
			if !n.Running() {
				errs = append(errs, n.Start(ctx))
			}
		}
		return errors.Join(errs...)
	}
}

func nodesNamed(c clusters.Cluster, names []string) ([]clusters.Node, error) {
	var ns []clusters.Node
	for _, name := range names {
		n := clusters.NodeByName(c, name)
		if n == nil {
			return nil, fmt.Errorf("no node %q in cluster", name)
		}
		ns = append(ns, n)
	}
	return ns, nil
}
