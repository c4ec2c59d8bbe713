// Package stats holds the measurement types shared by the workloads that
// produce them and the reports that read them: latency summaries and the
// bench and capacity results (bench.json, capacity.json). It is a leaf
// package: it imports only the standard library and hdrhistogram-go.
package stats

import "github.com/HdrHistogram/hdrhistogram-go"

// Latency summarizes one latency histogram, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

var latencyPercentiles = []float64{50, 90, 99, 99.9}

// LatencyOf summarizes a histogram of latencies recorded in microseconds.
func LatencyOf(h *hdrhistogram.Histogram) Latency {
	n := h.TotalCount()
	if n == 0 {
		return Latency{}
	}
	v := h.ValueAtPercentilesSlice(latencyPercentiles)
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{Count: n, P50: ms(v[0]), P90: ms(v[1]), P99: ms(v[2]), P999: ms(v[3]), Max: ms(h.Max())}
}

// NewWindowHist is a bench window's latency histogram: µs, 1 µs to 60 s,
// 3 significant figures (what the bench records and bench.json encodes).
func NewWindowHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }
