package reports

import (
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"

	"jetstorm/history"
)

// Fault labels go on two rows; past that (an hour's run with a fault a
// minute) a label that would overprint is left out, so the ones drawn
// never overlap, and each window keeps its tick.
func TestFaultLabelsNeverOverprint(t *testing.T) {
	for _, n := range []int{3, 60} {
		p := plot.New()
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, float64(n)*60, 0, 1
		var wins []history.FaultWindow
		for i := range n {
			start := time.Duration(i) * time.Minute
			wins = append(wins, history.FaultWindow{Start: start, End: start + 10*time.Second, Kind: "kill", Nodes: []string{"n1"}})
		}
		f := &faultLabels{wins: wins, style: textStyle(vg.Points(8), colLabel)}
		var rec recorder.Canvas
		c := draw.NewCanvas(&rec, 600, 300)
		c.Max.Y -= f.height()
		f.Plot(c, p)
		type span struct{ x0, x1, y vg.Length }
		var texts []span
		ticks := 0
		for _, a := range rec.Actions {
			switch a := a.(type) {
			case *recorder.FillString:
				w := f.style.Width(a.String)
				for _, o := range texts {
					if o.y == a.Point.Y && a.Point.X < o.x1 && o.x0 < a.Point.X+w {
						t.Errorf("%d faults: %q at %v overprints the label at %v", n, a.String, a.Point, o)
					}
				}
				texts = append(texts, span{a.Point.X, a.Point.X + w, a.Point.Y})
			case *recorder.Stroke:
				ticks++
			}
		}
		if ticks != n || len(texts) == 0 || (n == 3) != (len(texts) == n) {
			t.Errorf("%d faults: %d ticks, %d labels", n, ticks, len(texts))
		}
	}
}
