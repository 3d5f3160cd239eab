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
