package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"jetstorm/history"
	"jetstorm/workloads"
)

// Plot geometry: every figure is 8x4 inches; PNGs at pngDPI.
const (
	figW   = 8 * vg.Inch
	figH   = 4 * vg.Inch
	pngDPI = 150
)

// Colours. The loss plot's colours are used nowhere else in it, so a test
// (or a person) can find lost writes by colour alone.
var (
	colOK      = color.RGBA{R: 44, G: 160, B: 44, A: 255}   // green: acked and read
	colLost    = color.RGBA{R: 214, G: 39, B: 40, A: 255}   // red: acked, never read
	colUnknown = color.RGBA{R: 150, G: 150, B: 150, A: 255} // grey: info
	colFailed  = color.RGBA{R: 255, G: 127, B: 14, A: 255}  // orange: fail
	colFault   = color.NRGBA{R: 148, G: 103, B: 189, A: 50} // translucent purple: a fault window
	colLabel   = color.RGBA{R: 70, G: 50, B: 100, A: 255}

	colBlue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colPurple = color.RGBA{R: 148, G: 103, B: 189, A: 255}
	colBrown  = color.RGBA{R: 140, G: 86, B: 75, A: 255}
	colError  = color.RGBA{R: 190, G: 0, B: 60, A: 255}
)

// figure is one plot file (a single plot or a row of panels).
type figure struct {
	name  string // file stem: name.png, name.svg
	title string // caption in index.html
	plots [][]*plot.Plot
}

// figureFile is a figure written to the run directory.
type figureFile struct {
	Name, Title, PNG, SVG string
}

func single(name, title string, p *plot.Plot) figure {
	return figure{name: name, title: title, plots: [][]*plot.Plot{{p}}}
}

func (f figure) draw(c draw.Canvas) {
	if len(f.plots) == 1 && len(f.plots[0]) == 1 {
		f.plots[0][0].Draw(c)
		return
	}
	t := draw.Tiles{Rows: len(f.plots), Cols: len(f.plots[0]), PadX: vg.Points(18), PadY: vg.Points(12),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4)}
	cs := plot.Align(f.plots, t, c)
	for j, row := range f.plots {
		for i, p := range row {
			if p != nil {
				p.Draw(cs[j][i])
			}
		}
	}
}

// render returns the figure as PNG and SVG bytes.
func (f figure) render() (pngB, svgB []byte, err error) {
	defer func() {
		if e := recover(); e != nil { // gonum panics on impossible axes
			err = fmt.Errorf("render: %v", e)
		}
	}()
	img := vgimg.NewWith(vgimg.UseWH(figW, figH), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
	f.draw(draw.New(img))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, nil, err
	}
	sv := vgsvg.New(figW, figH)
	f.draw(draw.New(sv))
	var sb bytes.Buffer
	if _, err := sv.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	return pb.Bytes(), sb.Bytes(), nil
}

func (f figure) save(dir string) (figureFile, error) {
	pngB, svgB, err := f.render()
	if err != nil {
		return figureFile{}, err
	}
	ff := figureFile{Name: f.name, Title: f.title, PNG: f.name + ".png", SVG: f.name + ".svg"}
	if err := writeFileAtomic(filepath.Join(dir, ff.PNG), pngB); err != nil {
		return ff, err
	}
	return ff, writeFileAtomic(filepath.Join(dir, ff.SVG), svgB)
}

// figures builds every plot the run's files support, in report order.
func (r *run) figures() ([]figure, error) {
	var figs []figure
	if r.bench != nil {
		if p := r.benchLatencyPlot("publish → ack latency per second (bench)", func(w workloads.BenchWindow) workloads.Latency { return w.PubAck }); p != nil {
			figs = append(figs, single("latency", "Publish → ack latency per second", p))
		}
		if p := r.benchLatencyPlot("end-to-end latency per second (bench: publish → consumed)", func(w workloads.BenchWindow) workloads.Latency { return w.E2E }); p != nil {
			figs = append(figs, single("e2e-latency", "End-to-end latency per second", p))
		}
		if p := r.benchThroughputPlot(); p != nil {
			figs = append(figs, single("throughput", "Throughput per second", p))
		}
	} else {
		pub := r.hasPublishes()
		title, filter := "operation latency per second of invoke time (invoke → ok)", isClientOp
		if pub {
			title = "publish → ack latency per second of invoke time"
			filter = func(op history.Op) bool { return op.F == history.FPublish }
		}
		if p := r.latencyPlot(title, filter); p != nil {
			figs = append(figs, single("latency", "Latency per second", p))
		}
		if p := r.throughputPlot(filter); p != nil {
			figs = append(figs, single("throughput", "Throughput per second", p))
		}
		if pub {
			figs = append(figs, r.lossFigures()...)
		}
	}
	if r.capacity != nil && len(r.capacity.Steps) > 0 {
		figs = append(figs, r.capacityFigure())
	}
	if r.sweep != nil && len(r.sweep.Rows) > 0 {
		figs = append(figs, r.sweepFigure())
	}
	return figs, nil
}

// ---- shared pieces ----

func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(plot.DefaultFont, size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YBottom,
		Handler: plot.DefaultTextHandler,
	}
}

// timePlot is a plot over seconds since the run started, with the run's
// fault windows shaded (under the data) and labelled (above the data area,
// in the title's padding, so labels hide neither data nor legend). Call
// finishTime after adding the series.
func (r *run) timePlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time since run start (s)"
	p.X.Tick.Marker = secondsTicks{}
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = plainTicks{}
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = vg.Points(14)
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Add(plotter.NewGrid())
	if len(r.faults) > 0 {
		p.Add(&faultShade{wins: r.faults})
	}
	return p
}

// finishTime adds the fault labels and legend entry after the series and
// fixes the time axis to the run's span, the same on every time plot.
func (r *run) finishTime(p *plot.Plot) {
	if len(r.faults) > 0 {
		fl := &faultLabels{wins: r.faults, style: textStyle(vg.Points(8), colLabel)}
		p.Add(fl)
		p.Title.Padding = fl.height()
		p.Legend.Add("fault", swatch{colFault})
	}
	p.X.Min = 0
	if r.span > 0 {
		p.X.Max = math.Ceil(r.span.Seconds())
	}
}

// faultShade shades each fault window over the whole height of the data area.
type faultShade struct{ wins []faultWindow }

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
// A label that would overprint the previous one goes on a second row.
type faultLabels struct {
	wins  []faultWindow
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
		c.StrokeLine2(draw.LineStyle{Color: colLabel, Width: vg.Points(0.5)}, x, c.Max.Y, x, y+f.style.Font.Size)
		c.FillText(f.style, vg.Point{X: x + vg.Points(2), Y: y}, label)
		rowEnd[row] = x + vg.Points(2) + f.style.Width(label)
	}
}

// secondsTicks puts major ticks on whole seconds at a step from 1, 2, 5,
// 10, 15, 30, 60, ... giving at most 12 of them.
type secondsTicks struct{}

func (secondsTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	if span <= 0 || math.IsInf(span, 0) || math.IsNaN(span) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	steps := []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= 12 {
			step = s
			break
		}
	}
	for span/step > 12 {
		step *= 2
	}
	minor := step / 5
	if step == 15 || step == 30 {
		minor = step / 3
	}
	if span/minor > 120 {
		minor = step
	}
	var ts []plot.Tick
	per := int64(math.Round(step / minor)) // minor ticks per major one
	for k := int64(math.Ceil(lo/minor - 1e-9)); float64(k)*minor <= hi+1e-9; k++ {
		v := float64(k) * minor
		t := plot.Tick{Value: v}
		if k%per == 0 {
			t.Label = strconv.FormatFloat(float64(k/per)*step, 'f', -1, 64)
		}
		ts = append(ts, t)
	}
	return ts
}

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

// swatch is a filled-square legend thumbnail.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}})
}

// addSeries adds a line with small point markers.
func addSeries(p *plot.Plot, name string, xys plotter.XYs, c color.Color, dashed bool) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color, l.Width = c, vg.Points(1.3)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	s.Color, s.Radius, s.Shape = c, vg.Points(1.4), draw.CircleGlyph{}
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
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

// ---- latency and throughput from the history ----

// secondOf is the whole second since the run start that t falls in.
func secondOf(t time.Duration) int64 {
	if t < 0 {
		return -1
	}
	return int64(t / time.Second)
}

// latencyPerSecond pairs each op selected by keep with its completion (per
// process) and returns, for each second of invoke time that had an OK,
// the p50, p99 and p99.9 latency of the OKs invoked in it, in ms.
func latencyPerSecond(ops []history.Op, keep func(history.Op) bool) (p50, p99, p999 plotter.XYs) {
	invoked := map[int]time.Duration{}
	perSec := map[int64][]int64{} // second -> latencies in µs
	for _, op := range ops {
		if !keep(op) {
			continue
		}
		if op.Type == history.Invoke {
			invoked[op.Process] = op.Time
			continue
		}
		t0, ok := invoked[op.Process]
		delete(invoked, op.Process)
		if ok && op.Type == history.OK {
			us := max(int64((op.Time-t0)/time.Microsecond), 1)
			s := secondOf(t0)
			perSec[s] = append(perSec[s], us)
		}
	}
	secs := make([]int64, 0, len(perSec))
	for s := range perSec {
		secs = append(secs, s)
	}
	sort.Slice(secs, func(i, j int) bool { return secs[i] < secs[j] })
	h := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
	ms := func(us int64) float64 { return float64(us) / 1000 }
	for _, s := range secs {
		h.Reset()
		for _, us := range perSec[s] {
			_ = h.RecordValue(min(us, h.HighestTrackableValue()))
		}
		x := float64(s) + 0.5
		p50 = append(p50, plotter.XY{X: x, Y: ms(h.ValueAtQuantile(50))})
		p99 = append(p99, plotter.XY{X: x, Y: ms(h.ValueAtQuantile(99))})
		p999 = append(p999, plotter.XY{X: x, Y: ms(h.ValueAtQuantile(99.9))})
	}
	return p50, p99, p999
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

func (r *run) latencyPlot(title string, keep func(history.Op) bool) *plot.Plot {
	p50, p99, p999 := latencyPerSecond(r.workload(), keep)
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

// headroom starts Y at 0 and leaves a quarter of the height for the legend.
func headroom(p *plot.Plot) {
	p.Y.Min = 0
	if math.IsInf(p.Y.Max, 0) || p.Y.Max <= 0 {
		p.Y.Max = 1
	}
	p.Y.Max *= 1.3
}

// ---- bench windows ----

// windowSpan is the X (midpoint, seconds) and length (seconds) of window i.
func windowSpan(ws []workloads.BenchWindow, i int) (mid, length float64) {
	length = 1
	if i+1 < len(ws) {
		if d := (ws[i+1].Start - ws[i].Start).Seconds(); d > 0 && d < length {
			length = d
		}
	}
	return ws[i].Start.Seconds() + length/2, length
}

func (r *run) benchLatencyPlot(title string, get func(workloads.BenchWindow) workloads.Latency) *plot.Plot {
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
		get  func(workloads.BenchWindow) int64
		c    color.Color
	}
	all := []ser{
		{"offered", func(w workloads.BenchWindow) int64 { return w.Offered }, colBlue},
		{"acked (by send time)", func(w workloads.BenchWindow) int64 { return w.Acked }, colOK},
		{"consumed", func(w workloads.BenchWindow) int64 { return w.Consumed }, colBrown},
		{"errors", func(w workloads.BenchWindow) int64 { return w.Errors }, colError},
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
	r.finishTime(p)
	headroom(p)
	return p
}

// ---- loss ----

// Outcomes of a publish in the loss plot, in drawing order: lost last so
// that it is never hidden.
const (
	stOK uint8 = iota
	stFailed
	stUnknown
	stLost
	nStatus
)

var statusColor = [nStatus]color.Color{colOK, colFailed, colUnknown, colLost}

// publish is one publish invoke and its outcome.
type publish struct {
	t     time.Duration
	index int64
	value string
	out   history.OpType // OK, Fail or Info ("" when it never completed)
}

// publishes pairs publish invokes with their completions, per process.
func publishes(ops []history.Op) []publish {
	var ps []publish
	open := map[int]int{} // process -> index into ps
	for _, op := range ops {
		if op.F != history.FPublish {
			continue
		}
		if op.Type == history.Invoke {
			open[op.Process] = len(ps)
			ps = append(ps, publish{t: op.Time, index: op.Index, value: op.ValueString()})
			continue
		}
		if i, ok := open[op.Process]; ok {
			ps[i].out = op.Type
			delete(open, op.Process)
		}
	}
	return ps
}

func classify(p publish, read map[string]bool) uint8 {
	switch p.out {
	case history.OK:
		if read[p.value] {
			return stOK
		}
		return stLost
	case history.Fail:
		return stFailed
	}
	return stUnknown
}

var nodeFileSafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

func (r *run) lossFigures() []figure {
	pubs := publishes(r.ops)
	if len(pubs) == 0 {
		return nil
	}
	read := map[string]bool{}
	nodeRead := map[string]map[string]bool{}
	drained := false
	nodeDrained := map[string]bool{}
	for _, op := range r.ops {
		switch {
		case op.F == history.FRead && op.Type == history.OK:
			read[op.ValueString()] = true
		case op.F == history.FDrain && op.Type == history.OK:
			drained = true
		case op.F == history.FNodeRead && op.Node != "":
			if nodeRead[op.Node] == nil {
				nodeRead[op.Node] = map[string]bool{}
			}
			if op.Type == history.OK {
				nodeRead[op.Node][op.ValueString()] = true
			}
		case op.F == history.FNodeDrain && op.Node != "":
			if nodeRead[op.Node] == nil {
				nodeRead[op.Node] = map[string]bool{}
			}
			if op.Type == history.OK {
				nodeDrained[op.Node] = true
			}
		}
	}
	lostWord := "lost: acked, never read by the final drain"
	if !drained {
		lostWord = "acked, unread (drain incomplete: not proven lost)"
	}
	figs := []figure{r.lossFigure("loss", "Publishes by outcome (a red streak is a window of lost acked writes)",
		"publishes by outcome, stacked per second of invoke time", lostWord, pubs, read)}
	for _, n := range sortedKeys(nodeRead) {
		w := "lost on " + n + ": acked, not read from " + n
		if !nodeDrained[n] {
			w = "acked, not read from " + n + " (node drain incomplete)"
		}
		figs = append(figs, r.lossFigure("loss-"+nodeFileSafe.ReplaceAllString(n, "_"), "Publishes by outcome on node "+n,
			"node "+n+": publishes by outcome, stacked per second of invoke time", w, pubs, nodeRead[n]))
	}
	return figs
}

func (r *run) lossFigure(name, caption, title, lostWord string, pubs []publish, read map[string]bool) figure {
	cols := map[int64][]publish{}
	for _, p := range pubs {
		s := secondOf(p.t)
		cols[s] = append(cols[s], p)
	}
	lc := &lossColumns{}
	var counts [nStatus]int
	for _, s := range sortedInt64Keys(cols) {
		ps := cols[s]
		sort.SliceStable(ps, func(i, j int) bool {
			if ps[i].t != ps[j].t {
				return ps[i].t < ps[j].t
			}
			return ps[i].index < ps[j].index
		})
		col := lossColumn{sec: s, st: make([]uint8, len(ps))}
		for i, p := range ps {
			col.st[i] = classify(p, read)
			counts[col.st[i]]++
		}
		lc.cols = append(lc.cols, col)
		lc.maxN = max(lc.maxN, len(ps))
	}
	p := r.timePlot(title, "publishes in that second (stacked)")
	p.Add(lc)
	names := [nStatus]string{"ok (acked, read)", "failed", "unknown (info)", lostWord}
	for _, st := range []uint8{stOK, stLost, stUnknown, stFailed} {
		if counts[st] > 0 { // no entry, no colour: a run without loss has no red
			p.Legend.Add(fmt.Sprintf("%s: %d", names[st], counts[st]), swatch{statusColor[st]})
		}
	}
	r.finishTime(p)
	p.Y.Min, p.Y.Max = 0, float64(lc.maxN)*1.35+1
	return single(name, caption, p)
}

func sortedInt64Keys[V any](m map[int64]V) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// lossColumns draws one column per second: publish i of the second is the
// cell [i, i+1) of the column, coloured by outcome. Runs of one outcome
// merge into one rectangle; lost cells are drawn last, at least 1.5 points
// high, so a single lost write among thousands still shows.
type lossColumns struct {
	cols []lossColumn
	maxN int
}

type lossColumn struct {
	sec int64
	st  []uint8
}

func (l *lossColumns) DataRange() (xmin, xmax, ymin, ymax float64) {
	if len(l.cols) == 0 {
		return math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	}
	return float64(l.cols[0].sec), float64(l.cols[len(l.cols)-1].sec + 1), 0, float64(l.maxN)
}

func (l *lossColumns) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	minH := vg.Points(1.5)
	for _, pass := range []uint8{stOK, stFailed, stUnknown, stLost} {
		for _, col := range l.cols {
			x0, x1 := trX(float64(col.sec)+0.1), trX(float64(col.sec)+0.9)
			if x1 < x0+vg.Points(1) {
				x1 = x0 + vg.Points(1)
			}
			cell := trY(1) - trY(0)
			gap := vg.Length(0)
			if cell >= vg.Points(4) { // sparse: draw each publish as its own brick
				gap = cell * 0.15
			}
			for i := 0; i < len(col.st); {
				j := i + 1
				if gap == 0 {
					for j < len(col.st) && col.st[j] == col.st[i] {
						j++
					}
				}
				if col.st[i] == pass {
					y0, y1 := trY(float64(i)), trY(float64(j))-gap
					if y1 < y0+minH && pass == stLost {
						y1 = y0 + minH
					}
					c.FillPolygon(statusColor[pass], c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}))
				}
				i = j
			}
		}
	}
}

// ---- capacity and sweep ----

func (r *run) capacityFigure() figure {
	c := r.capacity
	steps := append([]workloads.BenchStepResult(nil), c.Steps...)
	x := func(s workloads.BenchStepResult) float64 {
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

func (r *run) sweepFigure() figure {
	s := r.sweep
	names := make([]string, len(s.Rows))
	for i, row := range s.Rows {
		names[i] = row.Value
	}
	n := float64(len(s.Rows))
	catW := vg.Points(300) / vg.Length(n) // approximate data width of a panel per category

	thr := plot.New()
	thr.Title.Text = "acked throughput by " + s.Key
	thr.Y.Label.Text = "msgs/s"
	thr.Y.Tick.Marker = plainTicks{}
	thr.X.Label.Text = s.Key
	thr.Add(plotter.NewGrid())
	vals := make(plotter.Values, len(s.Rows))
	for i, row := range s.Rows {
		vals[i] = row.Throughput
	}
	if b, err := plotter.NewBarChart(vals, min(catW*0.6, vg.Points(40))); err == nil {
		b.Color, b.LineStyle.Width = colBlue, 0
		thr.Add(b)
	}
	thr.NominalX(names...)
	headroom(thr)

	lat := plot.New()
	lat.Title.Text = "publish → ack latency by " + s.Key
	lat.Y.Label.Text = "ms"
	lat.Y.Tick.Marker = plainTicks{}
	lat.X.Label.Text = s.Key
	lat.Legend.Top, lat.Legend.Left = true, true
	lat.Legend.TextStyle.Font.Size = vg.Points(8)
	lat.Add(plotter.NewGrid())
	groups := []struct {
		name string
		get  func(SweepRow) float64
		c    color.Color
	}{
		{"p50", func(r SweepRow) float64 { return r.PubAck.P50 }, colBlue},
		{"p99", func(r SweepRow) float64 { return r.PubAck.P99 }, colFailed},
		{"p99.9", func(r SweepRow) float64 { return r.PubAck.P999 }, colPurple},
	}
	w := min(catW*0.8/vg.Length(len(groups)), vg.Points(20))
	for gi, g := range groups {
		v := make(plotter.Values, len(s.Rows))
		for i, row := range s.Rows {
			v[i] = g.get(row)
		}
		b, err := plotter.NewBarChart(v, w)
		if err != nil {
			continue
		}
		b.Color, b.LineStyle.Width = g.c, 0
		b.Offset = w * vg.Length(float64(gi)-float64(len(groups)-1)/2)
		lat.Add(b)
		lat.Legend.Add(g.name, b)
	}
	lat.NominalX(names...)
	headroom(lat)
	return figure{name: "sweep", title: "Sweep of " + s.Key, plots: [][]*plot.Plot{{thr, lat}}}
}
