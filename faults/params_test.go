package faults

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"jetstorm/units"
)

// A planned fault's JSON is flat, as it always was, and reads back the same.
func TestSpecJSON(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		json string
	}{
		{Spec{Kind: "kill", Target: "one"}, `{"kind":"kill","target":"one"}`},
		{Spec{Kind: "partition", Params: PartitionParams{Shape: "links", Links: [][]string{{"n1", "n2"}}}}, `{"kind":"partition","shape":"links","links":[["n1","n2"]]}`},
		{Spec{Kind: "slowlink", Target: "n2", Params: SlowLinkParams{Delay: units.Duration(50 * time.Millisecond), Rate: 1024}}, `{"kind":"slowlink","target":"n2","delay":"50ms","rate":1024}`},
		{Spec{Kind: "sync-interval", Params: SyncIntervalParams{units.SyncAlways()}}, `{"kind":"sync-interval","sync_interval":"always"}`},
		{Spec{Kind: "rollback", Params: CorruptParams{Count: 8, Files: []string{".blk"}}}, `{"kind":"rollback","count":8,"files":[".blk"]}`},
	} {
		b, err := json.Marshal(tc.spec)
		if err != nil || string(b) != tc.json {
			t.Errorf("%+v: %s %v, want %s", tc.spec, b, err, tc.json)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, tc.spec) {
			t.Errorf("%s: read back %+v %v", b, back, err)
		}
	}
}

// Kinds that share a key give it one type; a step decodes into its kind's
// parameters, and a random section into every kind's, with defaults.
func TestParamKeys(t *testing.T) {
	if err := CheckKeys(nil, nil); err != nil {
		t.Error(err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte("{shape: halves, delay: 5ms, count: 2}"), &n); err != nil {
		t.Fatal(err)
	}
	p, err := DecodeStep("partition", n.Content[0])
	if err != nil || !reflect.DeepEqual(p, PartitionParams{Shape: "halves"}) {
		t.Errorf("step: %+v %v", p, err)
	}
	r, err := DecodeRandom(n.Content[0])
	if err != nil || r["slowlink"].(*SlowLinkParams).Delay.D() != 5*time.Millisecond || r["truncate"].(*CorruptParams).Count != 2 {
		t.Errorf("random: %+v %v", r, err)
	}
	if d := FillRandom(nil)["slowlink"].(*SlowLinkParams).Delay.D(); d != 50*time.Millisecond {
		t.Errorf("default delay %s", d)
	}
	// Draws take rng calls only as far as the kind needs: partition one.
	a, b := rand.New(rand.NewPCG(1, 1)), rand.New(rand.NewPCG(1, 1))
	Registry["partition"].Draw(a, &partitionRandom{Shapes: []string{"halves", "bridge"}})
	b.IntN(2)
	if a.Uint64() != b.Uint64() {
		t.Error("partition draw took more than one rng call")
	}
}
