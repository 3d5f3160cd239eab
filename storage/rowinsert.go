package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
)

// insertSizes are the row counts of the prepared multi-row upserts,
// largest first: a page's rows go in as few statements as these sizes
// allow, which saves most of the per-statement cost of one INSERT per row.
var insertSizes = [...]int{64, 16, 4, 1}

// rowInserter upserts the item rows of pages through the driver connection
// that holds the writer's transaction, past database/sql: through it every
// call converts and checks each argument into a new slice, and with a
// page's thousand-odd values that was a tenth of the writer's time and
// most of its garbage.
//
// It owns, and only the writer goroutine touches:
//   - stmts: for each item table of the Store, one upsert per entry of
//     insertSizes, prepared on the driver connection conn. database/sql
//     keeps the writer on one connection; should it ever hand over
//     another, insert prepares them again there.
//   - args: the argument slice every execution reuses.
//
// Its statements must be closed (close) before the Store is.
type rowInserter struct {
	s     *Store
	conn  any                   // the driver connection stmts were prepared on
	stmts map[string][]execStmt // per table, indexed as insertSizes
	args  []driver.NamedValue
}

// execStmt is what the inserter needs of a driver statement.
type execStmt interface {
	driver.Stmt
	driver.StmtExecContext
}

// insert upserts the rows of a page's items on conn, the connection that
// holds the writer's transaction; rows must have distinct keys
// (lastPerKey), since a multi-row INSERT may not touch a key twice.
func (ri *rowInserter) insert(conn *sql.Conn, url, fetched string, run int64, items []ItemRows) error {
	return conn.Raw(func(dc any) error {
		if err := ri.prepareOn(dc); err != nil {
			return err
		}
		for _, it := range items {
			if err := ri.insertRows(ri.s.tables[it.Table], url, fetched, run, it.Rows); err != nil {
				return fmt.Errorf("insert into %s: %w", it.Table, err)
			}
		}
		return nil
	})
}

func (ri *rowInserter) insertRows(t Table, url, fetched string, run int64, rows []Row) error {
	ctx := context.Background()
	stmts := ri.stmts[t.Name]
	for len(rows) > 0 {
		k := len(insertSizes) - 1
		for i, n := range insertSizes {
			if n <= len(rows) {
				k = i
				break
			}
		}
		size := insertSizes[k]
		// ?1..?3 are the page's _url, _run and _fetched_at, bound once per
		// statement rather than once per row.
		args := append(ri.args[:0], driver.NamedValue{Ordinal: 1, Value: url},
			driver.NamedValue{Ordinal: 2, Value: run}, driver.NamedValue{Ordinal: 3, Value: fetched})
		for _, r := range rows[:size] {
			for _, v := range r.Values {
				args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: driverValue(v)})
			}
			if t.Indexed {
				args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: int64(r.Index)})
			}
		}
		ri.args = args
		if _, err := stmts[k].ExecContext(ctx, args); err != nil {
			return err
		}
		rows = rows[size:]
	}
	return nil
}

// prepareOn makes the statements on the driver connection dc, unless they
// were made there.
func (ri *rowInserter) prepareOn(dc any) error {
	if ri.conn == dc {
		return nil
	}
	// Statements of a connection database/sql has dropped: closing them
	// can fail, and says nothing of dc.
	_ = ri.closeStmts()
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return errors.New("the database driver cannot prepare statements with a context")
	}
	ri.stmts = map[string][]execStmt{}
	for _, t := range ri.s.order {
		cols := t.allColumns()
		// The key's columns are left out of the SET list: the conflict
		// says they are equal already, and an update that names no key
		// column lets SQLite rewrite the row in place rather than delete
		// and insert it (re-extraction: 11–13% more pages/s).
		key := map[string]bool{}
		for _, k := range t.Key {
			key[k] = true
		}
		var set []string
		for _, c := range cols {
			if !key[c] {
				set = append(set, fmt.Sprintf("%s = excluded.%s", quote(c), quote(c)))
			}
		}
		stmts := make([]execStmt, len(insertSizes))
		ri.stmts[t.Name] = stmts
		for k, n := range insertSizes {
			q := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s ON CONFLICT (%s) DO UPDATE SET %s",
				quote(t.Name), quoteAll(cols), numberedValues(t, n), quoteAll(t.Key), strings.Join(set, ", "))
			st, err := prep.PrepareContext(context.Background(), q)
			if err != nil {
				return errors.Join(fmt.Errorf("prepare %q: %w", q, err), ri.closeStmts())
			}
			es, ok := st.(execStmt)
			if !ok {
				return errors.Join(errors.New("the database driver cannot execute statements with a context"),
					st.Close(), ri.closeStmts())
			}
			stmts[k] = es
		}
	}
	ri.conn = dc
	return nil
}

// close finalizes the statements, on db's connection so that database/sql
// does not use the driver connection meanwhile. Call it once the writer
// goroutine is done with them.
func (ri *rowInserter) close(db *sql.DB) error {
	if ri.stmts == nil {
		return nil
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		return fmt.Errorf("close the row statements: %w", err)
	}
	err = conn.Raw(func(any) error { return ri.closeStmts() })
	if err != nil {
		err = fmt.Errorf("close the row statements: %w", err)
	}
	return errors.Join(err, conn.Close())
}

// closeStmts closes the statements prepared so far and forgets their
// connection.
func (ri *rowInserter) closeStmts() error {
	var errs []error
	for _, stmts := range ri.stmts {
		for _, st := range stmts {
			if st != nil {
				errs = append(errs, st.Close())
			}
		}
	}
	ri.stmts, ri.conn = nil, nil
	return errors.Join(errs...)
}

// driverValue is what database/sql's default converter would have made of
// v: the extractor's values are already driver values but for ints.
func driverValue(v any) driver.Value {
	switch x := v.(type) {
	case nil, string, int64, float64, bool, []byte:
		return v
	case int:
		return int64(x)
	}
	if dv, err := driver.DefaultParameterConverter.ConvertValue(v); err == nil {
		return dv
	}
	return fmt.Sprint(v)
}

// numberedValues writes the VALUES list of an n-row INSERT in allColumns
// order: ?1, ?2, ?3 stand for _url, _run and _fetched_at in every row, and
// each row's fields (and _index) follow from ?4 on.
func numberedValues(t Table, n int) string {
	var b strings.Builder
	next := 4
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for range t.Columns {
			fmt.Fprintf(&b, "?%d, ", next)
			next++
		}
		b.WriteString("?1, ?2, ?3")
		if t.Indexed {
			fmt.Fprintf(&b, ", ?%d", next)
			next++
		}
		b.WriteByte(')')
	}
	return b.String()
}
