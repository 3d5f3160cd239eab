package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
)

// insertSizes are the row counts of the prepared multi-row INSERTs: a page's
// rows go in as few statements as these sizes allow, which saves most of
// the per-statement cost of one INSERT per row.
var insertSizes = []int{64, 16, 4, 1}

// rowInserter runs the item tables' multi-row upserts on the driver
// connection itself, inside the writer's transaction. Through database/sql
// every call converts and checks each argument into a new slice: with a
// page's thousand-odd values that was a tenth of the writer's time and
// most of its garbage. Its statements belong to one driver connection and
// are prepared again if database/sql ever hands the writer another.
type rowInserter struct {
	s     *Store
	conn  any // the driver connection the statements were prepared on
	stmts map[string]map[int]driver.Stmt
	args  []driver.NamedValue
}

// insert upserts the rows of a page's items on the connection that holds
// the writer's transaction.
func (ri *rowInserter) insert(conn *sql.Conn, url, fetched string, run int64, items []ItemRows) error {
	return conn.Raw(func(dc any) error {
		if err := ri.prepare(dc); err != nil {
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

// insertRows upserts a page's rows of one table; rows must have distinct
// keys (lastPerKey), since a multi-row INSERT may not touch a key twice.
func (ri *rowInserter) insertRows(t Table, url, fetched string, run int64, rows []Row) error {
	ctx := context.Background()
	for len(rows) > 0 {
		size := 1
		for _, n := range insertSizes {
			if n <= len(rows) {
				size = n
				break
			}
		}
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
		if _, err := ri.stmts[t.Name][size].(driver.StmtExecContext).ExecContext(ctx, args); err != nil {
			return err
		}
		rows = rows[size:]
	}
	return nil
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

// prepare makes the statements on dc, unless they were made there.
func (ri *rowInserter) prepare(dc any) error {
	if ri.conn == dc {
		return nil
	}
	ri.close()
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return fmt.Errorf("the database driver cannot prepare statements with a context")
	}
	ri.stmts = map[string]map[int]driver.Stmt{}
	for _, t := range ri.s.order {
		cols := t.allColumns()
		var set []string
		for _, c := range cols {
			set = append(set, fmt.Sprintf("%s = excluded.%s", quote(c), quote(c)))
		}
		ri.stmts[t.Name] = map[int]driver.Stmt{}
		for _, n := range insertSizes {
			q := fmt.Sprintf("INSERT INTO %s (%s) VALUES %s ON CONFLICT (%s) DO UPDATE SET %s",
				quote(t.Name), quoteAll(cols), numberedValues(t, n), quoteAll(t.Key), strings.Join(set, ", "))
			st, err := prep.PrepareContext(context.Background(), q)
			if err != nil {
				ri.close()
				return fmt.Errorf("prepare %q: %w", q, err)
			}
			if _, ok := st.(driver.StmtExecContext); !ok {
				st.Close()
				ri.close()
				return fmt.Errorf("the database driver cannot execute statements with a context")
			}
			ri.stmts[t.Name][n] = st
		}
	}
	ri.conn = dc
	return nil
}

// close finalizes the statements.
func (ri *rowInserter) close() {
	for _, sizes := range ri.stmts {
		for _, st := range sizes {
			st.Close()
		}
	}
	ri.stmts, ri.conn = nil, nil
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
