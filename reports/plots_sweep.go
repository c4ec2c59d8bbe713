package reports

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

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
