package faults

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"jetstorm/units"
)

func TestRandomPlanIsSeeded(t *testing.T) {
	plan := func(seed uint64) []Planned {
		return RandomPlan(rand.New(rand.NewPCG(seed, 1)), RandomOptions{
			Kinds: []string{"kill", "partition", "pause"}, Targets: []string{"one", "majority", "stream-leader"},
			Params: RandomSection{"partition": &partitionRandom{Shapes: []string{"isolate", "halves", "bridge"}}}, Interval: 10 * time.Second, For: 5 * time.Second, Total: 60 * time.Second})
	}
	a, b, c := plan(1), plan(1), plan(2)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed, different plans:\n%v\n%v", a, b)
	}
	if reflect.DeepEqual(a, c) {
		t.Errorf("different seeds, same plan: %v", a)
	}
	// One fault every 10 s that heals before 60 s: at 10, 20, 30, 40, 50.
	if len(a) != 5 || a[0].At != 10*time.Second || a[4].At != 50*time.Second {
		t.Errorf("plan times: %v", a)
	}
	// The plan survives a JSON round trip exactly (it is listed in results.json
	// and the history's meta op, and re-read by `jetstorm check`).
	var generic any
	bs, _ := json.Marshal(a)
	json.Unmarshal(bs, &generic)
	bs2, _ := json.Marshal(generic)
	var back []Planned
	if err := json.Unmarshal(bs2, &back); err != nil || !reflect.DeepEqual(back, a) {
		t.Errorf("round trip: %v %v", err, back)
	}
}

// A mixed schedule over an hour: some one-minute periods are quiet, each
// other period draws every fault from its own one kind, and the periods
// between them use more than one kind; the same seed gives the same plan.
func TestRandomPlanMix(t *testing.T) {
	o := RandomOptions{Kinds: []string{"kill", "partition", "pause"}, Interval: 10 * time.Second, For: 5 * time.Second,
		Total: time.Hour, Mix: &Mix{Period: units.Duration(time.Minute), Kinds: 1, Quiet: 0.5}}
	plan := RandomPlan(rand.New(rand.NewPCG(7, 1)), o)
	if again := RandomPlan(rand.New(rand.NewPCG(7, 1)), o); !reflect.DeepEqual(plan, again) {
		t.Fatal("same seed, different mixed plans")
	}
	byPeriod := map[int]map[string]bool{}
	for _, p := range plan {
		k := int(p.At / time.Minute)
		if byPeriod[k] == nil {
			byPeriod[k] = map[string]bool{}
		}
		byPeriod[k][p.Kind] = true
	}
	kinds := map[string]bool{}
	for k, ks := range byPeriod {
		if len(ks) != 1 {
			t.Errorf("period %d drew from %v, want one kind", k, ks)
		}
		for kind := range ks {
			kinds[kind] = true
		}
	}
	if quiet := 60 - len(byPeriod); quiet < 15 || quiet > 45 {
		t.Errorf("%d of 60 periods quiet, want about half", quiet)
	}
	if len(kinds) < 2 {
		t.Errorf("one kind over the hour: %v", kinds)
	}
	// Without a mix, a plan draws from every kind in every period.
	o.Mix = nil
	if n := len(RandomPlan(rand.New(rand.NewPCG(7, 1)), o)); n != 359 {
		t.Errorf("%d faults without a mix, want 359 (every 10 s)", n)
	}
}
