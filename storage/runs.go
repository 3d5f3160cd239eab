package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Run statuses.
const (
	RunRunning     = "running"
	RunFinished    = "finished"
	RunInterrupted = "interrupted"
	RunFailed      = "failed"
)

// RunCounts are a run's totals, as committed.
type RunCounts struct {
	PagesOK      int64
	PagesFailed  int64
	PagesSkipped int64
	Items        int64
	PagesChanged int64
	// Discovered counts followed links that entered the frontier.
	Discovered int64
	// Warnings counts the run's end-of-run warnings (set by the crawler,
	// not the writer).
	Warnings int64
	// BrowserPages counts pages loaded in Chromium, Challenges the
	// JavaScript challenges solved (set by the crawler).
	BrowserPages, Challenges int64
	// Archived counts the exchanges the run wrote to the archive and
	// ArchiveBytes their size on disk (set by the crawler). A sink's run
	// counts the responses its workers archived and it indexed, and the
	// size of those response records alone.
	Archived, ArchiveBytes int64
}

// RunInfo is one row of gather_runs.
type RunInfo struct {
	ID         int64
	Job        string
	StartedAt  string
	FinishedAt string
	Status     string
	RunCounts
	Error string
}

// StartRun records a new run of job as running and returns its id.
func (s *Store) StartRun(ctx context.Context, job string, at time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `INSERT INTO gather_runs (job, started_at, status) VALUES (?, ?, ?)`, job, FormatTime(at), RunRunning)
	if err != nil {
		return 0, fmt.Errorf("record run start: %w", err)
	}
	return res.LastInsertId()
}

// FinishRun records a run's final status and counts.
func (s *Store) FinishRun(ctx context.Context, id int64, status string, c RunCounts, at time.Time, runErr string) error {
	_, err := s.write.ExecContext(ctx, `UPDATE gather_runs SET finished_at = ?, status = ?, pages_ok = ?, pages_failed = ?,
		pages_skipped = ?, items = ?, pages_changed = ?, warnings = ?, browser_pages = ?, challenges = ?, archived = ?, archive_bytes = ?, error = ? WHERE id = ?`,
		FormatTime(at), status, c.PagesOK, c.PagesFailed, c.PagesSkipped, c.Items, c.PagesChanged, c.Warnings,
		c.BrowserPages, c.Challenges, c.Archived, c.ArchiveBytes, nullString(runErr), id)
	if err != nil {
		return fmt.Errorf("record run end: %w", err)
	}
	s.endFlight(id)
	return s.dropProgress(ctx, id)
}

// Run returns one run.
func (s *Store) Run(ctx context.Context, id int64) (RunInfo, error) {
	var r RunInfo
	var fin, errText sql.NullString
	err := s.read.QueryRowContext(ctx, `SELECT id, job, started_at, finished_at, status, pages_ok, pages_failed, pages_skipped, items, pages_changed, warnings,
		browser_pages, challenges, archived, archive_bytes, error FROM gather_runs WHERE id = ?`, id).Scan(&r.ID, &r.Job, &r.StartedAt, &fin, &r.Status, &r.PagesOK,
		&r.PagesFailed, &r.PagesSkipped, &r.Items, &r.PagesChanged, &r.Warnings, &r.BrowserPages, &r.Challenges, &r.Archived, &r.ArchiveBytes, &errText)
	r.FinishedAt, r.Error = fin.String, errText.String
	return r, err
}

// MarkAbandonedRuns marks runs of job still recorded as running as
// interrupted: called by the lease holder, no other run of the job can be
// alive, so these are runs whose process died. It then records the pages
// those processes were extracting when they died, and finds the pages
// quarantined for it (see poison.go).
func (s *Store) MarkAbandonedRuns(ctx context.Context, job string) (int64, error) {
	// finished_at stays empty: when the process died is not known.
	// Its counts are what it committed, read back from the pages it
	// recorded: the run could not write them itself.
	res, err := s.write.ExecContext(ctx, `UPDATE gather_runs SET status = ?, error = coalesce(error, 'the process ended without finishing the run'),
		pages_ok = (SELECT count(*) FROM gather_pages p WHERE p.job = gather_runs.job AND p.run = gather_runs.id AND p.status = 'ok'),
		pages_failed = (SELECT count(*) FROM gather_pages p WHERE p.job = gather_runs.job AND p.run = gather_runs.id AND p.status = 'failed'),
		pages_skipped = (SELECT count(*) FROM gather_pages p WHERE p.job = gather_runs.job AND p.run = gather_runs.id AND p.status = 'skipped')
		WHERE job = ? AND status = ?`, RunInterrupted, job, RunRunning)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	// Their last snapshots would show a dead crawl as still going.
	if _, err := s.write.ExecContext(ctx, `DELETE FROM gather_progress WHERE run IN (SELECT id FROM gather_runs WHERE job = ? AND status = ?)`,
		job, RunInterrupted); err != nil {
		return n, fmt.Errorf("drop the progress of abandoned runs: %w", err)
	}
	return n, s.recordCrashes(ctx, job)
}

// RunHistory lists the runs newest first, as gather runs shows them, at
// most limit of them (0: all).
func (r *Reader) RunHistory(ctx context.Context, limit int) (*sql.Rows, error) {
	// A database no gather with an archive has opened has no archive
	// columns; the reader cannot add them.
	archived := "archived, archive_bytes"
	var n int
	if err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('gather_runs') WHERE name = 'archive_bytes'`).Scan(&n); err != nil {
		return nil, r.Explain(ctx, err)
	}
	if n == 0 {
		archived = "0 AS archived, 0 AS archive_bytes"
	}
	q := `SELECT id, job, started_at AS started, finished_at AS finished,
		CASE WHEN finished_at IS NULL THEN NULL
		     ELSE round((julianday(finished_at) - julianday(started_at)) * 86400, 1) END AS seconds,
		status, pages_ok AS ok, pages_failed AS failed, pages_skipped AS skipped, items, pages_changed AS changed, warnings,
		browser_pages AS browser, challenges, ` + archived + `
		FROM gather_runs ORDER BY id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := r.db.QueryContext(ctx, q)
	if err != nil {
		return nil, r.Explain(ctx, err)
	}
	return rows, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
