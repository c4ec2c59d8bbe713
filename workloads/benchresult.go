package workloads

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency summarizes one latency histogram, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// BenchWindow is one window (one second, or the shorter rest of a step
// whose duration is not whole seconds) of the run. Windows never straddle
// steps. Offered, Acked, Errors, PubAck and E2E are by the window of the
// messages' intended send time, so Acked + Errors = Offered and a server
// that falls behind shows as latency, not as a lower Acked. AcksReceived
// and Consumed are by the window the ack or message arrived in: they are
// the achieved throughput. Windows after the end of the schedule (Step -1)
// only hold acks and messages that arrived while the clients caught up.
type BenchWindow struct {
	Start   time.Duration `json:"start"` // since the run's start (nanoseconds in JSON)
	Step    int           `json:"step"`  // index into Steps, -1 after the schedule
	Offered int64         `json:"offered"`
	Acked   int64         `json:"acked"`
	Errors  int64         `json:"errors"`
	// Acks that arrived in this window, whatever their intended time.
	AcksReceived int64   `json:"acks_received"`
	Consumed     int64   `json:"consumed"`
	PubAck       Latency `json:"pub_ack"` // ack time - intended send time
	E2E          Latency `json:"e2e"`     // receive time - intended send time
}

// BenchStepResult aggregates the windows of one step. Rates are counts
// divided by the step's duration. OfferedRate and AckedRate count messages
// by intended send time (AckedRate stays near OfferedRate, less errors,
// even past saturation: look at the latency); AckThroughput and
// ConsumedRate count arrivals during the step, which is what the cluster
// actually sustained.
type BenchStepResult struct {
	Rate          float64       `json:"rate"`
	Duration      time.Duration `json:"duration"`
	OfferedRate   float64       `json:"offered_rate"`
	AckedRate     float64       `json:"acked_rate"`
	AckThroughput float64       `json:"ack_throughput"`
	ConsumedRate  float64       `json:"consumed_rate"`
	Errors        int64         `json:"errors"`
	PubAck        Latency       `json:"pub_ack"`
	E2E           Latency       `json:"e2e"`
}

// BenchResult is the outcome of a run.
type BenchResult struct {
	Windows []BenchWindow     `json:"windows"`
	Steps   []BenchStepResult `json:"steps"`

	errSamples []string // a few distinct publish errors, for diagnostics
}

// ErrorSamples returns up to a few distinct error messages seen in the run.
func (r *BenchResult) ErrorSamples() []string { return r.errSamples }

// result merges the per-goroutine counters and histograms.
func (r *benchRun) result(pubs []*benchPub, cons []*benchCons) *BenchResult {
	nw := r.wins.n()
	for _, p := range pubs {
		nw = max(nw, len(p.offered), len(p.acked), len(p.ackErrs), len(p.failed), len(p.ackRecv))
		for w := range p.lat.packed {
			nw = max(nw, w+1)
		}
	}
	for _, c := range cons {
		nw = max(nw, len(c.consumed))
		for w := range c.lat.packed {
			nw = max(nw, w+1)
		}
	}
	// Trim trailing windows past the schedule that hold nothing.
	at := func(s []int64, w int) int64 {
		if w < len(s) {
			return s[w]
		}
		return 0
	}
	wins := make([]BenchWindow, nw)
	for w := range wins {
		bw := &wins[w]
		bw.Start, bw.Step = r.wins.window(w)
		for _, p := range pubs {
			bw.Offered += at(p.offered, w)
			bw.Acked += at(p.acked, w)
			bw.Errors += at(p.failed, w) + at(p.ackErrs, w)
			bw.AcksReceived += at(p.ackRecv, w)
		}
		for _, c := range cons {
			bw.Consumed += at(c.consumed, w)
		}
	}
	for nw > r.wins.n() {
		bw := wins[nw-1]
		if bw.Offered != 0 || bw.Acked != 0 || bw.Errors != 0 || bw.AcksReceived != 0 || bw.Consumed != 0 {
			break
		}
		nw--
	}
	wins = wins[:nw]

	steps := make([]BenchStepResult, len(r.b.o.Steps))
	stepPub := make([]*hdrhistogram.Histogram, len(steps))
	stepE2E := make([]*hdrhistogram.Histogram, len(steps))
	for i := range steps {
		stepPub[i], stepE2E[i] = newHist(), newHist()
	}
	scratch := newHist()
	merge := func(w int, hs []*winHist, stepH []*hdrhistogram.Histogram) Latency {
		scratch.Reset()
		for _, h := range hs {
			if p := h.packed[w]; p != nil {
				p.MergeInto(scratch)
			}
		}
		if s := wins[w].Step; s >= 0 && scratch.TotalCount() > 0 {
			stepH[s].Merge(scratch)
		}
		return latencyOf(scratch)
	}
	pubH := make([]*winHist, len(pubs))
	for i, p := range pubs {
		pubH[i] = &p.lat
	}
	consH := make([]*winHist, len(cons))
	for i, c := range cons {
		consH[i] = &c.lat
	}
	for w := range wins {
		wins[w].PubAck = merge(w, pubH, stepPub)
		wins[w].E2E = merge(w, consH, stepE2E)
		if s := wins[w].Step; s >= 0 {
			st := &steps[s]
			st.OfferedRate += float64(wins[w].Offered)
			st.AckedRate += float64(wins[w].Acked)
			st.AckThroughput += float64(wins[w].AcksReceived)
			st.ConsumedRate += float64(wins[w].Consumed)
			st.Errors += wins[w].Errors
		}
	}
	for i, s := range r.b.o.Steps {
		st := &steps[i]
		st.Rate, st.Duration = s.Rate, s.Duration
		if secs := s.Duration.Seconds(); secs > 0 {
			st.OfferedRate /= secs
			st.AckedRate /= secs
			st.AckThroughput /= secs
			st.ConsumedRate /= secs
		}
		st.PubAck, st.E2E = latencyOf(stepPub[i]), latencyOf(stepE2E[i])
	}
	r.errs.mu.Lock()
	samples := append([]string(nil), r.errs.msgs...)
	r.errs.mu.Unlock()
	return &BenchResult{Windows: wins, Steps: steps, errSamples: samples}
}

var latencyPercentiles = []float64{50, 90, 99, 99.9}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	n := h.TotalCount()
	if n == 0 {
		return Latency{}
	}
	v := h.ValueAtPercentilesSlice(latencyPercentiles)
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{Count: n, P50: ms(v[0]), P90: ms(v[1]), P99: ms(v[2]), P999: ms(v[3]), Max: ms(h.Max())}
}

// Totals sums the windows' counters.
func (r *BenchResult) Totals() (offered, acked, consumed, errs int64) {
	for _, w := range r.Windows {
		offered += w.Offered
		acked += w.Acked
		consumed += w.Consumed
		errs += w.Errors
	}
	return
}

// WriteCSV writes one row per window; times in seconds, latencies in ms.
func (r *BenchResult) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{"start_s", "step", "offered", "acked", "errors", "acks_received", "consumed"}
	for _, m := range []string{"pub_ack", "e2e"} {
		header = append(header, m+"_count", m+"_p50_ms", m+"_p90_ms", m+"_p99_ms", m+"_p999_ms", m+"_max_ms")
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	row := make([]string, 0, len(header))
	for _, bw := range r.Windows {
		row = append(row[:0], f(bw.Start.Seconds()), strconv.Itoa(bw.Step),
			i(bw.Offered), i(bw.Acked), i(bw.Errors), i(bw.AcksReceived), i(bw.Consumed))
		for _, l := range []Latency{bw.PubAck, bw.E2E} {
			row = append(row, i(l.Count), f(l.P50), f(l.P90), f(l.P99), f(l.P999), f(l.Max))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
