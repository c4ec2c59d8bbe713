package reports

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// throughputPlot counts, per second, invokes (offered) by invoke time and
// completions by completion time: ok (acked) and fail+info (errors), of
// the workload's publishes (or, without any, its client ops).
func (r *run) throughputPlot() *plot.Plot {
	if r.d == nil || r.d.plot.last < 0 {
		return nil
	}
	ps := r.d.plot
	first, last := ps.first, ps.last
	offered, acked, errs := map[int64]float64{}, map[int64]float64{}, map[int64]float64{}
	for s, c := range ps.counts {
		offered[s], acked[s], errs[s] = c[0], c[1], c[2]
	}
	series := func(m map[int64]float64) plotter.XYs {
		xys := make(plotter.XYs, 0, last-first+1)
		for s := first; s <= last; s++ {
			xys = append(xys, plotter.XY{X: float64(s) + 0.5, Y: m[s]})
		}
		return xys
	}
	p := r.timePlot("throughput per second (offered by invoke time, outcomes by completion time)", "operations per second")
	for _, s := range []struct {
		name string
		m    map[int64]float64
		c    color.Color
	}{{"offered (invokes)", offered, colBlue}, {"acked (ok)", acked, colOK}, {"errors (fail + info)", errs, colError}} {
		if err := addSeries(p, s.name, series(s.m), s.c, false); err != nil {
			return nil
		}
	}
	r.finishTime(p)
	headroom(p)
	return p
}
