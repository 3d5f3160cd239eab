package storage

import (
	"context"
	"fmt"
)

// StoredPages returns the URLs of job's pages stored ok, after the given
// rowid, up to limit, with the last rowid seen: what a shared frontier
// that lost its data marks seen again (gather seed --resume), so that
// nothing stored is fetched again.
func (s *Store) StoredPages(ctx context.Context, job string, after int64, limit int) ([]string, int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT rowid, url FROM gather_pages
		WHERE job = ? AND status = 'ok' AND rowid > ? ORDER BY rowid LIMIT ?`, job, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("read stored pages: %w", err)
	}
	defer rows.Close()
	var out []string
	last := after
	for rows.Next() {
		var u string
		if err := rows.Scan(&last, &u); err != nil {
			return nil, after, err
		}
		out = append(out, u)
	}
	return out, last, rows.Err()
}

// KnownPage is a page of a job's frontier, with what the database knows
// of it.
type KnownPage struct {
	URL   string
	Depth int
	PageState
}

// KnownPages returns job's pages after the given rowid, up to limit, with
// the last rowid seen: a shared crawl's new run decides from them which
// pages are due again.
func (s *Store) KnownPages(ctx context.Context, job string, after int64, limit int) ([]KnownPage, int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT rowid, url, depth, status, coalesce(run, 0), coalesce(stored_at, ''),
		coalesce(fetched_at, ''), coalesce(http_status, 0), fail_runs, items_hash
		FROM gather_pages WHERE job = ? AND rowid > ? ORDER BY rowid LIMIT ?`, job, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("read the pages: %w", err)
	}
	defer rows.Close()
	var out []KnownPage
	last := after
	for rows.Next() {
		var p KnownPage
		if err := rows.Scan(&last, &p.URL, &p.Depth, &p.Status, &p.Run, &p.StoredAt, &p.FetchedAt, &p.HTTPStatus, &p.FailRuns, &p.ItemsHash); err != nil {
			return nil, after, err
		}
		out = append(out, p)
	}
	return out, last, rows.Err()
}
