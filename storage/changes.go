package storage

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// keyParts returns the values of a row's key, without _url (the same for
// every row of a page).
func keyParts(t Table, values []any, index int) []any {
	out := []any{} // [] rather than null in the detail's JSON
	for _, k := range t.Key {
		switch k {
		case ColURL:
		case ColIndex:
			out = append(out, int64(index))
		default:
			for j, c := range t.Columns {
				if c.Name == k {
					out = append(out, values[j])
				}
			}
		}
	}
	return out
}

// encodeRow is a comparable form of a row's field values. SQLite hands
// back booleans as integers and may return text as bytes, so values are
// normalized first.
func encodeRow(values []any) string {
	var b []byte
	for _, v := range values {
		switch x := v.(type) {
		case bool:
			if x {
				v = int64(1)
			} else {
				v = int64(0)
			}
		case []byte:
			v = string(x)
		case int:
			v = int64(x)
		}
		b = appendValue(b, v)
	}
	return string(b)
}

// change is what a re-fetch did to one item's rows of a page: the keys
// of the rows added, removed and modified, and for the modified rows the
// fields that changed, old and new.
type change struct {
	item                     string
	added, removed, modified [][]any
	diffs                    []RowDiff
}

// diffPage compares the rows a page has in the database with those it
// produced now, per item table, before the old rows are replaced. The old
// rows are looked up by the keys the page recorded (oldKeys).
func (w *Writer) diffPage(tx *sql.Tx, p *Page, oldKeys map[string][][]any) ([]change, error) {
	newRows := map[string][]Row{}
	for _, it := range p.Items {
		newRows[it.Table] = it.Rows
	}
	var out []change
	for _, t := range w.s.order {
		old := map[string]string{}
		oldKey := map[string][]any{}
		oldVals := map[string][]any{}
		n := len(t.Columns)
		if t.Indexed {
			n++
		}
		for _, key := range oldKeys[t.Name] {
			vals, err := scanRow(tx.Stmt(w.stmts.oldByKey[t.Name]).QueryRow(append(key, p.URL)...), n)
			if errors.Is(err, sql.ErrNoRows) {
				continue // taken over by another page since
			}
			if err != nil {
				return nil, fmt.Errorf("read old rows of %s: %w", t.Name, err)
			}
			k := encodeRow(key)
			old[k], oldKey[k], oldVals[k] = encodeRow(vals[:len(t.Columns)]), key, vals[:len(t.Columns)]
		}
		c := change{item: t.Name}
		seen := map[string]bool{}
		for _, r := range lastPerKey(t, newRows[t.Name]) {
			key := keyParts(t, r.Values, r.Index)
			k := encodeRow(key)
			seen[k] = true
			was, ok := old[k]
			switch {
			case !ok:
				c.added = append(c.added, key)
			case was != encodeRow(r.Values):
				c.modified = append(c.modified, key)
				if len(c.diffs) < maxDiffRows {
					c.diffs = append(c.diffs, rowDiff(t, key, oldVals[k], r.Values))
				}
			}
		}
		var gone []string
		for k := range old {
			if !seen[k] {
				gone = append(gone, k)
			}
		}
		sort.Strings(gone)
		for _, k := range gone {
			c.removed = append(c.removed, oldKey[k])
		}
		if len(c.added)+len(c.removed)+len(c.modified) > 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

func scanRow(r interface{ Scan(...any) error }, n int) ([]any, error) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return vals, r.Scan(ptrs...)
}

// changeDetail is the JSON of gather_changes.detail: the keys of the rows
// added, removed and modified, each key a JSON array of its values.
func changeDetail(c change) string {
	norm := func(keys [][]any) [][]any {
		if keys == nil {
			return [][]any{}
		}
		return keys
	}
	d := ChangeDetail{Added: norm(c.added), Removed: norm(c.removed), Modified: norm(c.modified), Diff: c.diffs}
	if d.Diff == nil {
		d.Diff = []RowDiff{}
	}
	d.More = len(c.modified) - len(c.diffs)
	b, _ := json.Marshal(d)
	return string(b)
}
