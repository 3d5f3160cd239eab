package fetch

import (
	"math"
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"1":                             time.Second,
		" 120 ":                         2 * time.Minute,
		"-5":                            0,
		"soon":                          0,
		"999999":                        MaxRetryAfter,
		"Tue, 24 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Tue, 24 Nov 2026 11:00:00 GMT": 0,
		"Wed, 25 Nov 2026 12:00:00 GMT": MaxRetryAfter,
	} {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestBackoffIsCappedWithFullJitter(t *testing.T) {
	for _, b := range []Backoff{{DefaultBackoffBase, DefaultBackoffCap}, {time.Millisecond, 5 * time.Millisecond}, {3 * time.Hour, 24 * time.Hour}} {
		for attempt := 1; attempt <= 70; attempt++ {
			ceiling := time.Duration(min(float64(b.Cap), float64(b.Base)*math.Pow(2, float64(attempt-1))))
			if got := b.Ceiling(attempt); got != ceiling {
				t.Fatalf("%v: ceiling(%d) = %s, want %s", b, attempt, got, ceiling)
			}
			var maxSeen time.Duration
			for i := 0; i < 200; i++ {
				d := b.Wait(attempt)
				if d < 0 || d > ceiling {
					t.Fatalf("%v: wait(%d) = %s, outside [0, %s]", b, attempt, d, ceiling)
				}
				maxSeen = max(maxSeen, d)
			}
			if maxSeen < ceiling/2 {
				t.Errorf("%v: wait(%d) never came near its ceiling %s (max %s): no jitter spread", b, attempt, ceiling, maxSeen)
			}
		}
	}
}

func TestDecideResponse(t *testing.T) {
	h := http.Header{}
	for _, tc := range []struct {
		status int
		body   string
		want   Verdict
	}{
		{200, "<html>", OK}, {200, "  \n", Fail}, {201, "x", Fail}, {202, "", Fail},
		{204, "", Fail}, {301, "", Fail}, {404, "x", Fail}, {410, "", Fail},
		{408, "", Retry}, {429, "", Retry}, {500, "", Retry}, {502, "", Retry}, {503, "", Retry},
	} {
		if d := DecideResponse(&Detectors{}, tc.status, h, []byte(tc.body), 100, time.Now()); d.Verdict != tc.want {
			t.Errorf("status %d body %q: verdict %v (%s), want %v", tc.status, tc.body, d.Verdict, d.Reason, tc.want)
		}
	}
	if d := DecideResponse(&Detectors{}, 200, h, make([]byte, 101), 100, time.Now()); d.Verdict != Fail || d.Reason != "response too large: more than 100 bytes (crawl.max_body_size)" {
		t.Errorf("too large: %+v", d)
	}
}
