package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// progressSchema holds each running run's last progress snapshot, written
// by its crawl every few seconds: what a `gather serve` in another process
// shows of a crawl it cannot ask (queued pages, ETA, per-host in flight),
// which the committed pages alone do not tell. A table of its own rather
// than columns of gather_runs, so that a read-only reader of a database
// an older gather made finds it missing and does without.
const progressSchema = `
CREATE TABLE IF NOT EXISTS gather_progress (
  run INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  stats TEXT NOT NULL
);
`

// SaveProgress records run's progress snapshot (the crawler's stats as
// JSON), taken at at, in place of the last one.
func (s *Store) SaveProgress(ctx context.Context, run int64, stats []byte, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO gather_progress (run, at, stats) VALUES (?, ?, ?)
		ON CONFLICT (run) DO UPDATE SET at = excluded.at, stats = excluded.stats`, run, FormatTime(at), string(stats))
	if err != nil {
		return fmt.Errorf("record run progress: %w", err)
	}
	return nil
}

// dropProgress forgets run's snapshot once the run has ended.
func (s *Store) dropProgress(ctx context.Context, run int64) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM gather_progress WHERE run = ?`, run); err != nil {
		return fmt.Errorf("drop run progress: %w", err)
	}
	return nil
}

// Progress returns run's last progress snapshot and when it was taken;
// ok is false when there is none (a run of gather serve's own process, a
// shared crawl, or a database no gather with snapshots has opened).
func (r *Reader) Progress(ctx context.Context, run int64) (stats []byte, at time.Time, ok bool, err error) {
	var s, a string
	err = r.db.QueryRowContext(ctx, `SELECT stats, at FROM gather_progress WHERE run = ?`, run).Scan(&s, &a)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, time.Time{}, false, nil
	case err != nil && strings.Contains(err.Error(), "no such table"):
		return nil, time.Time{}, false, nil
	case err != nil:
		return nil, time.Time{}, false, err
	}
	t, err := time.Parse(TimeFormat, a)
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("run %d progress taken at %q: %w", run, a, err)
	}
	return []byte(s), t, true, nil
}
