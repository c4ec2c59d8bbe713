package stats

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// capacity.json's keys and order, as the capacity search writes it.
func TestCapacityResultJSON(t *testing.T) {
	c := CapacityResult{SLOP99Ms: 50, Steps: []BenchStepResult{{Rate: 1000, Duration: time.Second}}, Held: []bool{true}, BestRate: 1000, Stopped: "max_steps reached"}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"slo_p99_ms":50,"steps":[{"rate":1000,"duration":1000000000,"offered_rate":0,"acked_rate":0,"ack_throughput":0,"consumed_rate":0,"errors":0,` +
		`"pub_ack":{"count":0,"p50":0,"p90":0,"p99":0,"p999":0,"max":0},"e2e":{"count":0,"p50":0,"p90":0,"p99":0,"p999":0,"max":0}}],` +
		`"held":[true],"best_rate":1000,"stopped":"max_steps reached"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestLatencyOf(t *testing.T) {
	h := hdrhistogram.New(1, 60_000_000, 3)
	if l := LatencyOf(h); l != (Latency{}) {
		t.Errorf("empty: %+v", l)
	}
	for us := int64(1000); us <= 100_000; us += 1000 { // 1..100 ms
		_ = h.RecordValue(us)
	}
	l := LatencyOf(h)
	if l.Count != 100 || l.P50 < 49.9 || l.P50 > 50.1 || l.Max < 99.9 || l.Max > 100.1 {
		t.Errorf("latency %+v", l)
	}
}
