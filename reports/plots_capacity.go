package reports

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"jetstorm/stats"
)

func (r *run) capacityFigure() figure {
	c := r.capacity
	steps := append([]stats.BenchStepResult(nil), c.Steps...)
	x := func(s stats.BenchStepResult) float64 {
		if s.OfferedRate > 0 {
			return s.OfferedRate
		}
		return s.Rate
	}
	sort.SliceStable(steps, func(i, j int) bool { return x(steps[i]) < x(steps[j]) })

	lat := plot.New()
	lat.Title.Text = "publish → ack latency vs offered rate"
	lat.X.Label.Text = "offered rate (msgs/s)"
	lat.Y.Label.Text = "latency (ms, log scale)"
	lat.X.Tick.Marker = plainTicks{}
	lat.Legend.Top, lat.Legend.Left = true, true
	lat.Legend.TextStyle.Font.Size = vg.Points(8)
	lat.Add(plotter.NewGrid())
	var p50, p99 plotter.XYs
	for _, s := range steps {
		if s.PubAck.Count > 0 {
			p50 = append(p50, plotter.XY{X: x(s), Y: math.Max(s.PubAck.P50, 0.001)})
			p99 = append(p99, plotter.XY{X: x(s), Y: math.Max(s.PubAck.P99, 0.001)})
		}
	}
	if len(p99) > 0 {
		_ = addSeries(lat, "p99", lg(p99), colFailed, false)
		_ = addSeries(lat, "p50", lg(p50), colBlue, false)
	}
	lo, hi := yRange(p50, p99)
	if math.IsInf(lo, 0) {
		lo, hi = 0.001, 1
	}
	if c.SLOP99Ms > 0 {
		lo, hi = math.Min(lo, c.SLOP99Ms), math.Max(hi, c.SLOP99Ms)
	}
	logY(lat, lo, hi)
	if c.SLOP99Ms > 0 {
		xmin, xmax := x(steps[0]), x(steps[len(steps)-1])
		if xmin == xmax {
			xmin, xmax = xmin-1, xmax+1
		}
		_ = addSeries(lat, fmt.Sprintf("SLO p99 %g ms", c.SLOP99Ms), lg(plotter.XYs{{X: xmin, Y: c.SLOP99Ms}, {X: xmax, Y: c.SLOP99Ms}}), colError, true)
	}

	thr := plot.New()
	thr.Title.Text = "achieved vs offered rate"
	thr.X.Label.Text = "offered rate (msgs/s)"
	thr.Y.Label.Text = "msgs/s"
	thr.X.Tick.Marker, thr.Y.Tick.Marker = plainTicks{}, plainTicks{}
	thr.Legend.Top, thr.Legend.Left = true, true
	thr.Legend.TextStyle.Font.Size = vg.Points(8)
	thr.Add(plotter.NewGrid())
	var ideal, acked, consumed plotter.XYs
	var anyConsumed bool
	for _, s := range steps {
		ideal = append(ideal, plotter.XY{X: x(s), Y: x(s)})
		acked = append(acked, plotter.XY{X: x(s), Y: s.AckThroughput})
		consumed = append(consumed, plotter.XY{X: x(s), Y: s.ConsumedRate})
		anyConsumed = anyConsumed || s.ConsumedRate > 0
	}
	_ = addSeries(thr, "offered (ideal)", ideal, colUnknown, true)
	_ = addSeries(thr, "acked", acked, colOK, false)
	if anyConsumed {
		_ = addSeries(thr, "consumed", consumed, colBrown, false)
	}
	if c.BestRate > 0 {
		_, ymax := yRange(ideal, acked, consumed)
		_ = addSeries(thr, fmt.Sprintf("best rate within SLO: %g/s", c.BestRate), plotter.XYs{{X: c.BestRate, Y: 0}, {X: c.BestRate, Y: ymax}}, colPurple, true)
	}
	headroom(thr)
	return figure{name: "capacity", title: "Capacity: latency and achieved rate per offered rate", plots: [][]*plot.Plot{{lat, thr}}}
}
