package reports

import (
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// latencyPerSecond is, for each second of invoke time that had an OK,
// the p50, p99 and p99.9 latency (ms) of the OKs invoked in it.
func latencyPerSecond(ps *perSecond) (p50, p99, p999 plotter.XYs) {
	secs := make([]int64, 0, len(ps.lat))
	for s := range ps.lat {
		secs = append(secs, s)
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	h := newLatencyHist()
	ms := func(us int64) float64 { return float64(us) / 1000 }
	for _, s := range secs {
		h.Reset()
		for us, n := range ps.lat[s] {
			_ = h.RecordValues(min(int64(us), h.HighestTrackableValue()), int64(n))
		}
		x := float64(s) + 0.5
		p50 = append(p50, plotter.XY{X: x, Y: ms(h.ValueAtQuantile(50))})
		p99 = append(p99, plotter.XY{X: x, Y: ms(h.ValueAtQuantile(99))})
		p999 = append(p999, plotter.XY{X: x, Y: ms(h.ValueAtQuantile(99.9))})
	}
	return p50, p99, p999
}

func (r *run) latencyPlot(title string) *plot.Plot {
	if r.d == nil {
		return nil
	}
	p50, p99, p999 := latencyPerSecond(r.d.plot)
	if len(p50) == 0 {
		return nil
	}
	return r.percentilePlot(title, p50, p99, p999)
}

func (r *run) percentilePlot(title string, p50, p99, p999 plotter.XYs) *plot.Plot {
	p := r.timePlot(title, "latency (ms, log scale)")
	for _, s := range []struct {
		name string
		xys  plotter.XYs
		c    color.Color
	}{{"p50", p50, colBlue}, {"p99", p99, colFailed}, {"p99.9", p999, colPurple}} {
		// p99.9 is dashed: with few samples a second it equals p99.
		if err := addSeries(p, s.name, lg(s.xys), s.c, s.name == "p99.9"); err != nil {
			return nil
		}
	}
	r.finishTime(p)
	lo, hi := yRange(p50, p99, p999)
	if math.IsInf(lo, 0) {
		lo, hi = 0.001, 1
	}
	logY(p, lo, hi)
	return p
}
