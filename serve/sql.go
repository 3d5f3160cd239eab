package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gather-crawler/gather/output"
	"github.com/gather-crawler/gather/storage"
)

// errTimeLimit is the cause of a statement's context when the time limit
// ends it.
var errTimeLimit = errors.New("time limit")

// statement runs q through the read-only connection (one statement,
// reading only: storage.Reader.Query refuses the rest) with the time
// limit; go-sqlite3 interrupts the statement when the context ends.
func (s *server) statement(ctx context.Context, q string) (context.Context, context.CancelFunc, rowsCloser, error) {
	qctx, cancel := context.WithTimeoutCause(ctx, s.opts.QueryTimeout, errTimeLimit)
	rows, err := s.opts.Reader.Query(qctx, q)
	if err != nil {
		cancel()
		return qctx, nil, nil, s.queryError(qctx, err)
	}
	return qctx, cancel, rows, nil
}

type rowsCloser interface {
	output.Rows
	Close() error
}

// queryError says why a statement stopped: the time limit, or SQLite.
func (s *server) queryError(qctx context.Context, err error) error {
	if context.Cause(qctx) == errTimeLimit {
		return fmt.Errorf("the query was stopped after the time limit of %s", s.opts.QueryTimeout)
	}
	return s.opts.Reader.Explain(context.Background(), err)
}

func (s *server) sqlBox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	data := map[string]any{"Title": "SQL", "Query": q, "Limit": s.opts.QueryTimeout, "Cap": s.opts.RowCap}
	if q == "" {
		s.render(w, "sql", http.StatusOK, data)
		return
	}
	start := time.Now()
	qctx, cancel, rows, err := s.statement(r.Context(), q)
	if err != nil {
		data["Error"] = err.Error()
		data["ReadOnly"] = errors.Is(err, storage.ErrReadOnly)
		s.render(w, "sql", http.StatusBadRequest, data)
		return
	}
	defer cancel()
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		data["Error"] = err.Error()
		s.render(w, "sql", http.StatusBadRequest, data)
		return
	}
	got, err := scanAll(rows, len(cols), s.opts.RowCap+1)
	if err != nil {
		data["Error"] = s.queryError(qctx, err).Error()
		s.render(w, "sql", http.StatusBadRequest, data)
		return
	}
	if len(got) > s.opts.RowCap {
		got = got[:s.opts.RowCap]
		data["Capped"] = true
	}
	data["Columns"], data["Rows"] = cols, got
	data["Elapsed"] = time.Since(start)
	data["CSV"] = s.link("/sql/export", url.Values{"q": {q}, "format": {"csv"}})
	data["JSON"] = s.link("/sql/export", url.Values{"q": {q}, "format": {"json"}})
	s.render(w, "sql", http.StatusOK, data)
}

// exportSQL streams every row of the statement, within the time limit.
func (s *server) exportSQL(w http.ResponseWriter, r *http.Request) {
	format, ok := exportFormat(w, r, "query")
	if !ok {
		return
	}
	qctx, cancel, rows, err := s.statement(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		w.Header().Del("Content-Disposition")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer cancel()
	defer rows.Close()
	if _, err := output.Write(w, format, rows); err != nil {
		s.log.Warn("export stopped", "error", s.queryError(qctx, err))
	}
}
