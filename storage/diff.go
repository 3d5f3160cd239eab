package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// A modified row's detail in gather_changes says which fields changed,
// with their old and new values, so that what changed can be read without
// the page's earlier rows (which the re-fetch replaced). It is bounded: at
// most maxDiffRows rows of a page's item, values cut to maxDiffValue
// characters.
const (
	maxDiffRows  = 20
	maxDiffValue = 200
)

// ChangeDetail is gather_changes.detail: the keys of the rows added,
// removed and modified (each key a list of its values without _url, []
// for an item keyed by _url alone), and Diff, the fields that changed in
// the first modified rows; More counts the modified rows past them.
type ChangeDetail struct {
	Added    [][]any   `json:"added"`
	Modified [][]any   `json:"modified"`
	Removed  [][]any   `json:"removed"`
	Diff     []RowDiff `json:"diff"`
	More     int       `json:"more,omitempty"`
}

// RowDiff is one modified row: its key and the fields whose value changed.
type RowDiff struct {
	Key    []any       `json:"key"`
	Fields []FieldDiff `json:"fields"`
}

// FieldDiff is one field's old and new value; Cut is set when either was
// longer than the detail keeps.
type FieldDiff struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
	Cut   bool   `json:"cut,omitempty"`
}

// ParseChangeDetail reads a gather_changes.detail; ok is false for text
// that is not one (an empty detail, or one an older gather wrote without
// a diff reads fine, with an empty Diff).
func ParseChangeDetail(s string) (ChangeDetail, bool) {
	var d ChangeDetail
	if s == "" || json.Unmarshal([]byte(s), &d) != nil {
		return d, false
	}
	return d, true
}

// rowDiff compares a row's stored values with its new ones, field by
// field, as encodeRow compares rows.
func rowDiff(t Table, key, old, cur []any) RowDiff {
	d := RowDiff{Key: key, Fields: []FieldDiff{}}
	for i, c := range t.Columns {
		var o, n any
		if i < len(old) {
			o = old[i]
		}
		if i < len(cur) {
			n = cur[i]
		}
		if encodeRow([]any{o}) == encodeRow([]any{n}) {
			continue
		}
		fd := FieldDiff{Field: c.Name}
		var cutO, cutN bool
		fd.Old, cutO = diffValue(o)
		fd.New, cutN = diffValue(n)
		fd.Cut = cutO || cutN
		d.Fields = append(d.Fields, fd)
	}
	return d
}

// diffValue is v as the detail keeps it: text (and bytes, as text) cut to
// maxDiffValue characters, booleans as SQLite stores them.
func diffValue(v any) (any, bool) {
	switch x := v.(type) {
	case []byte:
		v = string(x)
	case bool:
		if x {
			return int64(1), false
		}
		return int64(0), false
	}
	s, ok := v.(string)
	if !ok || utf8.RuneCountInString(s) <= maxDiffValue {
		return v, false
	}
	r := []rune(s)
	return string(r[:maxDiffValue]) + "…", true
}

// RunChanges returns the first limit changes run recorded, by page and
// item, and how many it recorded in all.
func (r *Reader) RunChanges(ctx context.Context, run int64, limit int) ([]PageChange, int64, error) {
	var total int64
	if err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM gather_changes WHERE run = ?`, run).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := r.db.QueryContext(ctx, `SELECT url, run, item, changed_at, added, removed, modified, coalesce(detail, '')
		FROM gather_changes WHERE run = ? ORDER BY url, item LIMIT ?`, run, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []PageChange
	for rows.Next() {
		var c PageChange
		if err := rows.Scan(&c.URL, &c.Run, &c.Item, &c.ChangedAt, &c.Added, &c.Removed, &c.Modified, &c.Detail); err != nil {
			return nil, 0, err
		}
		c.Parsed, c.Diff = ParseChangeDetail(c.Detail)
		out = append(out, c)
	}
	return out, total, rows.Err()
}

// HasRows reports whether the item table has a row, from any run: a run
// that stored nothing in it need not mean its url pattern is wrong.
func (s *Store) HasRows(ctx context.Context, table string) (bool, error) {
	if _, ok := s.tables[table]; !ok {
		return false, fmt.Errorf("no table %s", table)
	}
	var one int
	err := s.read.QueryRowContext(ctx, "SELECT 1 FROM "+quote(table)+" LIMIT 1").Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
