package reports

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"jetstorm/history"
	"jetstorm/stats"
)

// faultShade shades each fault window over the whole height of the data area.
type faultShade struct{ wins []history.FaultWindow }

func (f *faultShade) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	for _, w := range f.wins {
		x0, x1 := trX(w.Start.Seconds()), trX(w.End.Seconds())
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x0 > c.Max.X || x1 < c.Min.X {
			continue
		}
		if x1 < x0+vg.Points(1) {
			x1 = x0 + vg.Points(1)
		}
		c.FillPolygon(colFault, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x0, Y: c.Max.Y}, {X: x1, Y: c.Max.Y}, {X: x1, Y: c.Min.Y}})
	}
}

// DataRange widens the X axis to the windows; ±Inf leaves Y alone.
func (f *faultShade) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for _, w := range f.wins {
		xmin, xmax = math.Min(xmin, w.Start.Seconds()), math.Max(xmax, w.End.Seconds())
	}
	return xmin, xmax, math.Inf(1), math.Inf(-1)
}

// faultLabels writes each window's kind and nodes just above the data
// area, starting at the window's start, with a tick down to the window.
// A label that would overprint the previous one goes on a second row; one
// that would overprint that too (dozens of faults in a long run) is left
// out, its tick and shaded window still there.
type faultLabels struct {
	wins  []history.FaultWindow
	style text.Style
}

const faultLabelRows = 2

func (f *faultLabels) lineH() vg.Length { return f.style.Font.Size + vg.Points(3) }

func (f *faultLabels) height() vg.Length {
	return vg.Length(min(len(f.wins), faultLabelRows))*f.lineH() + vg.Points(4)
}

func (f *faultLabels) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	var rowEnd [faultLabelRows]vg.Length
	for i := range rowEnd {
		rowEnd[i] = vg.Length(math.Inf(-1))
	}
	for _, w := range f.wins {
		x := max(trX(w.Start.Seconds()), c.Min.X)
		if x > c.Max.X {
			continue
		}
		row := 0
		for row < faultLabelRows-1 && x < rowEnd[row]+vg.Points(4) {
			row++
		}
		label := w.Label()
		y := c.Max.Y + vg.Points(2) + vg.Length(row)*f.lineH()
		if x < rowEnd[row]+vg.Points(4) {
			c.StrokeLine2(draw.LineStyle{Color: colLabel, Width: vg.Points(0.5)}, x, c.Max.Y, x, c.Max.Y+vg.Points(2))
			continue
		}
		c.StrokeLine2(draw.LineStyle{Color: colLabel, Width: vg.Points(0.5)}, x, c.Max.Y, x, y+f.style.Font.Size)
		c.FillText(f.style, vg.Point{X: x + vg.Points(2), Y: y}, label)
		rowEnd[row] = x + vg.Points(2) + f.style.Width(label)
	}
}

// spanStrip marks spans as a strip along the bottom of the data area, at
// row (0: lowest) of strips stripH high: a bench's outages and recoveries.
type spanStrip struct {
	spans []stats.Span
	col   color.Color
	row   int
}

const stripH = vg.Length(5)

func (s *spanStrip) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	y0 := c.Min.Y + vg.Length(s.row)*(stripH+1)
	for _, sp := range s.spans {
		x0, x1 := max(trX(sp.Start.Seconds()), c.Min.X), min(trX(sp.End.Seconds()), c.Max.X)
		if x0 > c.Max.X || x1 < c.Min.X {
			continue
		}
		x1 = max(x1, x0+vg.Points(1))
		c.FillPolygon(s.col, []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y0 + stripH}, {X: x1, Y: y0 + stripH}, {X: x1, Y: y0}})
	}
}

// benchImpactStrips are a bench's outages (red) and each fault's time to
// recover 90 % of its throughput (from its start), for the time plots.
func (r *run) benchImpactStrips(p *plot.Plot) {
	if r.res == nil || r.res.Bench == nil || len(r.res.Bench.Faults) == 0 {
		return
	}
	var outages, recovering []stats.Span
	for _, f := range r.res.Bench.Faults {
		outages = append(outages, f.Outages...)
		end := f.Span.Start + f.Recovery
		if !f.Recovered {
			end = r.span
		}
		if end > f.Span.Start {
			recovering = append(recovering, stats.Span{Start: f.Span.Start, End: end})
		}
	}
	if len(outages) > 0 {
		p.Add(&spanStrip{spans: outages, col: colError, row: 0})
		p.Legend.Add("unavailable (no ack)", swatch{colError})
	}
	if len(recovering) > 0 {
		p.Add(&spanStrip{spans: recovering, col: colBrown, row: 1})
		p.Legend.Add("until 90 % throughput", swatch{colBrown})
	}
}
