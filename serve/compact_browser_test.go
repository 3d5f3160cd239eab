package serve_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/serve"
)

// The table view is compact: a long text cell takes one line, a click shows
// it whole (and a second cuts it again); "full cells" shows every cell
// whole.
func TestTable_CompactCellsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	tb := startTab(t)
	path := filepath.Join(t.TempDir(), "long.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a long paragraph of text that wraps ", 8)
	for _, q := range []string{`CREATE TABLE notes (n INTEGER PRIMARY KEY, body TEXT)`,
		`INSERT INTO notes VALUES (1, '` + long + `'), (2, 'short')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	srv, _ := startServer(t, path, serve.Options{})
	tb.open(t, srv.URL+"/data/notes", "table-compact")
	height := func() float64 {
		return eval[float64](t, tb, `document.querySelector("#rows tbody tr").getBoundingClientRect().height`)
	}
	short := eval[float64](t, tb, `document.querySelector("#rows tbody tr:nth-child(2)").getBoundingClientRect().height`)
	if h := height(); h > short*1.5 {
		t.Errorf("a long cell makes its row %.0fpx high, a short one %.0fpx: not one line", h, short)
	}
	eval[any](t, tb, `document.querySelector("#rows tbody tr td:nth-child(2)").click(), null`)
	if h := height(); h < short*2 {
		t.Errorf("after a click the long cell's row is %.0fpx high (one line is %.0fpx): not shown whole", h, short)
	}
	eval[any](t, tb, `document.querySelector("#rows tbody tr td:nth-child(2)").click(), null`)
	if h := height(); h > short*1.5 {
		t.Errorf("a second click left the row %.0fpx high", h)
	}
	tb.open(t, srv.URL+"/data/notes?full=1", "table-full")
	if n := count(t, tb, "table.compact"); n != 0 {
		t.Errorf("full=1 still compact")
	}
	if h := height(); h < short*2 {
		t.Errorf("full cells: the long row is %.0fpx high", h)
	}
	if got := text(t, tb, "#cells-toggle"); got != "compact cells" {
		t.Errorf("toggle says %q", got)
	}
}
