package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// ErrNoTable is returned for a table the database does not have (or one
// that is not browsable, such as a view).
var ErrNoTable = errors.New("no such table")

// TableInfo describes a table for browsing: its columns in order and the
// key its rows are paged by.
type TableInfo struct {
	Name    string
	Columns []string
	// Key orders the rows uniquely: the primary key, or "rowid" for a
	// table that has none (rowid is then the first column).
	Key []string
	// Item is false for gather's own tables (gather_*).
	Item bool
}

// HasColumn reports whether name is one of t's columns.
func (t TableInfo) HasColumn(name string) bool {
	for _, c := range t.Columns {
		if c == name {
			return true
		}
	}
	return false
}

// Table describes one table. Names come from URLs, so only names the
// schema lists are accepted, and every column name used later is checked
// against Columns.
func (r *Reader) Table(ctx context.Context, name string) (TableInfo, error) {
	var n string
	err := r.db.QueryRowContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? AND name NOT LIKE 'sqlite_%'", name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return TableInfo{}, fmt.Errorf("%w: %q", ErrNoTable, name)
	}
	if err != nil {
		return TableInfo{}, err
	}
	rows, err := r.db.QueryContext(ctx, "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", name)
	if err != nil {
		return TableInfo{}, err
	}
	defer rows.Close()
	t := TableInfo{Name: name, Item: !strings.HasPrefix(name, "gather_")}
	keyAt := map[int]string{}
	for rows.Next() {
		var col string
		var pk int
		if err := rows.Scan(&col, &pk); err != nil {
			return TableInfo{}, err
		}
		t.Columns = append(t.Columns, col)
		if pk > 0 {
			keyAt[pk] = col
		}
	}
	if err := rows.Err(); err != nil {
		return TableInfo{}, err
	}
	for i := 1; i <= len(keyAt); i++ {
		t.Key = append(t.Key, keyAt[i])
	}
	if len(t.Key) == 0 {
		t.Key = []string{"rowid"}
		t.Columns = append([]string{"rowid"}, t.Columns...)
	}
	return t, nil
}

// TableCount is a table and its number of rows.
type TableCount struct {
	Name string
	Rows int64
	Item bool
}

// TableCounts lists the tables (views aside) with their row counts, item
// tables first.
func (r *Reader) TableCounts(ctx context.Context) ([]TableCount, error) {
	rows, err := r.db.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIKE 'gather\\_%' ESCAPE '\\', name")
	if err != nil {
		return nil, err
	}
	var out []TableCount
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, TableCount{Name: n, Item: !strings.HasPrefix(n, "gather_")})
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	for i := range out {
		if err := r.db.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(out[i].Name)).Scan(&out[i].Rows); err != nil {
			return nil, fmt.Errorf("count %s: %w", out[i].Name, err)
		}
	}
	return out, nil
}

// Filter operators.
const (
	FilterEquals   = "eq"       // the column equals Value
	FilterContains = "contains" // the column's text contains Value
	FilterNull     = "null"     // the column is NULL
)

// Filter keeps the rows whose Column matches Value by Op.
type Filter struct {
	Column string
	Op     string
	Value  string
}

// Browse is one view of a table: filtered, sorted and paged by keyset.
type Browse struct {
	Filters []Filter
	// Sort is the column the rows are ordered by, the key breaking ties;
	// empty: by the key alone.
	Sort string
	Desc bool
	// After is the cursor of the last row of the previous page (see
	// Cursor); nil for the first page.
	After []any
	// Limit caps the rows (0: all, for exports).
	Limit int
}

// check refuses column names that are not t's and unknown operators.
func (b Browse) check(t TableInfo) error {
	if b.Sort != "" && !t.HasColumn(b.Sort) {
		return fmt.Errorf("sort: %s has no column %q", t.Name, b.Sort)
	}
	for _, f := range b.Filters {
		if !t.HasColumn(f.Column) {
			return fmt.Errorf("filter: %s has no column %q", t.Name, f.Column)
		}
		switch f.Op {
		case FilterEquals, FilterContains, FilterNull:
		default:
			return fmt.Errorf("filter on %s: unknown operator %q", f.Column, f.Op)
		}
	}
	if b.After != nil && len(b.After) != len(b.cursorColumns(t)) {
		return fmt.Errorf("cursor: want %d values, got %d", len(b.cursorColumns(t)), len(b.After))
	}
	return nil
}

// sortsByKey reports whether the order is the key's alone.
func (b Browse) sortsByKey(t TableInfo) bool {
	return b.Sort == "" || (len(t.Key) == 1 && t.Key[0] == b.Sort)
}

// cursorColumns are the columns a cursor holds: the sort column, if any,
// then the key.
func (b Browse) cursorColumns(t TableInfo) []string {
	if b.sortsByKey(t) {
		return t.Key
	}
	return append([]string{b.Sort}, t.Key...)
}

// Cursor is the cursor after row, a row of Rows' result for b.
func (b Browse) Cursor(t TableInfo, row []any) []any {
	var out []any
	for _, c := range b.cursorColumns(t) {
		for i, col := range t.Columns {
			if col == c {
				out = append(out, row[i])
			}
		}
	}
	return out
}

// where is the WHERE clause of b's filters (without the cursor).
func (b Browse) where() (string, []any) {
	var conds []string
	var args []any
	for _, f := range b.Filters {
		switch f.Op {
		case FilterEquals:
			conds = append(conds, quote(f.Column)+" = ?")
			args = append(args, f.Value)
		case FilterContains:
			conds = append(conds, "instr("+quote(f.Column)+", ?) > 0")
			args = append(args, f.Value)
		case FilterNull:
			conds = append(conds, quote(f.Column)+" IS NULL")
		}
	}
	return strings.Join(conds, " AND "), args
}

// keyset is the condition for rows after the cursor. SQLite orders NULL
// before every value, so a NULL sort value needs its own case, and the key
// (never NULL) breaks ties as a row value.
func (b Browse) keyset(t TableInfo) (string, []any) {
	cmp := ">"
	if b.Desc {
		cmp = "<"
	}
	keys := "(" + quoteAll(t.Key) + ")"
	marks := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.Key)), ", ") + ")"
	if b.sortsByKey(t) {
		return keys + " " + cmp + " " + marks, b.After
	}
	s, sv, kv := quote(b.Sort), b.After[0], b.After[1:]
	switch {
	case sv == nil && !b.Desc:
		return "((" + s + " IS NULL AND " + keys + " > " + marks + ") OR " + s + " IS NOT NULL)", kv
	case sv == nil:
		return "(" + s + " IS NULL AND " + keys + " < " + marks + ")", kv
	case !b.Desc:
		return "(" + s + " > ? OR (" + s + " = ? AND " + keys + " > " + marks + "))", append([]any{sv, sv}, kv...)
	default:
		return "(" + s + " < ? OR (" + s + " = ? AND " + keys + " < " + marks + ") OR " + s + " IS NULL)", append([]any{sv, sv}, kv...)
	}
}

// Rows runs b on t: every column of t, in t.Columns' order.
func (r *Reader) Rows(ctx context.Context, t TableInfo, b Browse) (*sql.Rows, error) {
	if err := b.check(t); err != nil {
		return nil, err
	}
	where, args := b.where()
	if b.After != nil {
		ks, kargs := b.keyset(t)
		if where != "" {
			where += " AND "
		}
		where += ks
		args = append(args, kargs...)
	}
	q := "SELECT " + quoteAll(t.Columns) + " FROM " + quote(t.Name)
	if where != "" {
		q += " WHERE " + where
	}
	dir := ""
	if b.Desc {
		dir = " DESC"
	}
	var order []string
	for _, c := range b.cursorColumns(t) {
		order = append(order, quote(c)+dir)
	}
	q += " ORDER BY " + strings.Join(order, ", ")
	if b.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", b.Limit)
	}
	return r.db.QueryContext(ctx, q, args...)
}

// Count counts the rows of t that b's filters keep.
func (r *Reader) Count(ctx context.Context, t TableInfo, b Browse) (int64, error) {
	b.After, b.Sort = nil, ""
	if err := b.check(t); err != nil {
		return 0, err
	}
	where, args := b.where()
	q := "SELECT count(*) FROM " + quote(t.Name)
	if where != "" {
		q += " WHERE " + where
	}
	var n int64
	err := r.db.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// FacetValue is one value of a column and how many rows hold it.
type FacetValue struct {
	Value any
	Count int64
}

// Facet returns the n most frequent values of column among the rows b's
// filters keep, most frequent first.
func (r *Reader) Facet(ctx context.Context, t TableInfo, b Browse, column string, n int) ([]FacetValue, error) {
	b.After, b.Sort = nil, ""
	if err := b.check(t); err != nil {
		return nil, err
	}
	if !t.HasColumn(column) {
		return nil, fmt.Errorf("facet: %s has no column %q", t.Name, column)
	}
	where, args := b.where()
	q := "SELECT " + quote(column) + ", count(*) FROM " + quote(t.Name)
	if where != "" {
		q += " WHERE " + where
	}
	q += fmt.Sprintf(" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %d", n)
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FacetValue
	for rows.Next() {
		var v FacetValue
		if err := rows.Scan(&v.Value, &v.Count); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
