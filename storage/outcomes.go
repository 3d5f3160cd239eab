package storage

import (
	"context"
	"database/sql"
	"strings"
)

// outcomeSchema keeps a page's history beyond its current record: each
// failure, and each move to another status (a recovery after failures, a
// page robots.txt now forbids). A page that is fetched ok run after run
// adds nothing (its current record and gather_changes tell that), so the
// table grows with what went wrong, which the retry back-off and
// retry_failed_runs bound, not with the number of runs.
const outcomeSchema = `
CREATE TABLE IF NOT EXISTS gather_outcomes (
  job TEXT NOT NULL,
  url TEXT NOT NULL,
  run INTEGER,
  status TEXT NOT NULL,
  http_status INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  fetched_at TEXT NOT NULL,
  fetched_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS gather_outcomes_page ON gather_outcomes (url, job);
`

// recordOutcome says whether a page's outcome goes into gather_outcomes,
// given the status its record had before (sql.NullString: none).
func recordOutcome(status string, prev sql.NullString) bool {
	switch status {
	case PageFailed:
		return true
	case PageOK:
		return prev.String == PageFailed || prev.String == PageSkipped
	default:
		return prev.String != status
	}
}

// PageOutcome is one entry of a page's history: how one fetch of it ended.
type PageOutcome struct {
	Job        string
	Run        sql.NullInt64
	Status     string
	HTTPStatus sql.NullInt64
	Attempts   int64
	Error      string
	FetchedAt  string
	FetchedBy  string
}

// PageOutcomes returns url's history in every job, newest first: its
// failures and its moves between statuses (see outcomeSchema). A database
// no gather with this history has opened has none.
func (r *Reader) PageOutcomes(ctx context.Context, url string) ([]PageOutcome, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT job, run, status, http_status, attempts, coalesce(error, ''), fetched_at, fetched_by
		FROM gather_outcomes WHERE url = ? ORDER BY fetched_at DESC, rowid DESC LIMIT 1000`, url)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, nil
		}
		return nil, err
	}
	defer rows.Close()
	var out []PageOutcome
	for rows.Next() {
		var o PageOutcome
		if err := rows.Scan(&o.Job, &o.Run, &o.Status, &o.HTTPStatus, &o.Attempts, &o.Error, &o.FetchedAt, &o.FetchedBy); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
