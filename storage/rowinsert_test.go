package storage

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

var rowTable = Table{
	Name:    "cast",
	Columns: []Column{{Name: "movie_id", Type: "TEXT"}, {Name: "person_id", Type: "TEXT"}},
	Key:     []string{"movie_id", "person_id"},
	Indexed: true,
}

func castRows(movie string, n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{Values: []any{movie, fmt.Sprintf("nm%03d", i)}, Index: i + 1}
	}
	return rows
}

func countRows(t *testing.T, db *sql.DB, movie string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM "cast" WHERE movie_id = ? AND _index BETWEEN 1 AND 1000`, movie).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A page's rows go in through every statement size (85 = 64+16+4+1), and
// on a new driver connection the statements are prepared again there;
// close finalizes them without error.
func TestRowInserter_SizesAndConnections(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := Open(ctx, path, []Table{rowTable})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	other, err := sql.Open("sqlite3", dsn(path, busyWait, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	ri := rowInserter{s: s}
	for i, db := range []*sql.DB{s.write, other, s.write} {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		movie := fmt.Sprintf("tt%d", i)
		err = ri.insert(conn, "http://x/"+movie, "2025-01-01", 1, []ItemRows{{Table: "cast", Rows: castRows(movie, 85)}})
		conn.Close()
		if err != nil {
			t.Fatalf("insert on connection %d: %v", i, err)
		}
		if n := countRows(t, s.write, movie); n != 85 {
			t.Errorf("connection %d: %d rows stored, want 85", i, n)
		}
	}
	if err := ri.close(s.write); err != nil {
		t.Errorf("close: %v", err)
	}
	if ri.stmts != nil || ri.conn != nil {
		t.Error("close left statements behind")
	}
	if err := ri.close(s.write); err != nil {
		t.Errorf("close again: %v", err)
	}
}
