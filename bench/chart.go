package bench

import (
	"fmt"
	"image/color"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of the chart: seconds against pages.
type Series struct {
	Name   string
	Points []Result
	Dashed bool
}

// Chart draws time against pages for each series, like the tutorial's plot
// of asyncio against joblib, and saves it as a PNG.
func Chart(path, title string, series []Series) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "pages"
	p.Y.Label.Text = "seconds"
	p.Legend.Top = true
	p.Legend.Left = false // the top right stays clear: the sequential series stops early
	p.Add(plotter.NewGrid())
	palette := []color.Color{
		color.RGBA{R: 214, G: 39, B: 40, A: 255}, color.RGBA{R: 31, G: 119, B: 180, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 148, G: 103, B: 189, A: 255},
		color.RGBA{R: 255, G: 127, B: 14, A: 255}, color.RGBA{R: 127, G: 127, B: 127, A: 255},
	}
	for i, s := range series {
		pts := append([]Result(nil), s.Points...)
		sort.Slice(pts, func(a, b int) bool { return pts[a].Pages < pts[b].Pages })
		xy := make(plotter.XYs, len(pts))
		for j, r := range pts {
			xy[j].X, xy[j].Y = float64(r.Pages), r.Seconds
		}
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return fmt.Errorf("chart %s: %w", s.Name, err)
		}
		c := palette[i%len(palette)]
		line.Color, points.Color = c, c
		line.Width = vg.Points(1.5)
		points.Shape = draw.CircleGlyph{}
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(line)
			p.Legend.Add(s.Name, line)
			continue
		}
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
	}
	return p.Save(8*vg.Inch, 5*vg.Inch, path)
}
