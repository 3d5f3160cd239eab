// Package storage holds every SQL statement of gather: the schema made from
// item specs, the single batched writer, the frontier of pages, runs and
// changes, and the read-only query connection.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3" // also registers the "sqlite3" driver
)

// TimeFormat is how every time is stored: RFC 3339 UTC with fixed
// milliseconds, so that text order is time order.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime renders t in TimeFormat.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// Store is an open gather database. The write connection is used only by
// the Writer goroutine and by short set-up statements; reads go through a
// separate pool so that they never wait on a batch.
type Store struct {
	path   string
	write  *sql.DB
	read   *sql.DB
	tables map[string]Table
	order  []Table
	notes  []string
	// poison keeps what is being extracted and what must not be (poison.go).
	poison poison
}

// Notes are what opening the database did that its owner may need to
// know (a database gather did not make switched to WAL), for the log.
func (s *Store) Notes() []string { return s.notes }

// dsn builds a file: URI for path with the driver's params, waiting up to
// busy for another connection's lock.
func dsn(path string, busy time.Duration, params string) string {
	u := url.URL{Scheme: "file", Path: path}
	if !filepath.IsAbs(path) {
		u = url.URL{Scheme: "file", Opaque: (&url.URL{Path: path}).EscapedPath()}
	}
	q := fmt.Sprintf("_busy_timeout=%d", busy.Milliseconds())
	if params != "" {
		q += "&" + params
	}
	return u.String() + "?" + q
}

// busyWait is how long a write waits for another connection's lock (the
// busy timeout of every connection) and how long Open keeps trying.
const busyWait = 10 * time.Second

// Open opens or creates the database at path, in WAL mode, and creates or
// extends the item tables.
//
// Opening can meet a lock that SQLite reports at once instead of waiting
// out the busy timeout: another process recovering the WAL after a crash,
// say. Open then tries again, for as long as the busy timeout would wait.
func Open(ctx context.Context, path string, tables []Table) (*Store, error) {
	deadline := time.Now().Add(busyWait)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		s, err := open(ctx, path, tables)
		if err == nil || !isBusy(err) || time.Now().Add(delay).After(deadline) {
			return s, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open database %s: %w", path, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// open opens the two pools once. The write connection is one connection
// (the single writer) with _txlock=immediate, so that every transaction
// takes the write lock up front and a read-then-write transaction never
// fails with "database is locked" halfway. Its page cache is 16 MiB
// (cache_size=-16384): b-tree pages of the item tables and gather_pages
// stay in memory between batches, which measured 10-25% more rows/s than
// SQLite's 2 MB default, and the bound keeps memory flat however long the
// crawl.
func open(ctx context.Context, path string, tables []Table) (s *Store, err error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	_, statErr := os.Stat(path)
	existed := statErr == nil
	// Nothing made by a failed open is removed afterwards: another
	// process may be opening the same file at the same moment, and its
	// -wal, -shm or new database must not vanish under it. What could be
	// left behind is refused before SQLite is asked (checkPath), and the
	// first look goes through a connection that writes nothing.
	var conns []*sql.DB
	defer func() {
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
		}
	}()
	// Look before changing anything: a database gather cannot use is
	// refused as it is, and one gather did not make is only switched to
	// WAL with a note.
	plain, err := sql.Open("sqlite3", dsn(path, busyWait, "_foreign_keys=off"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	conns = append(conns, plain)
	plain.SetMaxOpenConns(1)
	if err := plain.PingContext(ctx); err != nil {
		return nil, openError(path, err)
	}
	if err := checkSchema(ctx, plain, tables); err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	note := ""
	if existed {
		if note, err = journalNote(ctx, plain, path); err != nil {
			return nil, fmt.Errorf("database %s: %w", path, err)
		}
	}
	plain.Close()
	conns = conns[:0]

	w, err := sql.Open("sqlite3", dsn(path, busyWait, "_txlock=immediate&_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=off&_cache_size=-16384"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	conns = append(conns, w)
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	w.SetMaxIdleConns(1)
	if err := w.PingContext(ctx); err != nil {
		return nil, openError(path, err)
	}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, openError(path, err)
	}
	if mode != "wal" {
		return nil, fmt.Errorf("open database %s: cannot switch to WAL mode (journal_mode=%q)", path, mode)
	}
	dead, err := migrate(ctx, w, tables)
	if err != nil {
		return nil, openError(path, err)
	}
	r, err := sql.Open("sqlite3", dsn(path, busyWait, "_query_only=1"))
	if err != nil {
		return nil, err
	}
	conns = append(conns, r)
	r.SetMaxOpenConns(4)
	s = &Store{path: path, write: w, read: r, tables: map[string]Table{}}
	if note != "" {
		s.notes = append(s.notes, note)
	}
	s.notes = append(s.notes, dead...)
	for _, t := range tables {
		t.keyPos = keyPositions(t)
		s.tables[t.Name] = t
		s.order = append(s.order, t)
	}
	return s, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes both connection pools. Close the Writer first.
//
// It empties the WAL first: SQLite does that itself when the last
// connection to the database closes, but not while another process (a
// `gather query`, another job's crawl) has the database open, and what a
// run writes after its writer has closed (its record, the lease) would
// then stay in the WAL.
func (s *Store) Close() error {
	s.closeFlights()
	// Best effort: a WAL that could not be emptied loses nothing, and the
	// next writer empties it.
	_, _ = s.truncateWAL(closeWait)
	return errors.Join(s.read.Close(), s.write.Close())
}

// truncateWAL copies the whole WAL into the database file and truncates
// it to nothing, waiting up to wait for readers of older snapshots to
// finish; busy reports that they did not, and the WAL was left as it was
// (partly copied, perhaps). It runs on the write connection, so never
// inside the writer's transaction.
//
// It waits in short checkpoints, one after another, rather than one long
// one: a checkpoint waits for the reader it first found on an old
// snapshot, and a reader that runs statements back to back takes its next
// snapshot, a current one, so quickly that the checkpoint, polling, never
// sees it gone. The next checkpoint looks again and finds nothing to wait
// for.
func (s *Store) truncateWAL(wait time.Duration) (busy bool, err error) {
	ctx := context.Background()
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	// The busy timeout is also how long a checkpoint waits for readers.
	setBusy := func(d time.Duration) error {
		_, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", d.Milliseconds()))
		return err
	}
	defer func() { err = errors.Join(err, setBusy(busyWait)) }()
	const step = 10 * time.Millisecond
	if err := setBusy(min(step, wait)); err != nil {
		return false, err
	}
	deadline := time.Now().Add(wait)
	for {
		var b, frames, copied int
		start := time.Now()
		if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&b, &frames, &copied); err != nil {
			return false, err
		}
		left := time.Until(deadline)
		if b == 0 || left <= 0 {
			return b != 0, nil
		}
		if time.Since(start) < time.Millisecond {
			// Busy at once, without waiting: another process is running a
			// checkpoint, which SQLite does not wait for.
			time.Sleep(min(step, left))
		}
		if left < step {
			if err := setBusy(left); err != nil {
				return true, err
			}
		}
	}
}

// IntegrityCheck runs PRAGMA integrity_check and returns its verdict ("ok"
// for a sound file).
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	var res string
	err := s.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res)
	return res, err
}
