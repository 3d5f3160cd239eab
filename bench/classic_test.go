package bench_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/gather-crawler/gather/bench"
	"github.com/gather-crawler/gather/demo"
)

// On the classic layout too, the baseline stores what gather stores: the
// same rows of the same tables under the same keys, cell by cell, and both
// match the site's ground truth.
func TestRun_ClassicBothModesStoreTheSameRows(t *testing.T) {
	site, err := demo.New(demo.Options{}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	const pages = 20
	tables := map[string][]string{}
	for _, mode := range []string{bench.ModeGather, bench.ModePlain} {
		job := bench.Job{Mode: mode, Layout: bench.LayoutClassic, Base: site.URL, Pages: pages, Parallelism: 4, Dir: t.TempDir()}
		res, err := bench.Run(context.Background(), job)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		db, err := sql.Open("sqlite3", "file:"+job.Database()+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := demo.VerifyIDs(context.Background(), db, demo.IDs(pages), true, nil); err != nil {
			t.Errorf("%s: %v", mode, err)
		}
		var n int64
		for _, q := range []string{
			"SELECT movie_id, title, year FROM movies ORDER BY movie_id",
			"SELECT movie_id, person_id, name, character FROM cast ORDER BY movie_id, person_id",
			"SELECT movie_id, section, person_id, name, credit FROM crew ORDER BY movie_id, section, person_id, credit",
		} {
			cells := dump(t, db, q)
			tables[mode] = append(tables[mode], cells...)
			n += int64(len(cells))
		}
		if res.Rows != n {
			t.Errorf("%s: reported %d rows, stored %d", mode, res.Rows, n)
		}
	}
	g, p := tables[bench.ModeGather], tables[bench.ModePlain]
	if len(g) == 0 || !reflect.DeepEqual(g, p) {
		for i := 0; i < min(len(g), len(p)); i++ {
			if g[i] != p[i] {
				t.Fatalf("first difference, row %d: gather %s, plain colly %s", i, g[i], p[i])
			}
		}
		t.Fatalf("gather stored %d rows, plain colly %d", len(g), len(p))
	}
}

// dump renders each row of q, a NULL distinct from an empty string and
// each cell with its SQLite type.
func dump(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		s := ""
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			s += fmt.Sprintf("%T:%v|", v, v)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
