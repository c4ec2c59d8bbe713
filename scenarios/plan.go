package scenarios

import (
	"math/rand/v2"
	"reflect"
	"slices"

	"gopkg.in/yaml.v3"

	"jetstorm/faults"
	"jetstorm/units"
)

// spec is the fault a timeline step describes.
func (st Step) spec() faults.Spec {
	return faults.Spec{Kind: st.Fault, Target: string(st.Target), Params: st.Params}
}

// The faults: section and a timeline step take, besides their own fields,
// the fault kinds' parameter keys: each kind decodes them itself (see
// faults.DecodeRandom, faults.DecodeStep), and the key check (keys.go)
// knows them through extraKeys.

func (Faults) extraKeys() map[string]reflect.Type { return faults.RandomKeys() }
func (Step) extraKeys() map[string]reflect.Type   { return faults.StepKeys() }

func (f *Faults) UnmarshalYAML(n *yaml.Node) error {
	type plain Faults // without these methods
	var p plain
	err := n.Decode(&p)
	params, perr := faults.DecodeRandom(n)
	p.Params = params
	*f = Faults(p)
	return units.JoinTypeErrors(err, perr)
}

func (f Faults) MarshalYAML() (any, error) {
	type plain Faults
	pairs, err := f.Params.YAMLPairs()
	if err != nil {
		return nil, err
	}
	return withPairs(plain(f), pairs)
}

func (st *Step) UnmarshalYAML(n *yaml.Node) error {
	type plain Step
	var p plain
	err := n.Decode(&p)
	params, perr := faults.DecodeStep(p.Fault, n)
	p.Params = params
	*st = Step(p)
	return units.JoinTypeErrors(err, perr)
}

func (st Step) MarshalYAML() (any, error) {
	type plain Step
	pairs, err := faults.StepYAMLPairs(st.Params)
	if err != nil {
		return nil, err
	}
	return withPairs(plain(st), pairs)
}

// withPairs is v's mapping with the key and value nodes appended.
func withPairs(v any, pairs []*yaml.Node) (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	n.Content = append(n.Content, pairs...)
	return &n, nil
}

func targetStrings(ts []faults.Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

// faultKinds are the fault kinds the scenario schedules (random kinds, then
// timeline steps; a kind may repeat).
func (s *Scenario) faultKinds() []string {
	kinds := slices.Clone(s.Faults.Kinds)
	for _, st := range s.Timeline {
		kinds = append(kinds, st.Fault)
	}
	return kinds
}

// otherServers are the servers the run needs besides cluster.server: each
// node's own (cluster.servers) and every upgrade step's target.
func (s *Scenario) otherServers() []string {
	out := slices.Clone(s.Cluster.Servers)
	for _, st := range s.Timeline {
		if p, ok := st.Params.(faults.UpgradeParams); ok && p.To != "" {
			out = append(out, p.To)
		}
	}
	return out
}

// needs is what the scheduled faults need from the cluster.
func (s *Scenario) needs() faults.Needs {
	var n faults.Needs
	for _, k := range s.faultKinds() {
		if f, ok := faults.Registry[k]; ok {
			n.Links = n.Links || f.Needs().Links
			n.PowerFS = n.PowerFS || f.Needs().PowerFS
			n.Delay = n.Delay || f.Needs().Delay
			n.Store = n.Store || f.Needs().Store
			n.Servers = n.Servers || f.Needs().Servers
			n.ClientLinks = n.ClientLinks || f.Needs().ClientLinks
			n.System = n.System || f.Needs().System
		}
	}
	return n
}

// Plan is the fault schedule: the timeline as written, or a random schedule
// drawn from rng.
func (s *Scenario) Plan(rng *rand.Rand) []faults.Planned {
	if len(s.Timeline) > 0 {
		var plan []faults.Planned
		for _, st := range s.Timeline {
			plan = append(plan, faults.Planned{At: st.At.D(), For: st.For.D(), Spec: st.spec(), Seed: rng.Uint64() >> 11})
		}
		return plan
	}
	f := s.Faults
	return faults.RandomPlan(rng, faults.RandomOptions{
		Kinds: f.Kinds, Targets: targetStrings(f.Targets), Params: f.Params,
		Interval: f.Interval.D(), For: f.Downtime.D(), Total: s.Workload.Duration.D(), Mix: f.Mix,
	})
}
