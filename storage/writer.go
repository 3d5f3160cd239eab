package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Page statuses in gather_pages.
const (
	PagePending = "pending"
	PageOK      = "ok"
	PageFailed  = "failed"
	PageSkipped = "skipped"
)

// Page is the outcome of one page, written with its rows in one transaction.
type Page struct {
	URL        string
	Status     string // PageOK, PageFailed or PageSkipped
	HTTPStatus int
	Attempts   int
	Error      string
	Warnings   []string
	Bytes      int64
	FetchedAt  time.Time
	Depth      int
	// FetchedBy says how the page was fetched: "http", "browser" or
	// "http+cookie" (HTTP with the cookies of a solved challenge), or
	// "archive" when it was extracted again from its archived response.
	FetchedBy string
	// Archive, when set, is where the response lies in the archive; it is
	// indexed with the page, in the same transaction.
	Archive *ArchiveRef
	// Items holds the rows of each item table, for ok pages. The page's
	// earlier rows in every table are replaced by these.
	Items []ItemRows

	// Worked out by Put, on the caller's goroutine, to keep the single
	// writer's work to SQL.
	hash    string
	rowKeys []byte
	// run, when set, is the run the page is recorded in instead of the
	// writer's (a late outcome, late.go).
	run int64
}

// ItemRows are the rows one item took from a page.
type ItemRows struct {
	Table string
	Rows  []Row
}

// Row is one record: values in the table's column order, and the position
// of its element for tables with `each`.
type Row struct {
	Values []any
	Index  int
}

// WriterOptions tune a Writer.
type WriterOptions struct {
	Run int64
	Job string
	// BatchOps and BatchDelay bound a transaction: it commits when it
	// holds this many operations (page outcomes and pending marks) or this
	// long after its first, whichever comes first. Defaults: 256, 100ms.
	BatchOps   int
	BatchDelay time.Duration
	// BatchRows commits early when a transaction holds this many rows
	// (default 50,000), which bounds it, and the WAL, when pages are large.
	BatchRows int
	// OnCommit, if set, is called on the writer goroutine with the URLs of
	// the pages (not pending marks) each transaction committed.
	OnCommit func(urls []string)
	// BeforeCommit, if set, is called on the writer goroutine before each
	// transaction commits; an error rolls it back and stops the writer.
	// The archive syncs its files here, so that no committed row points
	// at bytes a power cut could take back.
	BeforeCommit func() error
	// WALLimit bounds the write-ahead log, in bytes (default 32 MiB):
	// when a commit leaves the -wal file at least this large, the writer
	// checkpoints and truncates it before its next transaction, so the
	// WAL peaks at about the limit plus one transaction. A reader holding
	// an older snapshot can stop that; the writer then tries again later.
	WALLimit int64
	// Logger hears of trouble that does not stop the writer, such as a
	// failed background checkpoint.
	Logger *slog.Logger
	// ItemsHash identifies the version of the items an ok page's rows were
	// taken with (config.ItemsHash): pages stored under another are due
	// again.
	ItemsHash string
}

// DefaultWALLimit is WriterOptions.WALLimit's default: with a transaction
// on top, the WAL stays under 64 MB.
const DefaultWALLimit = 32 << 20

// walWait is how long the writer's bounding checkpoint waits for readers
// of older snapshots (the frontier lookups of the crawl itself, a `gather
// query`) to finish; the crawl's writes wait as long. Lookups take
// milliseconds; a reader running statements back to back is waited out in
// the time of one or two of its statements.
const walWait = 500 * time.Millisecond

// walRetryWait is how long the retries wait once a checkpoint has found a
// reader that outlasted walWait, which is likely still there: each wait
// stops the crawl's writes, and at 500 ms a long `gather query` cost the
// soak 14% of its time.
const walRetryWait = 100 * time.Millisecond

// walRetryMax caps the pause between bounding checkpoints while a reader
// keeps them from finishing: once the reader has gone, the WAL grows for
// at most this long more, and a reader that never goes (statements back to
// back, each long) costs the crawl walRetryWait in every walRetryMax.
const walRetryMax = 4 * time.Second

// Writer is the single goroutine that writes to the database. Put and
// Pending hand it work through a bounded queue, so a slow disk slows the
// crawl down instead of growing memory.
type Writer struct {
	s    *Store
	opts WriterOptions
	ch   chan op
	done chan struct{}

	mu     sync.Mutex
	err    error // first write failure; the writer stops writing after it
	closed bool

	ok, failed, skipped, items, changed atomic.Int64
	discovered                          atomic.Int64
	// lateLanded and lateStale count the late outcomes stored and those
	// left out as older than the record (late.go).
	lateLanded, lateStale atomic.Int64
	// archived and archiveBytes count the archived responses indexed:
	// what a sink's run reports of its workers' archives.
	archived, archiveBytes atomic.Int64

	// upsertReplaces: no item table has a column its item no longer
	// fills (replace.go).
	upsertReplaces bool

	stmts writerStmts
	ins   rowInserter

	// The checkpointer copies the WAL into the database file from its own
	// connection, on the other core, instead of inside the writer's commits:
	// that measured 30% more rows/s.
	ckpt     *sql.DB
	ckptStop chan struct{}
	ckptDone chan struct{}
	// ckptMu keeps the checkpointer and the writer's own checkpoints
	// apart: SQLite answers a checkpoint begun during another one with
	// SQLITE_BUSY at once, without waiting.
	ckptMu sync.Mutex

	// Written by the writer goroutine only.
	walRetryAt time.Time     // no bounding checkpoint before, after one failed
	walBackoff time.Duration // the pause after the next failure
	walStats   walCounters
}

// walCounters count the writer's bounding checkpoints.
type walCounters struct {
	truncated, busy atomic.Int64
	waited          atomic.Int64 // nanoseconds the writer spent in them
}

// WALStats say how the writer kept the WAL bounded.
type WALStats struct {
	// Truncated counts checkpoints that emptied the WAL; Busy those that
	// could not, because a reader held an older snapshot.
	Truncated, Busy int64
	// Waited is the time the writer spent in them, not writing.
	Waited time.Duration
}

// WALStats reports the bounding checkpoints so far.
func (w *Writer) WALStats() WALStats {
	return WALStats{Truncated: w.walStats.truncated.Load(), Busy: w.walStats.busy.Load(),
		Waited: time.Duration(w.walStats.waited.Load())}
}

type op struct {
	pending bool
	hub     bool // with pending: the page is a hub (PendingHub)
	url     string
	depth   int
	page    *Page
	flushed chan struct{} // a Flush barrier: closed once all before it is committed
	// late marks a late outcome (PutLate), with the links it found.
	late      bool
	lateLinks []PendingLink
}

// ErrWriterClosed is returned by Put after Close.
var ErrWriterClosed = errors.New("writer closed")

// NewWriter starts the writer goroutine for one run. Close it to flush.
func (s *Store) NewWriter(opts WriterOptions) (*Writer, error) {
	if opts.BatchOps <= 0 {
		opts.BatchOps = 256
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BatchDelay <= 0 {
		opts.BatchDelay = 100 * time.Millisecond
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = 50000
	}
	if opts.WALLimit <= 0 {
		opts.WALLimit = DefaultWALLimit
	}
	w := &Writer{s: s, opts: opts, ch: make(chan op, 2*opts.BatchOps), done: make(chan struct{}),
		ckptStop: make(chan struct{}), ckptDone: make(chan struct{})}
	w.ins.s = s
	var err error
	if w.upsertReplaces, err = s.whollyFilled(context.Background()); err != nil {
		return nil, err
	}
	if err := w.prepare(); err != nil {
		return nil, err
	}
	ckpt, err := sql.Open("sqlite3", dsn(s.path, busyWait, ""))
	if err != nil {
		w.stmts.close()
		return nil, err
	}
	ckpt.SetMaxOpenConns(1)
	if _, err := s.write.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
		ckpt.Close()
		w.stmts.close()
		return nil, fmt.Errorf("hand checkpoints to the checkpointer: %w", err)
	}
	// The log also starts over without the writer asking, at a transaction
	// that finds it all copied and unread; this trims the file then too.
	if _, err := s.write.Exec(fmt.Sprintf("PRAGMA journal_size_limit = %d", opts.WALLimit)); err != nil {
		ckpt.Close()
		w.stmts.close()
		return nil, fmt.Errorf("limit the WAL: %w", err)
	}
	w.ckpt = ckpt
	go w.loop()
	go w.checkpointer()
	return w, nil
}

// checkpointer runs passive checkpoints, which never block the writer or
// readers, until Close. They copy the WAL into the database file as the
// crawl goes, but they do not make the log start over: SQLite restarts it
// only at a write transaction that begins with every frame copied and no
// reader in the log, and the writer begins its next transaction as soon
// as one commits, before a checkpoint can have caught up. So the WAL grew
// by every page written, for the whole run; boundWAL restarts it. A failed
// checkpoint loses nothing (the pages stay in the WAL for the next one),
// so it is logged, once per kind of failure in a row, rather than
// stopping the crawl.
func (w *Writer) checkpointer() {
	defer close(w.ckptDone)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var last string
	for {
		select {
		case <-w.ckptStop:
			return
		case <-t.C:
			w.ckptMu.Lock()
			_, err := w.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			w.ckptMu.Unlock()
			switch {
			case err == nil:
				last = ""
			case err.Error() != last:
				last = err.Error()
				w.opts.Logger.Warn("WAL checkpoint failed; the WAL grows until one succeeds", "database", w.s.path, "error", err)
			}
		}
	}
}

// Pending marks url as about to be fetched, unless it is already stored,
// so that a crash leaves a record of the frontier.
func (w *Writer) Pending(ctx context.Context, url string, depth int) error {
	return w.send(ctx, op{pending: true, url: url, depth: depth})
}

// PendingHub is Pending for a hub page, one a follow rule with hub: true
// selected: it is marked so, and a later run fetches it again on
// crawl.hub_refresh_after to find new links.
func (w *Writer) PendingHub(ctx context.Context, url string, depth int) error {
	return w.send(ctx, op{pending: true, hub: true, url: url, depth: depth})
}

// Flush returns once everything queued before it is committed (or the
// writer has failed, which it then returns).
func (w *Writer) Flush(ctx context.Context) error {
	ch := make(chan struct{})
	if err := w.send(ctx, op{flushed: ch}); err != nil {
		return err
	}
	select {
	case <-ch:
		return w.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Put queues a page's outcome. It blocks while the queue is full and
// returns the writer's error once a transaction has failed.
func (w *Writer) Put(ctx context.Context, p Page) error {
	return w.put(ctx, p, op{})
}

// put is Put, with o's flags (a late outcome's).
func (w *Writer) put(ctx context.Context, p Page, o op) error {
	items := make([]ItemRows, len(p.Items))
	for i, it := range p.Items {
		t, ok := w.s.tables[it.Table]
		if !ok {
			return fmt.Errorf("put %s: no table %s", p.URL, it.Table)
		}
		items[i] = ItemRows{Table: it.Table, Rows: lastPerKey(t, it.Rows)}
	}
	p.Items = items
	if p.Status == PageOK {
		p.hash = contentHash(p.Items)
		p.rowKeys = encodeRowKeys(w.s.tables, p.Items)
		for i, it := range p.Items {
			p.Items[i].Rows = sortedByKey(w.s.tables[it.Table], it.Rows)
		}
	}
	o.page, o.url = &p, p.URL
	return w.send(ctx, o)
}

// runOf is the run p is recorded in.
func (w *Writer) runOf(p *Page) int64 {
	if p.run != 0 {
		return p.run
	}
	return w.opts.Run
}

func (w *Writer) send(ctx context.Context, o op) error {
	w.mu.Lock()
	err, closed := w.err, w.closed
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if closed {
		return ErrWriterClosed
	}
	select {
	case w.ch <- o:
		return nil
	case <-w.done:
		return w.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Err returns the first write failure, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close commits what is queued, stops the goroutine and returns the first
// write failure. Callers must not Put concurrently with Close.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	w.mu.Unlock()
	<-w.done
	w.stmts.close()
	errIns := w.ins.close(w.s.write)
	close(w.ckptStop)
	<-w.ckptDone
	w.ckpt.Close()
	// Empty the WAL now, so that it does not keep its size between runs,
	// and back to SQLite's own checkpoints.
	if busy, err := w.s.truncateWAL(closeWait); err != nil {
		w.opts.Logger.Warn("WAL checkpoint failed; the WAL keeps its size until one succeeds", "database", w.s.path, "error", err)
	} else if busy {
		w.opts.Logger.Info("the WAL could not be emptied at the end of the run: a reader holds an older snapshot; the next run empties it", "database", w.s.path)
	}
	_, err2 := w.s.write.Exec("PRAGMA wal_autocheckpoint = 1000")
	st := w.WALStats()
	w.opts.Logger.Debug("WAL checkpoints", "truncated", st.Truncated, "busy", st.Busy, "waited", st.Waited)
	if err := w.Err(); err != nil {
		return err
	}
	return errors.Join(errIns, err2)
}

// closeWait is how long emptying the WAL at the end of a run waits for
// readers.
const closeWait = time.Second

// boundWAL runs between the writer's transactions: once the -wal file has
// reached the limit it checkpoints and truncates it, waiting up to walWait
// for readers of older snapshots. While a reader keeps that from
// succeeding (a long `gather query`), the writer tries again, waiting
// walRetryWait, after a pause that doubles up to walRetryMax, so that such
// a reader costs the crawl a little time rather than a wait at every
// commit.
func (w *Writer) boundWAL() {
	if time.Now().Before(w.walRetryAt) {
		return
	}
	st, err := os.Stat(w.s.path + "-wal")
	if err != nil || st.Size() < w.opts.WALLimit {
		return
	}
	start := time.Now()
	w.ckptMu.Lock()
	wait := walWait
	if w.walBackoff > 0 {
		wait = walRetryWait
	}
	busy, err := w.s.truncateWAL(wait)
	w.ckptMu.Unlock()
	w.walStats.waited.Add(int64(time.Since(start)))
	if err == nil && !busy {
		w.walStats.truncated.Add(1)
		w.walBackoff = 0
		return
	}
	if busy {
		w.walStats.busy.Add(1)
	}
	// Said once per streak: the retries that follow would only repeat it.
	switch {
	case w.walBackoff > 0:
	case err != nil:
		w.opts.Logger.Warn("WAL checkpoint failed; the WAL grows until one succeeds", "database", w.s.path, "error", err)
	default:
		w.opts.Logger.Warn("the WAL cannot be emptied while a reader holds an older snapshot (a long query?); it grows until the reader finishes",
			"database", w.s.path, "wal_bytes", st.Size())
	}
	w.walBackoff = min(max(2*w.walBackoff, 250*time.Millisecond), walRetryMax)
	w.walRetryAt = time.Now().Add(w.walBackoff)
}

// Counts are the run's totals as committed so far.
func (w *Writer) Counts() RunCounts {
	return RunCounts{PagesOK: w.ok.Load(), PagesFailed: w.failed.Load(), PagesSkipped: w.skipped.Load(),
		Items: w.items.Load(), PagesChanged: w.changed.Load(), Discovered: w.discovered.Load(),
		Archived: w.archived.Load(), ArchiveBytes: w.archiveBytes.Load()}
}

func (w *Writer) writePage(tx *sql.Tx, conn *sql.Conn, p *Page) (changed bool, err error) {
	fetched := FormatTime(p.FetchedAt)
	warnings := nullString(strings.Join(p.Warnings, "\n"))
	switch p.Status {
	case PageOK:
		hash := p.hash
		var prev, prevStatus sql.NullString
		var prevKeys []byte
		if err := tx.Stmt(w.stmts.prevHash).QueryRow(w.opts.Job, p.URL).Scan(&prev, &prevKeys, &prevStatus); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
		if err := w.outcome(tx, p, fetched, prevStatus); err != nil {
			return false, err
		}
		// oldKeys are the keys of the rows this page stored last time (none
		// when row_keys is empty: the page produced no rows).
		var oldKeys map[string][][]any
		if prev.Valid && len(prevKeys) > 0 {
			if oldKeys, err = decodeRowKeys(prevKeys); err != nil {
				return false, fmt.Errorf("read the rows %s stored before: %w", p.URL, err)
			}
		}
		changed = prev.Valid && prev.String != hash
		if changed {
			changes, err := w.diffPage(tx, p, oldKeys)
			if err != nil {
				return false, err
			}
			for _, c := range changes {
				if _, err := tx.Stmt(w.stmts.change).Exec(p.URL, w.runOf(p), c.item, fetched,
					len(c.added), len(c.removed), len(c.modified), changeDetail(c)); err != nil {
					return false, fmt.Errorf("record change: %w", err)
				}
			}
		}
		// Only a page stored before (it has a hash) can have rows to replace.
		if prev.Valid && !w.sameKeysReplace(p, prevKeys) {
			if err := w.deleteOldRows(tx, p.URL, oldKeys); err != nil {
				return false, err
			}
		}
		if err := w.ins.insert(conn, p.URL, fetched, w.runOf(p), p.Items); err != nil {
			return false, err
		}
		changedAt := any(nil)
		if changed {
			changedAt = fetched
		}
		_, err = tx.Stmt(w.stmts.pageOK).Exec(p.URL, PageOK, nullInt(p.HTTPStatus), p.Attempts, nullString(p.Error),
			fetched, w.runOf(p), p.Bytes, hash, changedAt, w.opts.Job, p.Depth, warnings, fetched, p.rowKeys, w.opts.ItemsHash, p.FetchedBy)
	default:
		var prevStatus sql.NullString
		if p.Status != PageFailed {
			if err := tx.Stmt(w.stmts.prevStatus).QueryRow(w.opts.Job, p.URL).Scan(&prevStatus); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return false, err
			}
		}
		if err := w.outcome(tx, p, fetched, prevStatus); err != nil {
			return false, err
		}
		_, err = tx.Stmt(w.stmts.pageFail).Exec(p.URL, p.Status, nullInt(p.HTTPStatus), p.Attempts, nullString(p.Error),
			fetched, w.runOf(p), p.Bytes, w.opts.Job, p.Depth, warnings, p.FetchedBy)
	}
	if err == nil {
		err = w.indexArchive(tx, p, fetched)
	}
	return changed, err
}

// outcome adds p's outcome to the page's history when it is one that
// history keeps (recordOutcome), prev being the status its record had.
func (w *Writer) outcome(tx *sql.Tx, p *Page, fetched string, prev sql.NullString) error {
	if !recordOutcome(p.Status, prev) {
		return nil
	}
	if _, err := tx.Stmt(w.stmts.outcome).Exec(w.opts.Job, p.URL, w.runOf(p), p.Status, nullInt(p.HTTPStatus), p.Attempts,
		nullString(p.Error), fetched, p.FetchedBy); err != nil {
		return fmt.Errorf("record the page's outcome: %w", err)
	}
	return nil
}

// deleteOldRows removes the rows a page stored before, by the keys it
// recorded; the _url check leaves alone a row another page has since
// taken over.
func (w *Writer) deleteOldRows(tx *sql.Tx, url string, oldKeys map[string][][]any) error {
	for _, t := range w.s.order {
		keys := oldKeys[t.Name]
		if len(keys) == 0 {
			continue
		}
		del := tx.Stmt(w.stmts.delByKey[t.Name])
		for _, k := range keys {
			if _, err := del.Exec(append(k, url)...); err != nil {
				return fmt.Errorf("replace rows of %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// lastPerKey drops rows whose key a later row repeats.
func lastPerKey(t Table, rows []Row) []Row {
	if len(rows) < 2 {
		return rows
	}
	pos := keyPositions(t)
	last := make(map[string]int, len(rows))
	var buf []byte
	keys := make([]string, len(rows))
	for i, r := range rows {
		buf = buf[:0]
		for _, p := range pos {
			if p < 0 {
				buf = appendValue(buf, int64(r.Index))
			} else {
				buf = appendValue(buf, r.Values[p])
			}
		}
		keys[i] = string(buf)
		last[keys[i]] = i
	}
	if len(last) == len(rows) {
		return rows
	}
	out := make([]Row, 0, len(last))
	for i, r := range rows {
		if last[keys[i]] == i {
			out = append(out, r)
		}
	}
	return out
}

// contentHash fingerprints the records a page produced, so a re-fetch that
// changed nothing can be told from one that did. Values are written with a
// type tag and length, so ("ab", "c") and ("a", "bc") differ.
func contentHash(items []ItemRows) string {
	h := sha256.New()
	var buf []byte
	for _, it := range items {
		if len(it.Rows) == 0 {
			continue
		}
		buf = append(buf[:0], 't')
		buf = appendString(buf, it.Table)
		for _, r := range it.Rows {
			buf = append(buf, 'r')
			for _, v := range r.Values {
				buf = appendValue(buf, v)
			}
		}
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'n')
	case string:
		return appendString(append(b, 's'), x)
	case int64:
		return binary.AppendVarint(append(b, 'i'), x)
	case int:
		return binary.AppendVarint(append(b, 'i'), int64(x))
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(x))
	case bool:
		if x {
			return append(b, 'T')
		}
		return append(b, 'F')
	case []byte:
		return appendString(append(b, 'b'), string(x))
	}
	return appendString(append(b, '?'), fmt.Sprint(v))
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

type writerStmts struct {
	pending, pendingHub, pageOK, pageFail, prevHash *sql.Stmt
	change, prevStatus, outcome                     *sql.Stmt
	archive                                         *sql.Stmt
	delByKey, oldByKey                              map[string]*sql.Stmt
}

func (s *writerStmts) close() {
	for _, st := range []*sql.Stmt{s.pending, s.pendingHub, s.pageOK, s.pageFail, s.prevHash, s.change, s.prevStatus, s.outcome, s.archive} {
		if st != nil {
			st.Close()
		}
	}
	for _, m := range []map[string]*sql.Stmt{s.delByKey, s.oldByKey} {
		for _, st := range m {
			st.Close()
		}
	}
}

func (w *Writer) prepare() error {
	db := w.s.write
	st := &w.stmts
	st.delByKey, st.oldByKey = map[string]*sql.Stmt{}, map[string]*sql.Stmt{}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = db.Prepare(q)
		if err != nil {
			err = fmt.Errorf("prepare %q: %w", q, err)
		}
		return s
	}
	// A page's status only moves forward: pending, then ok, failed or
	// skipped, each kept until the page is fetched again. Marking a known
	// page pending (a link to it found again, or its fetch starting) never
	// resets it: that would hide a failure, and make a failed page look
	// due. Whether a known page is fetched again is the crawler's call
	// (refresh_after, the retry back-off across runs).
	st.pending = prep(`INSERT INTO gather_pages (url, status, run, job, depth) VALUES (?, 'pending', ?, ?, ?)
		ON CONFLICT (job, url) DO UPDATE SET run = excluded.run
		WHERE gather_pages.status = 'pending' AND gather_pages.run IS NOT excluded.run`)
	// A hub's mark is kept once set, whatever the page's status.
	st.pendingHub = prep(`INSERT INTO gather_pages (url, status, run, job, depth, hub) VALUES (?, 'pending', ?, ?, ?, 1)
		ON CONFLICT (job, url) DO UPDATE SET hub = 1,
		run = CASE WHEN gather_pages.status = 'pending' THEN excluded.run ELSE gather_pages.run END
		WHERE gather_pages.hub = 0 OR (gather_pages.status = 'pending' AND gather_pages.run IS NOT excluded.run)`)
	st.prevHash = prep(`SELECT content_hash, row_keys, status FROM gather_pages WHERE job = ? AND url = ?`)
	st.prevStatus = prep(`SELECT status FROM gather_pages WHERE job = ? AND url = ?`)
	st.outcome = prep(`INSERT INTO gather_outcomes (job, url, run, status, http_status, attempts, error, fetched_at, fetched_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	st.archive = prep(`INSERT INTO gather_archive (job, url, file, offset, length, run, fetched_at, rendered_offset, rendered_length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (job, url) DO UPDATE SET file = excluded.file, offset = excluded.offset, length = excluded.length,
		run = excluded.run, fetched_at = excluded.fetched_at, rendered_offset = excluded.rendered_offset, rendered_length = excluded.rendered_length`)
	st.change = prep(`INSERT INTO gather_changes (url, run, item, changed_at, added, removed, modified, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	st.pageOK = prep(`INSERT INTO gather_pages (url, status, http_status, attempts, error, fetched_at, run, bytes, content_hash, changed_at, job, depth, warnings, stored_at, row_keys, fail_runs, items_hash, fetched_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
		ON CONFLICT (job, url) DO UPDATE SET status = excluded.status, http_status = excluded.http_status, attempts = excluded.attempts,
		error = excluded.error, fetched_at = excluded.fetched_at, run = excluded.run, bytes = excluded.bytes,
		content_hash = excluded.content_hash, changed_at = coalesce(excluded.changed_at, gather_pages.changed_at),
		depth = min(gather_pages.depth, excluded.depth), warnings = excluded.warnings, stored_at = excluded.stored_at,
		row_keys = excluded.row_keys, fail_runs = 0, items_hash = excluded.items_hash, fetched_by = excluded.fetched_by`)
	// A failed or skipped re-fetch keeps the page's hash and stored_at: the
	// rows it stored earlier are still there and still valid. fail_runs
	// counts the runs in a row the page failed in, for the retry back-off
	// across runs (a page ends once per run).
	st.pageFail = prep(`INSERT INTO gather_pages (url, status, http_status, attempts, error, fetched_at, run, bytes, job, depth, warnings, fail_runs, fetched_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ?2 = 'failed' THEN 1 ELSE 0 END, ?)
		ON CONFLICT (job, url) DO UPDATE SET status = excluded.status, http_status = excluded.http_status, attempts = excluded.attempts,
		error = excluded.error, fetched_at = excluded.fetched_at, run = excluded.run, bytes = excluded.bytes,
		depth = min(gather_pages.depth, excluded.depth), warnings = excluded.warnings, fetched_by = excluded.fetched_by,
		fail_runs = CASE WHEN excluded.status = 'failed' THEN gather_pages.fail_runs + 1 ELSE gather_pages.fail_runs END`)
	for _, t := range w.s.order {
		fieldCols := make([]string, 0, len(t.Columns)+1)
		for _, c := range t.Columns {
			fieldCols = append(fieldCols, c.Name)
		}
		if t.Indexed {
			fieldCols = append(fieldCols, ColIndex)
		}
		var byKey []string
		for _, k := range t.Key {
			if k != ColURL {
				byKey = append(byKey, quote(k)+" = ?")
			}
		}
		byKey = append(byKey, quote(ColURL)+" = ?")
		where := strings.Join(byKey, " AND ")
		st.delByKey[t.Name] = prep(fmt.Sprintf("DELETE FROM %s WHERE %s", quote(t.Name), where))
		st.oldByKey[t.Name] = prep(fmt.Sprintf("SELECT %s FROM %s WHERE %s", quoteAll(fieldCols), quote(t.Name), where))
	}
	if err != nil {
		st.close()
	}
	return err
}
