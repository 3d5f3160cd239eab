package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler"
)

func TestProgressLine(t *testing.T) {
	s := crawler.Stats{Total: 566, Done: 526, OK: 520, Failed: 6, Items: 1200, InFlight: 7,
		InFlightHosts: map[string]int64{"b.example": 3, "a.example": 4}, Elapsed: 10 * time.Second}
	line := progressLine(s)
	for _, want := range []string{"526 done · 40 queued  93%", "52.6 pages/s", "6 errors", "7 in flight (a.example 4, b.example 3)", "ETA 1s"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
	if line := progressLine(crawler.Stats{Total: -1, Done: 3}); !strings.HasPrefix(line, "3 done  ") {
		t.Errorf("unknown total: %q", line)
	}
}
