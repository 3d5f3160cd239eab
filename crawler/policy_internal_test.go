package crawler

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"1":                             time.Second,
		" 120 ":                         2 * time.Minute,
		"-5":                            0,
		"soon":                          0,
		"999999":                        maxRetryAfter,
		"Tue, 24 Nov 2026 12:00:30 GMT": 30 * time.Second,
		"Tue, 24 Nov 2026 11:00:00 GMT": 0,
		"Wed, 25 Nov 2026 12:00:00 GMT": maxRetryAfter,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestBackoffIsCappedWithFullJitter(t *testing.T) {
	for _, b := range []backoff{{defaultBackoffBase, defaultBackoffCap}, {time.Millisecond, 5 * time.Millisecond}, {3 * time.Hour, 24 * time.Hour}} {
		for attempt := 1; attempt <= 70; attempt++ {
			ceiling := time.Duration(min(float64(b.cap), float64(b.base)*math.Pow(2, float64(attempt-1))))
			if got := b.ceiling(attempt); got != ceiling {
				t.Fatalf("%v: ceiling(%d) = %s, want %s", b, attempt, got, ceiling)
			}
			var maxSeen time.Duration
			for i := 0; i < 200; i++ {
				d := b.wait(attempt)
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
		want   verdict
	}{
		{200, "<html>", verdictOK}, {200, "  \n", verdictFail}, {201, "x", verdictFail}, {202, "", verdictFail},
		{204, "", verdictFail}, {301, "", verdictFail}, {404, "x", verdictFail}, {410, "", verdictFail},
		{408, "", verdictRetry}, {429, "", verdictRetry}, {500, "", verdictRetry}, {502, "", verdictRetry}, {503, "", verdictRetry},
	} {
		if d := decideResponse(newDetectors(config.Crawl{}), tc.status, h, []byte(tc.body), 100, time.Now()); d.verdict != tc.want {
			t.Errorf("status %d body %q: verdict %v (%s), want %v", tc.status, tc.body, d.verdict, d.reason, tc.want)
		}
	}
	if d := decideResponse(newDetectors(config.Crawl{}), 200, h, make([]byte, 101), 100, time.Now()); d.verdict != verdictFail || d.reason != "response too large: more than 100 bytes (crawl.max_body_size)" {
		t.Errorf("too large: %+v", d)
	}
}

// The dialer refuses loopback, private, link-local and metadata addresses
// before a connection is made, unless the crawl is allowed them.
func TestTransport_RefusesPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hi")) }))
	defer srv.Close()
	guarded := &http.Client{Transport: newTransport(2*time.Second, 1, false)}
	for _, u := range []string{srv.URL, "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:1/", "http://192.168.0.1/", "http://100.64.0.1/"} {
		_, err := guarded.Get(u)
		if !errors.Is(err, errAddressRefused) {
			t.Errorf("%s: err = %v, want address refused", u, err)
		}
	}
	open := &http.Client{Transport: newTransport(2*time.Second, 1, true)}
	resp, err := open.Get(srv.URL)
	if err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
	resp.Body.Close()
	for _, ip := range []string{"8.8.8.8", "2606:4700::1"} {
		if isPrivate(net.ParseIP(ip)) {
			t.Errorf("%s counted as private", ip)
		}
	}
}

// A request that runs past the timeout fails as a timeout, and the
// Retry-After pause holds one host only.
func TestTransport_TimeoutAndHostPause(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	tr := newTransport(200*time.Millisecond, 1, true)
	c := &http.Client{Transport: tr}
	_, err := c.Get(hang.URL)
	if !errors.Is(err, errTimeout) {
		t.Errorf("err = %v, want a timeout", err)
	}
	if d := decideError(err); d.verdict != verdictRetry || d.reason[:8] != "timeout:" {
		t.Errorf("timeout decision %+v", d)
	}
	tr.gates.pause("paused.example:80", time.Now().Add(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.gates.wait(ctx, "paused.example:80"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("paused host was not held: %v", err)
	}
	if err := tr.gates.wait(context.Background(), "other.example:80"); err != nil {
		t.Errorf("other host held: %v", err)
	}
}
