package reports

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// plainTicks are gonum's default ticks labelled without trailing zeros.
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

// Log-scale plots plot log10 of their values on a linear axis whose ticks
// are labelled with the values: gonum's LogScale panics on values <= 0 and
// misplaces the Y axis label's glyph box (it takes the arithmetic mean of
// the range as the middle), which shrinks the data area.

// lg maps the Y values of xys to log10 (values <= 0 become 1 µs).
func lg(xys plotter.XYs) plotter.XYs {
	out := make(plotter.XYs, len(xys))
	for i, xy := range xys {
		out[i] = plotter.XY{X: xy.X, Y: math.Log10(math.Max(xy.Y, 0.001))}
	}
	return out
}

// logY sets a log10 Y axis over the values [lo/2, hi*8] (room above for
// the legend). lo must be > 0.
func logY(p *plot.Plot, lo, hi float64) {
	p.Y.Tick.Marker = log10Ticks{}
	p.Y.Min, p.Y.Max = math.Log10(lo/2), math.Log10(hi*8)
}

// log10Ticks are logTicks for an axis in log10 units.
type log10Ticks struct{}

func (log10Ticks) Ticks(lo, hi float64) []plot.Tick {
	ts := logTicks{}.Ticks(math.Pow(10, lo), math.Pow(10, hi))
	for i := range ts {
		ts[i].Value = math.Log10(ts[i].Value)
	}
	return ts
}

// logTicks labels powers of ten, and 2 and 5 times them on short ranges.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	short := math.Log10(hi/lo) <= 2.5
	var ts []plot.Tick
	for e := math.Floor(math.Log10(lo)); math.Pow10(int(e)) <= hi; e++ {
		base := math.Pow10(int(e))
		for m := 1.0; m < 10; m++ {
			v := m * base
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (short && (m == 2 || m == 5)) {
				t.Label = strconv.FormatFloat(v, 'g', 4, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

func yRange(series ...plotter.XYs) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, xy := range s {
			if xy.Y > 0 {
				lo, hi = math.Min(lo, xy.Y), math.Max(hi, xy.Y)
			}
		}
	}
	return lo, hi
}

// headroom starts Y at 0 and leaves a quarter of the height for the legend.
func headroom(p *plot.Plot) {
	p.Y.Min = 0
	if math.IsInf(p.Y.Max, 0) || p.Y.Max <= 0 {
		p.Y.Max = 1
	}
	p.Y.Max *= 1.3
}
