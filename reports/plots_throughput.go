package reports

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"jetstorm/history"
)

// throughputPlot counts, per second, invokes (offered) by invoke time and
// completions by completion time: ok (acked) and fail+info (errors).
func (r *run) throughputPlot(keep func(history.Op) bool) *plot.Plot {
	var offered, acked, errs map[int64]float64 = map[int64]float64{}, map[int64]float64{}, map[int64]float64{}
	first, last := int64(math.MaxInt64), int64(-1)
	for _, op := range r.workload() {
		if !keep(op) || op.Time < 0 {
			continue
		}
		s := secondOf(op.Time)
		first, last = min(first, s), max(last, s)
		switch op.Type {
		case history.Invoke:
			offered[s]++
		case history.OK:
			acked[s]++
		default:
			errs[s]++
		}
	}
	if last < 0 {
		return nil
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
