package bench

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one line of the chart: seconds against pages.
type Series struct {
	Name   string
	Points []Result
	Dashed bool
}

// palette colours the series, in order.
var palette = []color.Color{
	color.RGBA{R: 214, G: 39, B: 40, A: 255}, color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 148, G: 103, B: 189, A: 255},
	color.RGBA{R: 255, G: 127, B: 14, A: 255}, color.RGBA{R: 127, G: 127, B: 127, A: 255},
}

func newLegend() plot.Legend {
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true // text after the icons
	legend.Padding = vg.Points(4)
	legend.ThumbnailWidth = vg.Points(28)
	return legend
}

// Size of the charts written here.
const (
	chartWidth  = 10 * vg.Inch
	chartHeight = 5.5 * vg.Inch
	chartDPI    = 110
)

// Chart draws time against pages for each series, like the tutorial's plot
// of asyncio against joblib, and saves it as a PNG.
//
// The time axis is logarithmic: the sequential series runs to tens of
// seconds while the parallel ones stay under a few, and on a linear axis
// they all lie flat near zero. The legend sits to the right of the plot, so
// it covers no data.
func Chart(path, title string, series []Series) error {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(6)
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.X.Label.Text = "pages"
	p.Y.Label.Text = "seconds (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Add(plotter.NewGrid())

	legend := newLegend()

	minY, maxY := math.Inf(1), math.Inf(-1)
	pageSet := map[int]bool{}
	for i, s := range series {
		pts := append([]Result(nil), s.Points...)
		sort.Slice(pts, func(a, b int) bool { return pts[a].Pages < pts[b].Pages })
		xy := make(plotter.XYs, 0, len(pts))
		for _, r := range pts {
			if !(r.Seconds > 0) {
				return fmt.Errorf("chart %s: %d pages in %v s cannot go on a log scale", s.Name, r.Pages, r.Seconds)
			}
			xy = append(xy, plotter.XY{X: float64(r.Pages), Y: r.Seconds})
			minY, maxY = math.Min(minY, r.Seconds), math.Max(maxY, r.Seconds)
			pageSet[r.Pages] = true
		}
		if len(xy) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xy)
		if err != nil {
			return fmt.Errorf("chart %s: %w", s.Name, err)
		}
		c := palette[i%len(palette)]
		line.Color, points.Color = c, c
		line.Width = vg.Points(1.5)
		points.Shape = draw.CircleGlyph{}
		name := s.Name
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(line)
			legend.Add(name, line)
			continue
		}
		p.Add(line, points)
		legend.Add(name, line, points)
	}
	if math.IsInf(minY, 0) {
		return fmt.Errorf("chart: no points to draw")
	}
	// A little room above and below, so that no point sits on the frame.
	p.Y.Min, p.Y.Max = minY/1.3, maxY*1.3
	p.Y.Tick.Marker = logTicks{}
	if len(pageSet) > 0 && len(pageSet) <= 12 {
		var ticks plot.ConstantTicks
		for n := range pageSet {
			ticks = append(ticks, plot.Tick{Value: float64(n), Label: strconv.Itoa(n)})
		}
		sort.Slice(ticks, func(a, b int) bool { return ticks[a].Value < ticks[b].Value })
		p.X.Tick.Marker = ticks
	}

	return render(path, p, legend)
}

// logTicks labels 1, 2, 3 and 5 times each power of ten in range and marks
// the other integer multiples without a label, which reads better than
// plot.LogTicks' labels at powers of ten alone when the range spans two
// decades.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow(10, e)
			if e < 0 {
				v = float64(m) / math.Pow(10, -e) // 0.3, not 0.30000000000000004
			}
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 3 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// render draws p with its legend in a column of its own to the right, so
// that it covers no data, and saves it as a PNG.
func render(path string, p *plot.Plot, legend plot.Legend) error {
	img := vgimg.NewWith(vgimg.UseWH(chartWidth, chartHeight), vgimg.UseDPI(chartDPI))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	// A margin on every side: plot.Draw sets the title's top edge above the
	// canvas by the font's descent, which clipped it when drawn flush.
	margin := vg.Points(10)
	dc = draw.Crop(dc, margin, -margin, margin, -margin)

	// The legend gets its own column to the right of the plot, its top level
	// with the top of the data area.
	gap := vg.Points(12)
	legendWidth := legend.Rectangle(dc).Size().X
	plotC := draw.Crop(dc, 0, -(legendWidth + gap), 0, 0)
	p.Draw(plotC)
	data := p.DataCanvas(plotC)
	legendC := dc
	legendC.Min.X = plotC.Max.X + gap
	legendC.Max.Y = data.Max.Y
	legendC.Min.Y = data.Min.Y
	legend.Draw(legendC)

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
