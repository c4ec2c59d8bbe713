package scenarios

import (
	"jetstorm/faults"
	"math/rand/v2"
	"slices"
)

// spec is the fault a timeline step describes.
func (st Step) spec() faults.Spec {
	sp := faults.Spec{Kind: st.Fault, Target: st.Target, Shape: st.Shape, Links: st.Links,
		Delay: st.Delay.D(), Rate: int64(st.Rate.Bytes()), Count: st.Count, Files: st.Files}
	if !st.SyncInterval.IsZero() {
		sp.SyncInterval = st.SyncInterval.String()
	}
	return sp
}

// needs is what the scheduled faults need from the cluster.
func (s *Scenario) needs() faults.Needs {
	kinds := slices.Clone(s.Faults.Kinds)
	for _, st := range s.Timeline {
		kinds = append(kinds, st.Fault)
	}
	var n faults.Needs
	for _, k := range kinds {
		if f, ok := faults.Registry[k]; ok {
			n.Links = n.Links || f.Needs().Links
			n.PowerFS = n.PowerFS || f.Needs().PowerFS
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
	var syncs []string
	for _, v := range f.SyncIntervals {
		syncs = append(syncs, v.String())
	}
	return faults.RandomPlan(rng, faults.RandomOptions{
		Kinds: f.Kinds, Targets: f.Targets, Shapes: f.Shapes, SyncIntervals: syncs,
		Delay: f.Delay.D(), Rate: int64(f.Rate.Bytes()), Count: f.Count, Files: f.Files,
		Interval: f.Interval.D(), For: f.Downtime.D(), Total: s.Workload.Duration.D(),
	})
}
