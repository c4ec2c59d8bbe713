package faults

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
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
