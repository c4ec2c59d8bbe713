package reports

import (
	"fmt"
	"image/color"
	"maps"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// counterColors are the counters' lines, in turn.
var counterColors = []color.Color{colBlue, colOK, colPurple, colBrown, colFailed, colUnknown}

// counterPlot draws each counter's value over time (counter workloads):
// per second, the total of its acked increment with the highest sequence,
// so a fault window shows where the counters stood still or jumped. At
// most 6 counters are drawn.
func (r *run) counterPlot() *plot.Plot {
	if r.d == nil || len(r.d.counters) == 0 {
		return nil
	}
	p := r.timePlot("counter values over time (the latest acked total each second)", "counter value")
	for i, k := range slices.Sorted(maps.Keys(r.d.counters))[:min(len(r.d.counters), len(counterColors))] {
		m := r.d.counters[k]
		xys := make(plotter.XYs, 0, len(m))
		for _, s := range slices.Sorted(maps.Keys(m)) {
			xys = append(xys, plotter.XY{X: float64(s) + 0.5, Y: float64(m[s].total)})
		}
		if err := addSeries(p, fmt.Sprintf("counter %d", k), xys, counterColors[i], false); err != nil {
			return nil
		}
	}
	r.finishTime(p)
	return p
}
