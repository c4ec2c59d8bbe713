package reports

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"jetstorm/history"
)

// mirrorSample is one lag sample of the mirror workload.
type mirrorSample struct {
	at  float64 // seconds since the run started
	lag history.MirrorLag
}

// mirrorLag keeps a lag sample (mirror workloads).
func (d *Digest) mirrorLag(op history.Op) {
	var l history.MirrorLag
	if op.Type != history.OK || op.Decode(&l) != nil {
		return
	}
	d.mirrorLags = append(d.mirrorLags, mirrorSample{at: op.Time.Seconds(), lag: l})
}

// mirrorLagPlot draws how many messages the mirror and the sourced stream
// lacked of their origins at each sample, to the last one (the drain waits
// for them to catch up, past the load).
func (r *run) mirrorLagPlot() *plot.Plot {
	if r.d == nil || len(r.d.mirrorLags) == 0 {
		return nil
	}
	p := r.timePlot("copies' lag over time (messages their origins hold that they lack)", "messages behind")
	var m, s plotter.XYs
	for _, x := range r.d.mirrorLags {
		m = append(m, plotter.XY{X: x.at, Y: float64(x.lag.Mirror)})
		s = append(s, plotter.XY{X: x.at, Y: float64(x.lag.Sourced)})
	}
	if addSeries(p, "mirror", m, colBlue, false) != nil || addSeries(p, "sourced", s, colPurple, false) != nil {
		return nil
	}
	r.finishTime(p)
	p.X.Max = math.Max(p.X.Max, math.Ceil(r.d.mirrorLags[len(r.d.mirrorLags)-1].at))
	return p
}
