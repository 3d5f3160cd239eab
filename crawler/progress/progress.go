// Package progress is a running crawl's progress: the snapshot the crawler
// takes of its counters, which the terminal's progress line and `gather
// serve` show, and which a local run stores in gather_progress every few
// seconds for readers in other processes. It imports nothing of gather's,
// so a reader of progress links neither colly, nor a browser, nor viper.
package progress

import "time"

// Version is the format of a stored Snapshot. A reader skips a snapshot of
// another version: snapshots live seconds (a run deletes its own at its
// end), so the next one a newer crawler writes is never far.
const Version = 1

// Snapshot is a crawl's progress at one moment. Its JSON form is the
// stored one: field names are part of the format.
type Snapshot struct {
	// Version is the format's (Version) when stored; zero in memory.
	Version int `json:"version,omitempty"`
	// Total is the pages this run has to deal with: the start pages (-1
	// until counted) plus the followed links found so far, so it grows on
	// a follow crawl.
	Total int64 `json:"total"`
	// Done counts pages dealt with in any way: fetched (ok, failed,
	// skipped), already stored, or failed before and not due yet.
	Done     int64 `json:"done"`
	OK       int64 `json:"ok"`
	Failed   int64 `json:"failed"`
	Skipped  int64 `json:"skipped"`
	Already  int64 `json:"already"`
	Deferred int64 `json:"deferred"` // failed before; not due for a retry (or given up on)
	Items    int64 `json:"items"`
	// InFlight counts requests on the wire; InFlightHosts splits it by
	// host when more than one host has some.
	InFlight      int64            `json:"in_flight"`
	InFlightHosts map[string]int64 `json:"in_flight_hosts,omitempty"`
	Discovered    int64            `json:"discovered"`
	Retries       int64            `json:"retries"`
	Bytes         int64            `json:"bytes"`
	Elapsed       time.Duration    `json:"elapsed_ns"`
}

// Queued is how many pages of Total are still to be dealt with (0 while
// the total is unknown).
func (s Snapshot) Queued() int64 {
	if s.Total < 0 || s.Done >= s.Total {
		return 0
	}
	return s.Total - s.Done
}
