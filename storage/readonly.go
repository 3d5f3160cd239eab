package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// readOnlyDriver opens connections that cannot change anything: besides
// mode=ro, which alone still lets SQL ATTACH a new writable file or run
// PRAGMA query_only=0, it allows no attached databases and installs an
// authorizer that permits reading only.
const readOnlyDriver = "sqlite3_gather_readonly"

var registerReadOnly sync.Once

// sqliteRecursive is SQLITE_RECURSIVE, which the driver does not export.
const sqliteRecursive = 33

// readOnlyPragmas may be run (without a value) or used as table-valued
// functions: they describe the schema and change nothing.
var readOnlyPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true, "collation_list": true, "function_list": true,
	"database_list": true, "integrity_check": true, "quick_check": true, "page_count": true, "page_size": true,
	"user_version": true, "schema_version": true, "journal_mode": true, "freelist_count": true, "compile_options": true,
}

func authorize(op int, arg1, arg2, _ string) int {
	switch op {
	case sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqliteRecursive:
		return sqlite3.SQLITE_OK
	case sqlite3.SQLITE_PRAGMA:
		if readOnlyPragmas[strings.ToLower(arg1)] && (arg2 == "" || !isPragmaWrite(arg1)) {
			return sqlite3.SQLITE_OK
		}
	}
	return sqlite3.SQLITE_DENY
}

// isPragmaWrite reports pragmas whose argument sets a value rather than
// naming a table or index.
func isPragmaWrite(name string) bool {
	switch strings.ToLower(name) {
	case "user_version", "schema_version", "journal_mode", "page_size":
		return true
	}
	return false
}

// ErrReadOnly marks a statement refused because it could change the
// database or reach another file.
var ErrReadOnly = errors.New("only one read-only statement (SELECT, WITH … SELECT) is allowed")

// ErrNoDatabase is returned when the database file does not exist.
var ErrNoDatabase = errors.New("no database")

// Reader is a read-only connection to a gather database.
type Reader struct {
	path string
	db   *sql.DB
	// hadWAL records whether the -wal file existed when the reader opened:
	// a read-only connection to a WAL database creates -wal and -shm but
	// cannot remove them.
	hadWAL bool
}

// OpenReader opens path for reading only; it never creates a file.
func OpenReader(ctx context.Context, path string) (*Reader, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s (run gather crawl first, or pass --db)", ErrNoDatabase, path)
		}
		return nil, err
	}
	_, walErr := os.Stat(path + "-wal")
	hadWAL := walErr == nil
	registerReadOnly.Do(func() {
		sql.Register(readOnlyDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			c.SetLimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
			c.RegisterAuthorizer(authorize)
			return nil
		}})
	})
	params := "mode=ro"
	if !hadWAL && (!writable(path) || !writable(filepath.Dir(path))) {
		// A WAL read needs a -shm file, which SQLite cannot make (or
		// remove again) where we may not write; without a -wal nothing is
		// writing the database, so it is read as an unchanging file:
		// no locks, no files made.
		params += "&immutable=1"
	}
	db, err := sql.Open(readOnlyDriver, dsn(path, busyWait, params))
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &Reader{path: path, db: db, hadWAL: hadWAL || strings.Contains(params, "immutable")}, nil
}

// DB is the read-only connection pool, for code that wants database/sql
// directly; the authorizer and mode=ro apply to it too.
func (r *Reader) DB() *sql.DB { return r.db }

// Close closes the connection. If no other connection had the database
// open before, it leaves no -wal and -shm files behind: a plain connection
// reads once and closes, and SQLite, seeing it is the last connection,
// removes them (it decides that under its own locks, so a crawl that
// started meanwhile keeps its files). Nothing is written to the database.
func (r *Reader) Close() error {
	err := r.db.Close()
	if r.hadWAL {
		return err
	}
	// Best effort: if the tidying connection fails, the files stay as
	// they would have without it, and the reader's own close is what the
	// caller needs to hear about.
	if c, oerr := sql.Open("sqlite3", dsn(r.path, time.Second, "")); oerr == nil {
		_ = c.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(new(int))
		_ = c.Close()
	}
	return err
}

// Query runs one read-only statement. Several statements, or anything
// that writes, attaches or sets a pragma, is refused with ErrReadOnly.
// The rows are streamed: the caller reads them one at a time.
func (r *Reader) Query(ctx context.Context, query string) (*sql.Rows, error) {
	if n := countStatements(query); n != 1 {
		if n == 0 {
			return nil, fmt.Errorf("%w: the query is empty", ErrReadOnly)
		}
		return nil, fmt.Errorf("%w: got %d statements", ErrReadOnly, n)
	}
	rows, err := r.db.QueryContext(ctx, query)
	if err != nil {
		return nil, r.Explain(ctx, err)
	}
	return rows, nil
}

// Explain turns SQLite's errors into ones that say what to do; use it on
// errors from reading the rows too (some statements are refused only when
// they run).
func (r *Reader) Explain(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, ErrReadOnly) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "not authorized"), strings.Contains(msg, "authorization denied"),
		strings.Contains(msg, "attempt to write a readonly database"),
		strings.Contains(msg, "too many attached databases"):
		return fmt.Errorf("%w: %s", ErrReadOnly, msg)
	case strings.HasPrefix(msg, "no such table"):
		if tables, terr := r.Tables(ctx); terr == nil {
			return fmt.Errorf("%s (tables: %s)", msg, strings.Join(tables, ", "))
		}
	}
	return err
}

// Tables lists the tables and views of the database.
func (r *Reader) Tables(ctx context.Context) ([]string, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out, rows.Err()
}

// countStatements counts the SQL statements in q, skipping string
// literals, quoted identifiers and comments, so that "SELECT ';'" is one
// statement and "SELECT 1; DROP TABLE x" is two.
func countStatements(q string) int {
	n := 0
	nonEmpty := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < len(q); j++ {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // a doubled quote stands for itself
						j++
						continue
					}
					break
				}
			}
			nonEmpty = true
			i = j
		case c == '[':
			end := strings.IndexByte(q[i+1:], ']')
			nonEmpty = true
			if end < 0 {
				return n + 1
			}
			i += end + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				i = len(q)
			} else {
				i += end
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				i = len(q)
			} else {
				i += end + 3
			}
		case c == ';':
			if nonEmpty {
				n++
			}
			nonEmpty = false
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			nonEmpty = true
		}
	}
	if nonEmpty {
		n++
	}
	return n
}
