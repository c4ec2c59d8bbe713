package reports

import (
	"math"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

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

// secondOf is the whole second since the run start that t falls in.
func secondOf(t time.Duration) int64 {
	if t < 0 {
		return -1
	}
	return int64(t / time.Second)
}
