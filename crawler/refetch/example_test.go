package refetch_test

import (
	"fmt"
	"time"

	"github.com/gather-crawler/gather/crawler/refetch"
	"github.com/gather-crawler/gather/storage"
)

// A page stored two days ago is stale under a one-day refresh_after; a
// page that failed twice waits out a doubled back-off.
func ExamplePolicy_Decide() {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	p := refetch.Policy{RefreshAfter: 24 * time.Hour, RetryFailedAfter: time.Hour, RetryFailedRuns: 5}
	stored := storage.PageState{Status: storage.PageOK, StoredAt: storage.FormatTime(now.Add(-48 * time.Hour))}
	failed := storage.PageState{Status: storage.PageFailed, FetchedAt: storage.FormatTime(now.Add(-90 * time.Minute)), FailRuns: 2}
	fmt.Println(p.Decide(stored, time.Time{}, 0, "", now) == refetch.Now)
	fmt.Println(p.Decide(failed, time.Time{}, 0, "", now) == refetch.Waiting, refetch.RetryWait(time.Hour, 2))
	// Output:
	// true
	// true 2h0m0s
}
