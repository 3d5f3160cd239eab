package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// A late outcome is a page's outcome that came after its run had its
// page already: in a shared crawl, a worker stalled past its lease (or
// past the end of the run) while another worker's fetch of the same page
// was stored. It is not a new page of any run, so it is never counted;
// it only brings the page's record up to date when it is newer:
//
//   - a page with no outcome recorded (unknown, or pending) takes it, in
//     the writer's run;
//   - a page with an outcome takes a late ok one fetched after it, and
//     stays in the run it was recorded in (whose counts are read again
//     when the page's status changed: failed before, ok now);
//   - anything else (older, or a late failure over a recorded outcome,
//     which would count a page's failure twice) is left out.

// PendingLink is a followed link of a late outcome, recorded pending with
// it when it lands.
type PendingLink struct {
	URL   string
	Depth int
}

// PutLate queues a late outcome and the links it found: it is stored
// only as the rules above say.
func (w *Writer) PutLate(ctx context.Context, p Page, links []PendingLink) error {
	return w.put(ctx, p, op{late: true, lateLinks: links})
}

// LateCounts are the late outcomes committed: landed (stored) and stale
// (left out).
func (w *Writer) LateCounts() (landed, stale int64) {
	return w.lateLanded.Load(), w.lateStale.Load()
}

// addLate writes a late outcome into the batch, if it lands.
func (w *Writer) addLate(b *batch, o op) {
	p := o.page
	var status, fetched string
	var run int64
	err := b.tx.QueryRow(`SELECT status, coalesce(run, 0), coalesce(fetched_at, '') FROM gather_pages WHERE job = ? AND url = ?`,
		w.opts.Job, p.URL).Scan(&status, &run, &fetched)
	known := err == nil && status != PagePending
	switch {
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		b.err = fmt.Errorf("store the late outcome of %s: %w", p.URL, err)
		return
	case !known:
	case p.Status == PageOK && FormatTime(p.FetchedAt) > fetched:
		if run != 0 {
			p.run = run
		}
	default:
		b.lateStale++
		return
	}
	for _, l := range o.lateLinks {
		if _, err := b.tx.Stmt(w.stmts.pending).Exec(l.URL, w.opts.Run, w.opts.Job, l.Depth); err != nil {
			b.err = fmt.Errorf("mark %s pending: %w", l.URL, err)
			return
		}
	}
	if _, err := w.writePage(b.tx, b.conn, p); err != nil {
		b.err = fmt.Errorf("store the late outcome of %s: %w", p.URL, err)
		return
	}
	b.lateLanded++
	if known && status != p.Status && run != 0 && run != w.opts.Run {
		// The page changed status in a run that is over: its record
		// counts its pages as they stand.
		if _, err := b.tx.Exec(`UPDATE gather_runs SET
			pages_ok = (SELECT count(*) FROM gather_pages p WHERE p.job = gather_runs.job AND p.run = gather_runs.id AND p.status = 'ok'),
			pages_failed = (SELECT count(*) FROM gather_pages p WHERE p.job = gather_runs.job AND p.run = gather_runs.id AND p.status = 'failed'),
			pages_skipped = (SELECT count(*) FROM gather_pages p WHERE p.job = gather_runs.job AND p.run = gather_runs.id AND p.status = 'skipped')
			WHERE id = ? AND status <> ?`, run, RunRunning); err != nil {
			b.err = fmt.Errorf("count the pages of run %d again: %w", run, err)
		}
	}
}
