package serve

import "testing"

// The run chart's label never says a peak below the average: the first
// and last seconds are partial, and a run of a second or two has no full
// second at all.
func TestRateLabel(t *testing.T) {
	if got := rateLabel([]int64{954, 148}, 1101.8); got != "1101.8 pages/s average" {
		t.Errorf("short run: %q", got)
	}
	if got := rateLabel([]int64{300, 1200, 1150, 40}, 1000.4); got != "1200 pages/s peak, 1000.4 average" {
		t.Errorf("longer run: %q", got)
	}
}
