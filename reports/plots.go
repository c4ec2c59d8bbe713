package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"jetstorm/stats"
)

// Plot geometry: every figure is 8x4 inches; PNGs at pngDPI.
const (
	figW   = 8 * vg.Inch
	figH   = 4 * vg.Inch
	pngDPI = 150
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
		if p := r.benchLatencyPlot("publish → ack latency per second (bench)", func(w stats.BenchWindow) stats.Latency { return w.PubAck }); p != nil {
			figs = append(figs, single("latency", "Publish → ack latency per second", p))
		}
		if p := r.benchLatencyPlot("end-to-end latency per second (bench: publish → consumed)", func(w stats.BenchWindow) stats.Latency { return w.E2E }); p != nil {
			figs = append(figs, single("e2e-latency", "End-to-end latency per second", p))
		}
		if p := r.benchThroughputPlot(); p != nil {
			figs = append(figs, single("throughput", "Throughput per second", p))
		}
	} else {
		pub := r.hasPublishes()
		title := "operation latency per second of invoke time (invoke → ok)"
		if pub {
			title = "publish → ack latency per second of invoke time"
		}
		if p := r.latencyPlot(title); p != nil {
			figs = append(figs, single("latency", "Latency per second", p))
		}
		if p := r.throughputPlot(); p != nil {
			figs = append(figs, single("throughput", "Throughput per second", p))
		}
		if r.hasQueue() && r.res.Mirrors == nil { // a mirror run's publishes are read back per stream, not as the queue's
			figs = append(figs, r.lossFigures()...)
		}
		if p := r.mirrorLagPlot(); p != nil {
			figs = append(figs, single("lag", "Mirror and sourced stream lag over time", p))
		}
		if p := r.counterPlot(); p != nil {
			figs = append(figs, single("counters", "Counter values over time", p))
		}
		if f, ok := r.consumerLagFigure(); ok {
			figs = append(figs, f)
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
