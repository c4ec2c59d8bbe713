package reports

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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

func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(plot.DefaultFont, size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YBottom,
		Handler: plot.DefaultTextHandler,
	}
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
