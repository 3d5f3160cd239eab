package bench

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tableSeries is the shape of `gather bench`'s default run: a sequential
// series that stops early, three parallel ones near the bottom, and the
// dashed bound.
func tableSeries() []Series {
	mk := func(name string, dashed bool, pages []int, secs []float64) Series {
		s := Series{Name: name, Dashed: dashed}
		for i, n := range pages {
			s.Points = append(s.Points, Result{Pages: n, Seconds: secs[i]})
		}
		return s
	}
	all := []int{50, 100, 150, 200, 250, 300, 350, 400, 450}
	return []Series{
		mk("gather sequential (parallelism 1)", false, []int{50, 100}, []float64{15.14, 30.24}),
		mk("gather, parallelism 8", false, all, []float64{2.12, 3.95, 5.77, 7.60, 9.68, 11.50, 13.32, 15.14, 17.22}),
		mk("gather, parallelism 64", false, all, []float64{0.36, 0.67, 0.95, 1.25, 1.32, 1.59, 1.89, 2.17, 2.45}),
		mk("gather, parallelism 128", false, all, []float64{0.35, 0.39, 0.69, 0.71, 0.76, 0.98, 1.04, 1.27, 1.34}),
		mk("plain colly, parallelism 64", false, all, []float64{0.40, 0.77, 0.98, 1.26, 1.34, 1.66, 1.91, 2.18, 2.44}),
		mk("bound ⌈pages/128⌉·latency", true, all, []float64{0.3, 0.3, 0.6, 0.6, 0.6, 0.9, 0.9, 1.2, 1.2}),
	}
}

func TestChart_WritesPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.png")
	if err := Chart(path, "demo credit pages at 300ms latency", tableSeries()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	want := int(chartWidth.Dots(chartDPI) + 0.5)
	if got := img.Bounds().Dx(); got != want {
		t.Errorf("width %d px, want %d", got, want)
	}
}

func TestChart_RefusesWhatALogScaleCannotShow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.png")
	err := Chart(path, "t", []Series{{Name: "zero", Points: []Result{{Pages: 10, Seconds: 0}}}})
	if err == nil || !strings.Contains(err.Error(), "log scale") {
		t.Fatalf("err = %v, want a log-scale error", err)
	}
	if err := Chart(path, "t", nil); err == nil {
		t.Fatal("no series: want an error")
	}
}

func TestLogTicks_LabelsOneTwoThreeFive(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(0.23, 39) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got, want := strings.Join(labels, " "), "0.3 0.5 1 2 3 5 10 20 30"; got != want {
		t.Errorf("labels %q, want %q", got, want)
	}
}
