package storage

import (
	"cmp"
	"slices"
	"strings"
)

// sortedByKey returns rows in the order of their table's primary key, so
// that the writer inserts them into the key's b-tree in ascending order:
// each insert then lands next to the one before, on a page already in
// cache, and leaf pages fill instead of splitting half-empty. That measured
// a quarter more pages/s (BenchmarkWriter_DemoPages). rows is not changed;
// a sorted copy is returned when it was not in order.
func sortedByKey(t Table, rows []Row) []Row {
	if len(rows) < 2 {
		return rows
	}
	pos := keyPositions(t)
	byKey := func(a, b Row) int {
		for _, p := range pos {
			var x, y any
			if p < 0 {
				x, y = int64(a.Index), int64(b.Index)
			} else {
				x, y = a.Values[p], b.Values[p]
			}
			if c := compareValues(x, y); c != 0 {
				return c
			}
		}
		return 0
	}
	if slices.IsSortedFunc(rows, byKey) {
		return rows
	}
	rows = slices.Clone(rows)
	slices.SortFunc(rows, byKey)
	return rows
}

// keyPositions gives, per key column other than _url, its index among the
// table's columns, or -1 for _index.
func keyPositions(t Table) []int {
	if t.keyPos != nil {
		return t.keyPos
	}
	var pos []int
	for _, k := range t.Key {
		switch k {
		case ColURL:
		case ColIndex:
			pos = append(pos, -1)
		default:
			for j, c := range t.Columns {
				if c.Name == k {
					pos = append(pos, j)
				}
			}
		}
	}
	return pos
}

// compareValues orders values as SQLite does: NULL, then numbers, then
// text (byte order, the BINARY collation), then blobs.
func compareValues(x, y any) int {
	cx, cy := valueClass(x), valueClass(y)
	if cx != cy {
		return cmp.Compare(cx, cy)
	}
	switch a := x.(type) {
	case string:
		return strings.Compare(a, y.(string))
	case []byte:
		return strings.Compare(string(a), string(y.([]byte)))
	case nil:
		return 0
	}
	return cmp.Compare(number(x), number(y))
}

func valueClass(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case string:
		return 2
	case []byte:
		return 3
	}
	return 1
}

func number(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case float64:
		return n
	case bool:
		if n {
			return 1
		}
	}
	return 0
}
