package reports

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"jetstorm/stats"
)

// windowSpan is the X (midpoint, seconds) and length (seconds) of window i.
func windowSpan(ws []stats.BenchWindow, i int) (mid, length float64) {
	length = 1
	if i+1 < len(ws) {
		if d := (ws[i+1].Start - ws[i].Start).Seconds(); d > 0 && d < length {
			length = d
		}
	}
	return ws[i].Start.Seconds() + length/2, length
}

func (r *run) benchLatencyPlot(title string, get func(stats.BenchWindow) stats.Latency) *plot.Plot {
	var p50, p99, p999 plotter.XYs
	ws := r.bench.Windows
	for i, w := range ws {
		l := get(w)
		if l.Count == 0 {
			continue
		}
		x, _ := windowSpan(ws, i)
		p50 = append(p50, plotter.XY{X: x, Y: math.Max(l.P50, 0.001)})
		p99 = append(p99, plotter.XY{X: x, Y: math.Max(l.P99, 0.001)})
		p999 = append(p999, plotter.XY{X: x, Y: math.Max(l.P999, 0.001)})
	}
	if len(p50) == 0 {
		return nil
	}
	return r.percentilePlot(title, p50, p99, p999)
}

func (r *run) benchThroughputPlot() *plot.Plot {
	ws := r.bench.Windows
	if len(ws) == 0 {
		return nil
	}
	type ser struct {
		name string
		get  func(stats.BenchWindow) int64
		c    color.Color
	}
	all := []ser{
		{"offered", func(w stats.BenchWindow) int64 { return w.Offered }, colBlue},
		{"acked (by send time)", func(w stats.BenchWindow) int64 { return w.Acked }, colOK},
		{"consumed", func(w stats.BenchWindow) int64 { return w.Consumed }, colBrown},
		{"errors", func(w stats.BenchWindow) int64 { return w.Errors }, colError},
	}
	p := r.timePlot("throughput per second (bench windows)", "messages per second")
	for _, s := range all {
		xys := make(plotter.XYs, len(ws))
		var any bool
		for i, w := range ws {
			x, l := windowSpan(ws, i)
			v := s.get(w)
			any = any || v != 0
			xys[i] = plotter.XY{X: x, Y: float64(v) / l}
		}
		if !any && s.name == "consumed" {
			continue // publish-only bench
		}
		if err := addSeries(p, s.name, xys, s.c, false); err != nil {
			return nil
		}
	}
	r.benchImpactStrips(p)
	r.finishTime(p)
	headroom(p)
	return p
}
