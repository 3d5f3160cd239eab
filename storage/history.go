package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// runColumns are gather_runs' columns as RunInfo holds them, for scanRun.
const runColumns = `id, job, started_at, coalesce(finished_at, ''), status, pages_ok, pages_failed, pages_skipped, items,
	pages_changed, warnings, coalesce(error, '')`

func scanRun(row interface{ Scan(...any) error }) (RunInfo, error) {
	var x RunInfo
	err := row.Scan(&x.ID, &x.Job, &x.StartedAt, &x.FinishedAt, &x.Status, &x.PagesOK, &x.PagesFailed,
		&x.PagesSkipped, &x.Items, &x.PagesChanged, &x.Warnings, &x.Error)
	return x, err
}

// Runs lists the runs newest first, at most limit of them (0: all).
func (r *Reader) Runs(ctx context.Context, limit int) ([]RunInfo, error) {
	q := "SELECT " + runColumns + " FROM gather_runs ORDER BY id DESC"
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := r.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunInfo
	for rows.Next() {
		x, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// RunByID returns one run, through the read-only connection.
func (r *Reader) RunByID(ctx context.Context, id int64) (RunInfo, error) {
	return scanRun(r.db.QueryRowContext(ctx, "SELECT "+runColumns+" FROM gather_runs WHERE id = ?", id))
}

// RunPages counts the pages a run has recorded so far, by status: what a
// running run has committed, which its gather_runs row says only at the end.
func (r *Reader) RunPages(ctx context.Context, run int64) (map[string]int64, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT status, count(*) FROM gather_pages WHERE run = ? GROUP BY status", run)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// Point is one bucket of a series: a label (a time, a day, a run) and a
// count.
type Point struct {
	Label string
	N     int64
}

// RunRate counts a run's pages by the second they were fetched in, in
// time order: its pages/s over the run.
func (r *Reader) RunRate(ctx context.Context, run int64) ([]Point, error) {
	return r.points(ctx, "SELECT substr(fetched_at, 1, 19), count(*) FROM gather_pages WHERE run = ? AND fetched_at IS NOT NULL GROUP BY 1 ORDER BY 1", run)
}

// ChangesPerDay counts the changed records' rows of gather_changes by day,
// the last days days.
func (r *Reader) ChangesPerDay(ctx context.Context, days int) ([]Point, error) {
	return r.points(ctx, "SELECT * FROM (SELECT substr(changed_at, 1, 10) d, count(*) FROM gather_changes GROUP BY d ORDER BY d DESC LIMIT ?) ORDER BY d", days)
}

func (r *Reader) points(ctx context.Context, q string, args ...any) ([]Point, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var p Point
		if err := rows.Scan(&p.Label, &p.N); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// FailureFilter narrows the failures: to one run, one host (the URL's
// host, port included), both or neither.
type FailureFilter struct {
	Run  int64
	Host string
}

// FailureGroup is the failed pages sharing one reason, with a few of them.
type FailureGroup struct {
	Error    string
	Count    int64
	Examples []FailedPage
}

// FailedPage is one failed page.
type FailedPage struct {
	Job, URL   string
	HTTPStatus sql.NullInt64
	Attempts   int64
	FetchedAt  string
}

func (f FailureFilter) where() (string, []any) {
	conds := []string{"status = 'failed'"}
	var args []any
	if f.Run != 0 {
		conds = append(conds, "run = ?")
		args = append(args, f.Run)
	}
	if f.Host != "" {
		// Exactly the host: what follows "://" up to the next "/".
		conds = append(conds, "substr(url, instr(url, '://') + 3, ?) = ?")
		args = append(args, len(f.Host)+1, f.Host+"/")
	}
	return strings.Join(conds, " AND "), args
}

// Failures groups the failed pages by reason, largest group first, with
// up to examples pages of each.
func (r *Reader) Failures(ctx context.Context, f FailureFilter, examples int) ([]FailureGroup, error) {
	where, args := f.where()
	rows, err := r.db.QueryContext(ctx, `SELECT e, n, job, url, http_status, attempts, coalesce(fetched_at, '') FROM (
		SELECT coalesce(error, '') e, job, url, http_status, attempts, fetched_at,
			count(*) OVER (PARTITION BY coalesce(error, '')) n,
			row_number() OVER (PARTITION BY coalesce(error, '') ORDER BY fetched_at DESC, url) i
		FROM gather_pages WHERE `+where+`) WHERE i <= ? ORDER BY n DESC, e, i`, append(args, examples)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FailureGroup
	for rows.Next() {
		var e string
		var n int64
		var p FailedPage
		if err := rows.Scan(&e, &n, &p.Job, &p.URL, &p.HTTPStatus, &p.Attempts, &p.FetchedAt); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Error != e {
			out = append(out, FailureGroup{Error: e, Count: n})
		}
		g := &out[len(out)-1]
		g.Examples = append(g.Examples, p)
	}
	return out, rows.Err()
}

// PageRecord is a page's record in gather_pages (one per job).
type PageRecord struct {
	Job, URL, Status       string
	HTTPStatus             sql.NullInt64
	Attempts, FailRuns     int64
	Error, FetchedAt       string
	Run                    sql.NullInt64
	Bytes                  sql.NullInt64
	ChangedAt, StoredAt    string
	Depth                  int64
	Warnings, FetchedBy    string
	ContentHash, ItemsHash string
}

// PageChange is one row of gather_changes.
type PageChange struct {
	Run                      int64
	Item, ChangedAt, Detail  string
	Added, Removed, Modified int64
	// URL is the page's, in a run's list of changes (RunChanges).
	URL string
	// Parsed is Detail read (ParseChangeDetail); Diff is set when it could
	// be, for a page to show the fields that changed, old and new.
	Parsed ChangeDetail
	Diff   bool
}

// PageHistory returns url's records (one per job that has it) and its
// changes, newest first.
func (r *Reader) PageHistory(ctx context.Context, url string) ([]PageRecord, []PageChange, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT job, url, status, http_status, attempts, fail_runs, coalesce(error, ''),
		coalesce(fetched_at, ''), run, bytes, coalesce(changed_at, ''), coalesce(stored_at, ''), depth, coalesce(warnings, ''),
		coalesce(fetched_by, ''), coalesce(content_hash, ''), items_hash FROM gather_pages WHERE url = ? ORDER BY job`, url)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var recs []PageRecord
	for rows.Next() {
		var p PageRecord
		if err := rows.Scan(&p.Job, &p.URL, &p.Status, &p.HTTPStatus, &p.Attempts, &p.FailRuns, &p.Error, &p.FetchedAt,
			&p.Run, &p.Bytes, &p.ChangedAt, &p.StoredAt, &p.Depth, &p.Warnings, &p.FetchedBy, &p.ContentHash, &p.ItemsHash); err != nil {
			return nil, nil, err
		}
		recs = append(recs, p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	crows, err := r.db.QueryContext(ctx, `SELECT run, item, changed_at, added, removed, modified, coalesce(detail, '')
		FROM gather_changes WHERE url = ? ORDER BY changed_at DESC, item`, url)
	if err != nil {
		return nil, nil, err
	}
	defer crows.Close()
	var changes []PageChange
	for crows.Next() {
		var c PageChange
		if err := crows.Scan(&c.Run, &c.Item, &c.ChangedAt, &c.Added, &c.Removed, &c.Modified, &c.Detail); err != nil {
			return nil, nil, err
		}
		c.URL = url
		c.Parsed, c.Diff = ParseChangeDetail(c.Detail)
		changes = append(changes, c)
	}
	return recs, changes, crows.Err()
}
