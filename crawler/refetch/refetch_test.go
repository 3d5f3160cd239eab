package refetch_test

import (
	"testing"
	"time"

	"github.com/gather-crawler/gather/crawler/refetch"
	"github.com/gather-crawler/gather/storage"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) string { return storage.FormatTime(now.Add(-d)) }
	p := refetch.Policy{
		RefreshAfter:     24 * time.Hour,
		HubRefreshAfter:  time.Hour,
		RetryFailedAfter: time.Hour,
		RetryGoneAfter:   48 * time.Hour,
		RetryFailedRuns:  3,
	}
	ok := func(stored time.Duration) storage.PageState {
		return storage.PageState{Status: storage.PageOK, StoredAt: ago(stored), ItemsHash: "v1", Run: 1}
	}
	failed := func(fetched time.Duration, runs, status int) storage.PageState {
		return storage.PageState{Status: storage.PageFailed, FetchedAt: ago(fetched), FailRuns: runs, HTTPStatus: status, Run: 1}
	}
	cases := []struct {
		name    string
		p       refetch.Policy
		st      storage.PageState
		lastmod time.Time
		run     int64
		hub     bool
		want    refetch.Verdict
	}{
		{name: "fresh", p: p, st: ok(time.Hour), want: refetch.Stored},
		{name: "stale", p: p, st: ok(25 * time.Hour), want: refetch.Now},
		{name: "never stale without refresh_after", p: refetch.Policy{}, st: ok(1000 * time.Hour), want: refetch.Stored},
		{name: "earlier items", p: p, st: storage.PageState{Status: storage.PageOK, StoredAt: ago(time.Minute), ItemsHash: "v0"}, want: refetch.Now},
		{name: "ended by this run", p: p, st: ok(25 * time.Hour), run: 1, want: refetch.ThisRun},
		{name: "pending in this run", p: p, st: storage.PageState{Status: storage.PagePending, Run: 1}, run: 1, want: refetch.Now},
		{name: "lastmod after storing", p: p, st: ok(time.Hour), lastmod: now.Add(-time.Minute), want: refetch.Now},
		{name: "lastmod before storing, though stale", p: p, st: ok(25 * time.Hour), lastmod: now.Add(-26 * time.Hour), want: refetch.Stored},
		{name: "failed, back-off running", p: p, st: failed(30*time.Minute, 1, 500), want: refetch.Waiting},
		{name: "failed, back-off over", p: p, st: failed(61*time.Minute, 1, 500), want: refetch.Now},
		{name: "failed twice: back-off doubled", p: p, st: failed(90*time.Minute, 2, 500), want: refetch.Waiting},
		{name: "gone waits retry_gone_after", p: p, st: failed(47*time.Hour, 1, 404), want: refetch.Waiting},
		{name: "gone, back-off over", p: p, st: failed(49*time.Hour, 1, 410), want: refetch.Now},
		{name: "given up", p: p, st: failed(1000*time.Hour, 3, 500), want: refetch.GivenUp},
		{name: "hub stale by hub_refresh_after", p: p, st: ok(2 * time.Hour), hub: true, want: refetch.Now},
		{name: "hub fresh", p: p, st: ok(time.Minute), hub: true, want: refetch.Stored},
		{name: "hub ended by this run", p: p, st: ok(2 * time.Hour), hub: true, run: 1, want: refetch.ThisRun},
	}
	for _, c := range cases {
		got := c.p.DecideHub(c.st, c.lastmod, c.run, "v1", now, c.hub)
		if got != c.want {
			t.Errorf("%s: verdict %d, want %d", c.name, got, c.want)
		}
		if !c.hub {
			if d := c.p.Decide(c.st, c.lastmod, c.run, "v1", now); d != got {
				t.Errorf("%s: Decide %d, DecideHub %d for a page that is no hub", c.name, d, got)
			}
		}
	}
}

func TestRetryWait(t *testing.T) {
	for _, c := range []struct {
		runs int
		want time.Duration
	}{{0, time.Hour}, {1, time.Hour}, {2, 2 * time.Hour}, {4, 8 * time.Hour}, {100, 365 * 24 * time.Hour}} {
		if got := refetch.RetryWait(time.Hour, c.runs); got != c.want {
			t.Errorf("RetryWait(1h, %d) = %v, want %v", c.runs, got, c.want)
		}
	}
}
