package workloads

import (
	"strconv"

	"github.com/HdrHistogram/hdrhistogram-go"

	"jetstorm/stats"
)

// result merges the per-goroutine counters and histograms.
func (r *benchRun) result(pubs []*benchPub, cons []*benchCons) *stats.BenchResult {
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
	wins := make([]stats.BenchWindow, nw)
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
			bw.Lag = append(bw.Lag, at(c.lag, w)-1) // stored +1: 0 is no sample
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

	steps := make([]stats.BenchStepResult, len(r.b.o.Steps))
	stepPub := make([]*hdrhistogram.Histogram, len(steps))
	stepE2E := make([]*hdrhistogram.Histogram, len(steps))
	for i := range steps {
		stepPub[i], stepE2E[i] = newHist(), newHist()
	}
	scratch := newHist()
	var encoded []byte
	// merge merges window w of hs into scratch (and into its step's
	// histogram in stepH, unless nil), leaving its encoding in encoded.
	merge := func(w int, hs []*winHist, stepH []*hdrhistogram.Histogram) stats.Latency {
		scratch.Reset()
		encoded = nil
		for _, h := range hs {
			if p := h.packed[w]; p != nil {
				p.MergeInto(scratch)
			}
		}
		if s := wins[w].Step; s >= 0 && scratch.TotalCount() > 0 && stepH != nil {
			stepH[s].Merge(scratch)
		}
		if scratch.TotalCount() > 0 {
			encoded, _ = scratch.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		}
		return stats.LatencyOf(scratch)
	}
	pubH := make([]*winHist, len(pubs))
	delayH := make([]*winHist, len(pubs))
	for i, p := range pubs {
		pubH[i], delayH[i] = &p.lat, &p.delay
	}
	consH := make([]*winHist, len(cons))
	for i, c := range cons {
		consH[i] = &c.lat
	}
	for w := range wins {
		wins[w].PubAck = merge(w, pubH, stepPub)
		wins[w].PubAckHist = encoded
		wins[w].E2E = merge(w, consH, stepE2E)
		wins[w].E2EHist = encoded
		merge(w, delayH, nil)
		wins[w].DelayHist = encoded
		if s := wins[w].Step; s >= 0 {
			st := &steps[s]
			st.OfferedRate += float64(wins[w].Offered)
			st.AckedRate += float64(wins[w].Acked)
			st.AckThroughput += float64(wins[w].AcksReceived)
			st.ConsumedRate += float64(wins[w].Consumed)
			st.Errors += wins[w].Errors
			for _, l := range wins[w].Lag {
				st.MaxLag = max(st.MaxLag, l)
			}
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
		st.PubAck, st.E2E = stats.LatencyOf(stepPub[i]), stats.LatencyOf(stepE2E[i])
	}
	r.errs.mu.Lock()
	samples := append([]string(nil), r.errs.msgs...)
	r.errs.mu.Unlock()
	res := stats.NewBenchResult(wins, steps, samples)
	gaps := make([][]stats.Span, len(pubs))
	for i, p := range pubs {
		gaps[i] = p.outages
	}
	res.Outages = stats.Intersect(gaps...)
	// Each client's totals over the schedule (natsbench.csv).
	summary := func(id string, n int64, h *winHist) stats.ClientSummary {
		scratch.Reset()
		for _, p := range h.packed {
			p.MergeInto(scratch)
		}
		cs := stats.ClientSummary{ID: id, Msgs: n, Bytes: n * int64(r.b.o.Payload), Duration: r.wins.end, AvgLatencyUs: scratch.Mean(),
			StdDevLatencyUs: scratch.StdDev()}
		if scratch.TotalCount() > 0 {
			q := func(p float64) float64 { return float64(scratch.ValueAtQuantile(p)) }
			cs.MinLatencyUs, cs.MaxLatencyUs = float64(scratch.Min()), float64(scratch.Max())
			cs.P50LatencyUs, cs.P90LatencyUs, cs.P99LatencyUs, cs.P999LatencyUs = q(50), q(90), q(99), q(99.9)
		}
		return cs
	}
	for _, p := range pubs {
		var n int64
		for _, a := range p.acked {
			n += a
		}
		res.Clients = append(res.Clients, summary("P"+strconv.Itoa(p.id), n, &p.lat))
	}
	for _, c := range cons {
		n := c.count.Load()
		res.Clients = append(res.Clients, summary("S"+strconv.Itoa(c.id), n, &c.lat))
	}
	return res
}
