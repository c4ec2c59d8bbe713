package stats

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ombFields are the OpenMessaging Benchmark's result fields (its
// TestResult class), by the JSON type its readers expect: a reader of
// OMB's files finds every one of them in omb-result.json.
var ombFields = map[string]string{
	"workload": "string", "driver": "string", "messageSize": "number", "topics": "number", "partitions": "number",
	"producersPerTopic": "number", "consumersPerTopic": "number",
	"publishRate": "list", "publishErrorRate": "list", "consumeRate": "list", "backlog": "list",
	"publishLatencyAvg": "list", "publishLatency50pct": "list", "publishLatency75pct": "list", "publishLatency95pct": "list",
	"publishLatency99pct": "list", "publishLatency999pct": "list", "publishLatency9999pct": "list", "publishLatency99999pct": "list",
	"publishLatencyMax":      "list",
	"publishDelayLatencyAvg": "list", "publishDelayLatency50pct": "list", "publishDelayLatency75pct": "list",
	"publishDelayLatency95pct": "list", "publishDelayLatency99pct": "list", "publishDelayLatency999pct": "list",
	"publishDelayLatency9999pct": "list", "publishDelayLatency99999pct": "list", "publishDelayLatencyMax": "list",
	"aggregatedPublishLatencyAvg": "number", "aggregatedPublishLatency50pct": "number", "aggregatedPublishLatency75pct": "number",
	"aggregatedPublishLatency95pct": "number", "aggregatedPublishLatency99pct": "number", "aggregatedPublishLatency999pct": "number",
	"aggregatedPublishLatency9999pct": "number", "aggregatedPublishLatency99999pct": "number", "aggregatedPublishLatencyMax": "number",
	"aggregatedPublishDelayLatencyAvg": "number", "aggregatedPublishDelayLatency50pct": "number",
	"aggregatedPublishDelayLatency75pct": "number", "aggregatedPublishDelayLatency95pct": "number",
	"aggregatedPublishDelayLatency99pct": "number", "aggregatedPublishDelayLatency999pct": "number",
	"aggregatedPublishDelayLatency9999pct": "number", "aggregatedPublishDelayLatency99999pct": "number",
	"aggregatedPublishDelayLatencyMax":  "number",
	"aggregatedPublishLatencyQuantiles": "map", "aggregatedPublishDelayLatencyQuantiles": "map",
	"endToEndLatencyAvg": "list", "endToEndLatency50pct": "list", "endToEndLatency75pct": "list", "endToEndLatency95pct": "list",
	"endToEndLatency99pct": "list", "endToEndLatency999pct": "list", "endToEndLatency9999pct": "list",
	"endToEndLatency99999pct": "list", "endToEndLatencyMax": "list",
	"aggregatedEndToEndLatencyQuantiles": "map",
	"aggregatedEndToEndLatencyAvg":       "number", "aggregatedEndToEndLatency50pct": "number", "aggregatedEndToEndLatency75pct": "number",
	"aggregatedEndToEndLatency95pct": "number", "aggregatedEndToEndLatency99pct": "number", "aggregatedEndToEndLatency999pct": "number",
	"aggregatedEndToEndLatency9999pct": "number", "aggregatedEndToEndLatency99999pct": "number", "aggregatedEndToEndLatencyMax": "number",
}

func encodedHist(t *testing.T, us int64, n int) []byte {
	t.Helper()
	h := hdrhistogram.New(1, 60_000_000, 3)
	for range n {
		h.RecordValue(us)
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// 25 one-second windows of 1000 acks (2 ms), 900 consumed (5 ms end to
// end), 2 errors, sends 100 µs late, then a catch-up window: OMB's 10 s
// periods (10, 10, 5), with its units (ms, µs), its field names, and the
// backlog growing by 100 a second.
func TestOMBResult(t *testing.T) {
	r := &BenchResult{}
	for i := 0; i < 25; i++ {
		r.Windows = append(r.Windows, BenchWindow{Start: time.Duration(i) * time.Second, Step: 0,
			AcksReceived: 1000, Consumed: 900, Errors: 2,
			PubAckHist: encodedHist(t, 2000, 1000), E2EHist: encodedHist(t, 5000, 900), DelayHist: encodedHist(t, 100, 1000)})
	}
	r.Windows = append(r.Windows, BenchWindow{Start: 25 * time.Second, Step: -1, Consumed: 2500})
	o := r.OMB(OMBMeta{Workload: "w", Driver: "d", MessageSize: 128, Topics: 1, Partitions: 2, Producers: 4, Consumers: 1})
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, typ := range ombFields {
		v, ok := m[k]
		if !ok {
			t.Errorf("no %s", k)
			continue
		}
		switch v.(type) {
		case string:
			ok = typ == "string"
		case float64:
			ok = typ == "number"
		case []any:
			ok = typ == "list" && len(v.([]any)) == 3
		case map[string]any:
			ok = typ == "map" && len(v.(map[string]any)) > 0
		}
		if !ok {
			t.Errorf("%s: %T %v, want a %s (lists: one entry per period)", k, v, v, typ)
		}
	}
	if len(m) != len(ombFields) {
		t.Errorf("%d fields, OMB has %d", len(m), len(ombFields))
	}
	if o.PublishRate[0] != 1000 || o.PublishRate[2] != 1000 || o.ConsumeRate[1] != 900 || o.PublishErrorRate[0] != 2 {
		t.Errorf("rates %v %v %v", o.PublishRate, o.ConsumeRate, o.PublishErrorRate)
	}
	if o.Backlog[0] != 1000 || o.Backlog[2] != 2500 {
		t.Errorf("backlog %v, want 1000, 2000, 2500", o.Backlog)
	}
	// (HdrHistogram's 3 significant figures: 5 ms reads as 5.003)
	if o.PublishLatency50pct[0] != 2 || math.Abs(o.EndToEndLatency99pct[1]-5) > 0.01 || o.PublishDelayLatency50pct[0] != 100 {
		t.Errorf("latencies %v ms, %v ms, delay %v µs", o.PublishLatency50pct, o.EndToEndLatency99pct, o.PublishDelayLatency50pct)
	}
	if o.AggregatedPublishLatency99pct != 2 || o.AggregatedPublishLatencyQuantiles[99.9] != 2 || !strings.Contains(string(b), `"99.9":2`) {
		t.Errorf("aggregated p99 %v, quantiles %v", o.AggregatedPublishLatency99pct, o.AggregatedPublishLatencyQuantiles)
	}
}

// natsbench.csv has nats bench's header (natscli v0.5.0, with latencies)
// and its rows: consumers (S) first, rates per second over the duration,
// latencies in µs.
func TestNatsBenchCSV(t *testing.T) {
	r := &BenchResult{Clients: []ClientSummary{
		{ID: "P0", Msgs: 1000, Bytes: 128000, Duration: 10 * time.Second, AvgLatencyUs: 1500, MinLatencyUs: 100, MaxLatencyUs: 9000,
			P50LatencyUs: 1400, P90LatencyUs: 2000, P99LatencyUs: 5000, P999LatencyUs: 8000, StdDevLatencyUs: 700.25},
		{ID: "S0", Msgs: 990, Bytes: 126720, Duration: 10 * time.Second, AvgLatencyUs: 2500.5},
	}}
	var b bytes.Buffer
	if err := r.WriteNatsBenchCSV(&b, "run1"); err != nil {
		t.Fatal(err)
	}
	want := "#RunID,ClientID,MsgCount,MsgBytes,MsgsPerSec,BytesPerSec,DurationSecs,MinLatencyMicroSecs,AvgLatencyMicroSecs," +
		"MaxLatencyMicroSecs,P50LatencyMicroSecs,P90LatencyMicroSecs,P99LatencyMicroSecs,P99.9LatencyMicroSecs,StdDevLatencyMicroSecs\n" +
		"run1,S0,990,126720,99,12672.000000,10.000000,0.000000,2500.500000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000\n" +
		"run1,P0,1000,128000,100,12800.000000,10.000000,100.000000,1500.000000,9000.000000,1400.000000,2000.000000,5000.000000,8000.000000,700.250000\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
