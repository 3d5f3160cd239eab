package storage_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// A rebuild that fails half-way (here the copy: the key field became an
// integer, and "1" and "01" are one key now) leaves the table exactly as
// it was — its columns, its rows — and no backup: the rename, the new
// table and the copy are one transaction.
func TestRebuildTable_FailureLeavesTheTableAsItWas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	table := func(idType string) []storage.Table {
		return []storage.Table{{Name: "pages", Key: []string{"id"}, Columns: []storage.Column{
			{Name: "id", Type: idType}, {Name: "title", Type: storage.AffinityText}}}}
	}
	st, err := storage.Open(ctx, path, table(storage.AffinityText))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, id := range []string{"1", "01"} {
		if _, err := db.Exec(`INSERT INTO pages (id, title, _url, _run, _fetched_at) VALUES (?, 'x', 'http://127.0.0.1/' || ?, 1, 'now')`, id, id); err != nil {
			t.Fatal(err)
		}
	}
	columns := func(table string) string {
		var s string
		if err := db.QueryRow(`SELECT group_concat(name, ',') FROM pragma_table_info(?)`, table).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	backups := func() int {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE 'gather_backup%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The key's type changes; title is renamed name.
	tables := table(storage.AffinityInteger)
	tables[0].Columns[1].Name = "name"
	st, err = storage.Open(ctx, path, tables)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.RebuildTable(ctx, "job", "pages", time.Now())
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("rebuild: %v, want the copy to fail on the key", err)
	}
	// The open added name; the failed rebuild changed nothing more.
	if got := columns("pages"); got != "id,title,_url,_run,_fetched_at,name" || backups() != 0 {
		t.Errorf("after a failed rebuild: columns %s, %d backups", got, backups())
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pages WHERE title = 'x'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d rows with their title after a failed rebuild (%v), want 2", n, err)
	}

	// Without the clash the same rebuild goes through, every row copied.
	if _, err := db.Exec(`DELETE FROM pages WHERE id = '01'`); err != nil {
		t.Fatal(err)
	}
	reb, err := st.RebuildTable(ctx, "job", "pages", time.Now())
	if err != nil || reb.Rows != 1 || strings.Join(reb.Dropped, ",") != "title" || reb.Unarchived != 1 {
		t.Fatalf("rebuild: %+v, %v", reb, err)
	}
	if got := columns("pages"); got != "id,name,_url,_run,_fetched_at" {
		t.Errorf("columns after the rebuild: %s", got)
	}
	if err := db.QueryRow(`SELECT count(title) FROM ` + reb.Backup).Scan(&n); err != nil || n != 1 {
		t.Errorf("the backup %s holds %d titles (%v), want 1", reb.Backup, n, err)
	}
}
