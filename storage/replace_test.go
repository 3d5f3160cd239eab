package storage_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/storage"
)

// A page stored again with rows of the same keys (a re-extraction that
// changed values, not keys) has every column of its rows replaced and no
// row lost or doubled; once the table has a column no field fills any
// more, the rows stored from then on have it NULL, as the open's warning
// says, although their keys did not change.
func TestWriter_SameKeysReplaceEveryColumn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	table := func(cols ...string) storage.Table {
		tb := storage.Table{Name: "cast", Key: []string{"movie_id", "person_id"}}
		for _, c := range append([]string{"movie_id", "person_id"}, cols...) {
			tb.Columns = append(tb.Columns, storage.Column{Name: c, Type: "TEXT"})
		}
		return tb
	}
	page := func(vals ...[]any) storage.Page {
		p := okPage("http://x/a")
		for _, v := range vals {
			p.Items[0].Rows = append(p.Items[0].Rows, storage.Row{Values: v})
		}
		return p
	}
	ctx := context.Background()
	s, err := storage.Open(ctx, path, []storage.Table{table("role", "note")})
	if err != nil {
		t.Fatal(err)
	}
	w := writer(t, s, 1)
	must(t, w.Put(ctx, page([]any{"tt1", "nm1", "Kane", "first"}, []any{"tt1", "nm2", "Leland", "second"})))
	must(t, w.Close())
	w = writer(t, s, 2)
	must(t, w.Put(ctx, page([]any{"tt1", "nm1", "Charles Foster Kane", "first!"}, []any{"tt1", "nm2", "Jedediah Leland", nil})))
	must(t, w.Close())
	const q = `SELECT person_id || ' ' || coalesce(role, '-') || ' ' || coalesce(note, '-') || ' ' || _run FROM "cast" ORDER BY 1`
	got := strings.Join(rows(t, path, q), "; ")
	if want := "nm1 Charles Foster Kane first! 2; nm2 Jedediah Leland - 2"; got != want {
		t.Errorf("rows:\n got %s\nwant %s", got, want)
	}
	s.Close()

	// note is no field's any more.
	s, err = storage.Open(ctx, path, []storage.Table{table("role")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w = writer(t, s, 3)
	must(t, w.Put(ctx, page([]any{"tt1", "nm1", "Kane"}, []any{"tt1", "nm2", "Leland"})))
	must(t, w.Close())
	got = strings.Join(rows(t, path, q), "; ")
	if want := "nm1 Kane - 3; nm2 Leland - 3"; got != want {
		t.Errorf("rows after note was dropped from the item:\n got %s\nwant %s", got, want)
	}
}
