// Package refetch decides, from what the database knows of a page, whether
// a new run of a crawl fetches it again: the re-fetch policy of
// crawl.refresh_after, crawl.hub_refresh_after, a sitemap's <lastmod>,
// and the back-off across runs of a page that failed. It is pure: the
// clock and the page's record are passed in, nothing is read or written.
package refetch

import (
	"net/http"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// Policy holds the crawl's settings the decision depends on.
type Policy struct {
	// RefreshAfter: a page stored longer ago is stale (0: never).
	RefreshAfter time.Duration
	// HubRefreshAfter: a hub page stored longer ago is stale (0: hubs
	// follow RefreshAfter).
	HubRefreshAfter time.Duration
	// RetryFailedAfter is the wait before a failed page is tried again,
	// RetryGoneAfter the wait after a 404 or 410; each doubles for every
	// further run the page failed in.
	RetryFailedAfter, RetryGoneAfter time.Duration
	// RetryFailedRuns: a page failed in this many runs in a row is given
	// up (0: never).
	RetryFailedRuns int
}

// Verdict is why a page is or is not fetched in a run.
type Verdict int

const (
	Now     Verdict = iota // fetch it in this run
	ThisRun                // this run already ended it
	Stored                 // stored, and not stale
	Waiting                // failed in an earlier run; its back-off has not run out
	GivenUp                // failed in RetryFailedRuns runs in a row
)

// Decide is the verdict for a page the database knows (st) in run (0:
// none yet) whose items hash is items, at now. lastmod is the page's
// sitemap <lastmod>, zero when unknown.
//
// A page stored is fetched again once RefreshAfter says it is stale — or,
// when a sitemap gives its lastmod, once it changed after it was stored
// (then only) — or when its rows follow an earlier version of the items.
// A page that failed is tried again once its back-off across runs has
// passed, until it has failed in RetryFailedRuns runs in a row.
func (p Policy) Decide(st storage.PageState, lastmod time.Time, run int64, items string, now time.Time) Verdict {
	switch {
	case run != 0 && st.Run == run && st.Status != storage.PagePending:
		return ThisRun
	case st.Status == storage.PageOK:
		if st.ItemsHash != "" && st.ItemsHash != items {
			return Now
		}
		if p.RefreshAfter <= 0 {
			return Stored
		}
		stored, err := time.Parse(storage.TimeFormat, st.StoredAt)
		if err != nil {
			return Now
		}
		if !lastmod.IsZero() {
			if lastmod.After(stored) {
				return Now
			}
			return Stored
		}
		if now.Sub(stored) < p.RefreshAfter {
			return Stored
		}
	case st.Status == storage.PageFailed:
		if p.RetryFailedRuns > 0 && st.FailRuns >= p.RetryFailedRuns {
			return GivenUp
		}
		base := p.RetryFailedAfter
		if st.HTTPStatus == http.StatusNotFound || st.HTTPStatus == http.StatusGone {
			base = p.RetryGoneAfter
		}
		fetched, err := time.Parse(storage.TimeFormat, st.FetchedAt)
		if err == nil && now.Sub(fetched) < RetryWait(base, st.FailRuns) {
			return Waiting
		}
	}
	return Now
}

// DecideHub is Decide for a page that may be a hub (a start page of a
// follow crawl, or one a hub rule selected): a stored hub is fetched
// again once HubRefreshAfter has passed since it was stored.
func (p Policy) DecideHub(st storage.PageState, lastmod time.Time, run int64, items string, now time.Time, hub bool) Verdict {
	v := p.Decide(st, lastmod, run, items, now)
	if v != Stored || !hub || p.HubRefreshAfter <= 0 {
		return v
	}
	stored, err := time.Parse(storage.TimeFormat, st.StoredAt)
	if err != nil || now.Sub(stored) >= p.HubRefreshAfter {
		return Now
	}
	return v
}

// RetryWait is base doubled for each run after the first that a page
// failed in, capped at a year.
func RetryWait(base time.Duration, failRuns int) time.Duration {
	const ceiling = 365 * 24 * time.Hour
	w := base
	for i := 1; i < failRuns && w < ceiling; i++ {
		w *= 2
	}
	return min(w, ceiling)
}
