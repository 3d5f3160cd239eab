package serve

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// Charts are small SVGs drawn here and inlined in the page: no script, no
// chart library, nothing fetched. Every text in them is escaped.

const (
	chartW, chartH = 600.0, 140.0
	chartPad       = 24.0
)

type svg struct{ b strings.Builder }

func newSVG(title string) *svg {
	s := &svg{}
	fmt.Fprintf(&s.b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s"><title>%s</title>`,
		chartW, chartH+chartPad, esc(title), esc(title))
	return s
}

func (s *svg) text(x, y float64, anchor, t string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x, y, anchor, esc(t))
}

func (s *svg) done() template.HTML {
	s.b.WriteString(`</svg>`)
	return template.HTML(s.b.String()) // built from escaped parts only
}

func esc(s string) string { return template.HTMLEscapeString(s) }

func maxOf(ns []int64) int64 {
	m := int64(1)
	for _, n := range ns {
		m = max(m, n)
	}
	return m
}

// lineChart draws a per-second series (labels are times to the second)
// against elapsed time; seconds with no pages are zeros, not gaps.
// avg is the run's average rate, said beside the peak: a second at either
// end of the run is partial, so a run of a few seconds has no full second
// to show a peak of.
func lineChart(title string, pts []storage.Point, avg float64) template.HTML {
	s := newSVG(title)
	if len(pts) == 0 {
		s.text(chartW/2, chartH/2, "middle", "no pages yet")
		return s.done()
	}
	t0, _ := time.Parse("2006-01-02T15:04:05", pts[0].Label)
	tn, _ := time.Parse("2006-01-02T15:04:05", pts[len(pts)-1].Label)
	span := max(tn.Sub(t0).Seconds(), 1)
	ns := make([]int64, len(pts))
	for i, p := range pts {
		ns[i] = p.N
	}
	top := float64(maxOf(ns))
	var poly strings.Builder
	prev := -1.0
	for _, p := range pts {
		t, _ := time.Parse("2006-01-02T15:04:05", p.Label)
		sec := t.Sub(t0).Seconds()
		if prev >= 0 && sec-prev > 1 { // a quiet stretch drops to zero
			fmt.Fprintf(&poly, "%.1f,%.1f %.1f,%.1f ", x(prev+1, span), chartH, x(sec-1, span), chartH)
		}
		fmt.Fprintf(&poly, "%.1f,%.1f ", x(sec, span), chartH-float64(p.N)/top*(chartH-chartPad))
		prev = sec
	}
	fmt.Fprintf(&s.b, `<polyline class="line" points="%s"/>`, strings.TrimSpace(poly.String()))
	s.text(2, chartPad-8, "start", rateLabel(ns, avg))
	s.text(chartW-2, chartH+chartPad-6, "end", fmt.Sprintf("%.0f s", span))
	return s.done()
}

// rateLabel is the chart's label: the busiest full second (the first and
// last are partial) and the average; with no full second, the average.
func rateLabel(ns []int64, avg float64) string {
	if len(ns) < 3 {
		return fmt.Sprintf("%.1f pages/s average", avg)
	}
	return fmt.Sprintf("%d pages/s peak, %.1f average", maxOf(ns[1:len(ns)-1]), avg)
}

func x(sec, span float64) float64 { return 2 + sec/span*(chartW-4) }

// barChart draws one bar per point, labelled at both ends.
func barChart(title string, pts []storage.Point) template.HTML {
	s := newSVG(title)
	if len(pts) == 0 {
		s.text(chartW/2, chartH/2, "middle", "nothing yet")
		return s.done()
	}
	ns := make([]int64, len(pts))
	for i, p := range pts {
		ns[i] = p.N
	}
	top := float64(maxOf(ns))
	w := chartW / float64(len(pts))
	for i, p := range pts {
		h := float64(p.N) / top * (chartH - chartPad)
		fmt.Fprintf(&s.b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d</title></rect>`,
			float64(i)*w+1, chartH-h, max(w-2, 1), h, esc(p.Label), p.N)
	}
	s.text(2, chartPad-8, "start", fmt.Sprintf("max %d", int64(top)))
	s.text(2, chartH+chartPad-6, "start", pts[0].Label)
	s.text(chartW-2, chartH+chartPad-6, "end", pts[len(pts)-1].Label)
	return s.done()
}

// statusChart stacks each run's pages by status, oldest run on the left.
func statusChart(runs []storage.RunInfo) template.HTML {
	s := newSVG("pages per status per run")
	if len(runs) == 0 {
		s.text(chartW/2, chartH/2, "middle", "no runs yet")
		return s.done()
	}
	tot := make([]int64, len(runs))
	for i, r := range runs {
		tot[i] = r.PagesOK + r.PagesFailed + r.PagesSkipped
	}
	top := float64(maxOf(tot))
	w := chartW / float64(len(runs))
	for i := range runs {
		r := runs[len(runs)-1-i]
		y := chartH
		for _, part := range []struct {
			class string
			n     int64
		}{{"ok", r.PagesOK}, {"failed", r.PagesFailed}, {"skipped", r.PagesSkipped}} {
			h := float64(part.n) / top * (chartH - chartPad)
			y -= h
			fmt.Fprintf(&s.b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>run %d: %d %s</title></rect>`,
				part.class, float64(i)*w+1, y, max(w-2, 1), h, r.ID, part.n, part.class)
		}
	}
	s.text(2, chartPad-8, "start", fmt.Sprintf("max %d pages", int64(top)))
	s.text(2, chartH+chartPad-6, "start", fmt.Sprintf("run %d", runs[len(runs)-1].ID))
	s.text(chartW-2, chartH+chartPad-6, "end", fmt.Sprintf("run %d", runs[0].ID))
	return s.done()
}
