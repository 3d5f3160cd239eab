package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/internal/gathertest"
	"github.com/gather-crawler/gather/storage"
)

// browseDB has a WITHOUT ROWID table keyed on two columns, with a column
// of many duplicates and one of NULLs, and a rowid table without a key.
func browseDB(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE items (a TEXT, b INTEGER, grp INTEGER, note TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID`,
		fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d)
			INSERT INTO items SELECT 'a' || (x %% 7), x, x %% 13, CASE WHEN x %% 5 = 0 THEN NULL ELSE 'n' || (x %% 11) END FROM c`, n),
		`CREATE TABLE log (msg TEXT)`,
		fmt.Sprintf(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) INSERT INTO log SELECT 'm' || (x %% 3) FROM c`, n),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

// Walking a table page by page with cursors gives every row once, in the
// order one ORDER BY gives: whatever the sort column, its direction, its
// duplicates and NULLs, and with filters.
func TestReader_RowsKeysetWalk(t *testing.T) {
	path := browseDB(t, 3000)
	ctx := context.Background()
	r, err := storage.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	db := gathertest.OpenDB(t, path)
	items, err := r.Table(ctx, "items")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(items.Key, ",") != "a,b" {
		t.Fatalf("key %v", items.Key)
	}
	log, err := r.Table(ctx, "log")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(log.Key, ",") != "rowid" || log.Columns[0] != "rowid" {
		t.Fatalf("a table without a key: %+v", log)
	}
	cases := []struct {
		t      storage.TableInfo
		b      storage.Browse
		filter string
		order  string
	}{
		{items, storage.Browse{}, "", "a, b"},
		{items, storage.Browse{Desc: true}, "", "a DESC, b DESC"},
		{items, storage.Browse{Sort: "grp"}, "", "grp, a, b"},
		{items, storage.Browse{Sort: "grp", Desc: true}, "", "grp DESC, a DESC, b DESC"},
		{items, storage.Browse{Sort: "note"}, "", "note, a, b"},
		{items, storage.Browse{Sort: "note", Desc: true}, "", "note DESC, a DESC, b DESC"},
		{items, storage.Browse{Sort: "b", Filters: []storage.Filter{{Column: "note", Op: storage.FilterContains, Value: "1"}}}, "instr(note, '1') > 0", "b, a"},
		{items, storage.Browse{Sort: "grp", Filters: []storage.Filter{{Column: "note", Op: storage.FilterNull}, {Column: "a", Op: storage.FilterEquals, Value: "a3"}}}, "note IS NULL AND a = 'a3'", "grp, a, b"},
		{log, storage.Browse{Sort: "msg", Desc: true}, "", "msg DESC, rowid DESC"},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s by %s", c.t.Name, c.order)
		if c.filter != "" {
			name += " where " + c.filter
		}
		t.Run(name, func(t *testing.T) {
			where := ""
			if c.filter != "" {
				where = " WHERE " + c.filter
			}
			want := gathertest.QueryStrings(t, db, "SELECT "+c.t.Columns[0]+" || '/' || "+c.t.Columns[1]+" FROM "+c.t.Name+where+" ORDER BY "+c.order)
			var got []string
			b := c.b
			b.Limit = 97
			for pages := 0; ; pages++ {
				if pages > len(want) {
					t.Fatal("the walk does not end")
				}
				rows, err := r.Rows(ctx, c.t, b)
				if err != nil {
					t.Fatal(err)
				}
				var last []any
				n := 0
				for rows.Next() {
					vals := make([]any, len(c.t.Columns))
					ptrs := make([]any, len(vals))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					if err := rows.Scan(ptrs...); err != nil {
						t.Fatal(err)
					}
					got = append(got, fmt.Sprintf("%v/%v", vals[0], vals[1]))
					last = vals
					n++
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				rows.Close()
				if n < b.Limit {
					break
				}
				b.After = b.Cursor(c.t, last)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("walk gave %d rows, ORDER BY %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
			n, err := r.Count(ctx, c.t, c.b)
			if err != nil || n != int64(len(want)) {
				t.Errorf("count %d, %v; want %d", n, err, len(want))
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Names from URLs reach SQL only when they are the table's: an unknown
// table, column, or operator is an error, not SQL.
func TestReader_BrowseRefusesUnknownNames(t *testing.T) {
	path := browseDB(t, 10)
	ctx := context.Background()
	r, err := storage.OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Table(ctx, `items" --`); err == nil {
		t.Error("a made-up table name was accepted")
	}
	items, err := r.Table(ctx, "items")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []storage.Browse{
		{Sort: `grp" DESC --`},
		{Filters: []storage.Filter{{Column: "nope", Op: storage.FilterEquals}}},
		{Filters: []storage.Filter{{Column: "grp", Op: "; DROP"}}},
		{After: []any{1}},
	} {
		if rows, err := r.Rows(ctx, items, b); err == nil {
			rows.Close()
			t.Errorf("%+v was accepted", b)
		}
	}
	if _, err := r.Facet(ctx, items, storage.Browse{}, "nope", 5); err == nil {
		t.Error("a facet on an unknown column was accepted")
	}
	top, err := r.Facet(ctx, items, storage.Browse{}, "a", 3)
	if err != nil || len(top) != 3 || top[0].Count < top[2].Count {
		t.Errorf("facet: %+v %v", top, err)
	}
}
