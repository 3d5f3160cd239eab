package bench

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// XY is one point of a LineChart.
type XY struct{ X, Y float64 }

// Line is one series of a LineChart.
type Line struct {
	Name   string
	Points []XY
}

// LineChart draws lines on linear axes, the Y axis from zero (a memory
// curve that is flat must look flat, not magnified), and saves a PNG.
func LineChart(path, title, xLabel, yLabel string, lines []Line) error {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.Add(plotter.NewGrid())
	legend := newLegend()
	maxY := math.Inf(-1)
	for i, l := range lines {
		xy := make(plotter.XYs, len(l.Points))
		for k, pt := range l.Points {
			xy[k] = plotter.XY{X: pt.X, Y: pt.Y}
			maxY = math.Max(maxY, pt.Y)
		}
		if len(xy) == 0 {
			continue
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("chart %s: %w", l.Name, err)
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.5)
		p.Add(line)
		legend.Add(l.Name, line)
	}
	if math.IsInf(maxY, 0) {
		return fmt.Errorf("chart: no points to draw")
	}
	p.Y.Min, p.Y.Max = 0, maxY*1.15
	return render(path, p, legend)
}
