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
}

// PageStates looks up many URLs at once; URLs the database has never seen
// are absent from the map.
func (s *Store) PageStates(ctx context.Context, urls []string) (map[string]PageState, error) {
	out := make(map[string]PageState, len(urls))
	const chunk = 500
	for i := 0; i < len(urls); i += chunk {
		part := urls[i:min(i+chunk, len(urls))]
		args := make([]any, len(part))
		for j, u := range part {
			args[j] = u
		}
		q := "SELECT url, status, coalesce(run, 0), coalesce(stored_at, ''), coalesce(fetched_at, ''), coalesce(http_status, 0), fail_runs FROM gather_pages WHERE url IN (" +
			strings.TrimSuffix(strings.Repeat("?,", len(part)), ",") + ")"
		rows, err := s.read.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("look up pages: %w", err)
		}
		for rows.Next() {
			var u string
			var st PageState
			if err := rows.Scan(&u, &st.Status, &st.Run, &st.StoredAt, &st.FetchedAt, &st.HTTPStatus, &st.FailRuns); err != nil {
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

// DiscoveredPage is a followed link waiting in the frontier.
type DiscoveredPage struct {
	URL   string
	Depth int
}

// UnfinishedDiscovered returns followed links (depth > 0) of job that are
// not stored — and, when staleBefore is set (a time as FormatTime writes
// it), those stored before it — after the given rowid, up to limit; with
// the last rowid seen. A resumed crawl feeds them again, since no start
// list names them, and a refresh re-fetches followed pages as it does
// start pages.
func (s *Store) UnfinishedDiscovered(ctx context.Context, job string, after int64, limit int, staleBefore string) ([]DiscoveredPage, int64, error) {
	// Without a refresh the partial index on unfinished pages answers;
	// with one, the scan goes by rowid, once over the run.
	q := `SELECT rowid, url, depth FROM gather_pages
		WHERE depth > 0 AND status IN ('pending', 'failed') AND job = ? AND rowid > ? ORDER BY rowid LIMIT ?`
	args := []any{job, after, limit}
	if staleBefore != "" {
		q = `SELECT rowid, url, depth FROM gather_pages
		WHERE depth > 0 AND (status IN ('pending', 'failed') OR (status = 'ok' AND stored_at < ?)) AND job = ? AND rowid > ? ORDER BY rowid LIMIT ?`
		args = []any{staleBefore, job, after, limit}
	}
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
