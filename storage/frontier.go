package storage

import (
	"context"
	"fmt"
	"strings"
)

// PageState is what the database knows of a URL.
type PageState struct {
	Status   string
	Run      int64
	StoredAt string // when its rows were last stored; "" if never
	// FetchedAt is when it was last fetched (any outcome); HTTPStatus the
	// answer then (0: none); FailRuns the runs in a row it failed in.
	FetchedAt  string
	HTTPStatus int
	FailRuns   int
	// ItemsHash is the version of the items its rows were taken with.
	ItemsHash string
	// Hub is set for a page a follow rule marked as a hub (PendingHub):
	// it is fetched again on crawl.hub_refresh_after, for new links.
	Hub bool
}

// PageStates looks up many URLs of job at once; URLs the job has never
// seen are absent from the map.
func (s *Store) PageStates(ctx context.Context, job string, urls []string) (map[string]PageState, error) {
	out := make(map[string]PageState, len(urls))
	const chunk = 500
	for i := 0; i < len(urls); i += chunk {
		part := urls[i:min(i+chunk, len(urls))]
		args := make([]any, 0, len(part)+1)
		args = append(args, job)
		for _, u := range part {
			args = append(args, u)
		}
		q := "SELECT url, status, coalesce(run, 0), coalesce(stored_at, ''), coalesce(fetched_at, ''), coalesce(http_status, 0), fail_runs, items_hash, hub FROM gather_pages WHERE job = ? AND url IN (" +
			strings.TrimSuffix(strings.Repeat("?,", len(part)), ",") + ")"
		rows, err := s.read.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("look up pages: %w", err)
		}
		for rows.Next() {
			var u string
			var st PageState
			if err := rows.Scan(&u, &st.Status, &st.Run, &st.StoredAt, &st.FetchedAt, &st.HTTPStatus, &st.FailRuns, &st.ItemsHash, &st.Hub); err != nil {
				rows.Close()
				return nil, err
			}
			out[u] = st
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FrontierCounts says, for job, how many pages are stored (ok) from runs
// before run, and how many are pending: what a run's summary reports
// beside what it fetched.
func (s *Store) FrontierCounts(ctx context.Context, job string, run int64) (storedBefore, pending int64, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT
		coalesce(sum(status = 'ok' AND run IS NOT ?), 0), coalesce(sum(status = 'pending'), 0)
		FROM gather_pages WHERE job = ?`, run, job).Scan(&storedBefore, &pending)
	if err != nil {
		err = fmt.Errorf("count the frontier: %w", err)
	}
	return storedBefore, pending, err
}

// OlderItems counts job's stored pages whose rows were taken with items
// other than itemsHash. Pages stored before gather recorded the items'
// version are first taken to be of the current one: an upgrade must not
// re-fetch a whole crawl.
func (s *Store) OlderItems(ctx context.Context, job, itemsHash string) (int64, error) {
	if _, err := s.write.ExecContext(ctx, `UPDATE gather_pages SET items_hash = ? WHERE job = ? AND items_hash = ''`, itemsHash, job); err != nil {
		return 0, fmt.Errorf("record the items' version: %w", err)
	}
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM gather_pages WHERE job = ? AND status = 'ok' AND items_hash <> ?`, job, itemsHash).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count pages of older items: %w", err)
	}
	return n, nil
}

// DiscoveredPage is a followed link waiting in the frontier.
type DiscoveredPage struct {
	URL   string
	Depth int
}

// Refetch says which stored pages a run fetches again besides those not
// stored: pages stored before StaleBefore (a time as FormatTime writes
// it; "" none), and pages whose rows were taken with items other than
// ItemsHash ("" none).
type Refetch struct {
	StaleBefore string
	ItemsHash   string
	// HubStaleBefore fetches again the hub pages (PendingHub) stored
	// before it ("" none): their new links are how a re-run finds pages
	// added to a site.
	HubStaleBefore string
}

// UnfinishedDiscovered returns followed links (depth > 0) of job that are
// not stored, or that again says to fetch again, after the given rowid, up
// to limit; with the last rowid seen. A resumed crawl feeds them again,
// since no start list names them, and a refresh re-fetches followed pages
// as it does start pages.
func (s *Store) UnfinishedDiscovered(ctx context.Context, job string, after int64, limit int, again Refetch) ([]DiscoveredPage, int64, error) {
	// Without a refetch the partial index on unfinished pages answers;
	// with one, the scan goes by rowid, once over the run.
	cond := "status IN ('pending', 'failed')"
	var args []any
	if again.StaleBefore != "" {
		cond += " OR (status = 'ok' AND stored_at < ?)"
		args = append(args, again.StaleBefore)
	}
	if again.ItemsHash != "" {
		cond += " OR (status = 'ok' AND items_hash <> ?)"
		args = append(args, again.ItemsHash)
	}
	if again.HubStaleBefore != "" {
		cond += " OR (status = 'ok' AND hub = 1 AND stored_at < ?)"
		args = append(args, again.HubStaleBefore)
	}
	q := `SELECT rowid, url, depth FROM gather_pages
		WHERE depth > 0 AND (` + cond + `) AND job = ? AND rowid > ? ORDER BY rowid LIMIT ?`
	args = append(args, job, after, limit)
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, after, fmt.Errorf("read frontier: %w", err)
	}
	defer rows.Close()
	var out []DiscoveredPage
	last := after
	for rows.Next() {
		var d DiscoveredPage
		if err := rows.Scan(&last, &d.URL, &d.Depth); err != nil {
			return nil, after, err
		}
		out = append(out, d)
	}
	return out, last, rows.Err()
}
