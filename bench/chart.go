package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// writeChart draws time per row against history size (both axes log) for
// ingest, read_json and the scaling queries, socq and SQL, as an SVG.
func writeChart(r *report, path string) error {
	p := plot.New()
	p.Title.Text = "socq scaling: time per snapshot row"
	p.X.Label.Text = "snapshot rows"
	p.Y.Label.Text = "µs per row"
	p.X.Scale = plot.LogScale{}
	p.Y.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = false

	type series struct {
		name  string
		value func(*sizePoint) float64
		dash  bool
	}
	all := []series{
		{"socq ingest", func(s *sizePoint) float64 { return perRow(median(walls(s.socqIngest)), s.rows) }, false},
		{"read_json", func(s *sizePoint) float64 { return perRow(median(walls(s.readJSON)), s.rows) }, true},
	}
	for _, name := range scalingQueries {
		all = append(all,
			series{name + " (socq)", func(s *sizePoint) float64 { return perRow(median(s.queries[name].socq), s.rows) }, false},
			series{name + " (SQL)", func(s *sizePoint) float64 { return perRow(median(s.queries[name].sql), s.rows) }, true})
	}
	palette := []color.Color{
		color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff},
		color.RGBA{0x2c, 0xa0, 0x2c, 0xff}, color.RGBA{0xd6, 0x27, 0x28, 0xff},
	}
	for i, s := range all {
		pts := make(plotter.XYs, 0, len(r.sizes))
		for _, size := range r.sizes {
			if v := s.value(size); v > 0 {
				pts = append(pts, plotter.XY{X: float64(size.rows), Y: v})
			}
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		c := palette[(i/2)%len(palette)]
		line.Color, points.Color = c, c
		line.Width = vg.Points(1.5)
		points.Shape = draw.CircleGlyph{}
		if s.dash {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			points.Shape = draw.BoxGlyph{}
		}
		p.Add(line, points)
		p.Legend.Add(s.name, line, points)
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}
