package output_test

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/mattn/go-sqlite3"

	"github.com/gather-crawler/gather/output"
)

// Rows of a query, as gather query prints them: *sql.Rows is a Rows, and
// each format streams, row by row (csv too, with RFC 4180's CRLF line
// ends).
func ExampleWrite() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	db.Exec(`CREATE TABLE cast_members (movie_id TEXT, name TEXT, ord INTEGER)`)
	db.Exec(`INSERT INTO cast_members VALUES ('tt0137523', 'Edward Norton', 1), ('tt0137523', 'Brad Pitt', 2)`)
	for _, format := range []string{output.Table, "jsonl"} {
		rows, err := db.Query(`SELECT movie_id, name, ord FROM cast_members ORDER BY ord`)
		if err != nil {
			fmt.Println(err)
			return
		}
		n, err := output.Write(os.Stdout, format, rows)
		rows.Close()
		fmt.Println(n, "rows", err)
	}
	// Output:
	// movie_id   name           ord
	// ---------  -------------  ---
	// tt0137523  Edward Norton    1
	// tt0137523  Brad Pitt        2
	// 2 rows <nil>
	// {"movie_id":"tt0137523","name":"Edward Norton","ord":1}
	// {"movie_id":"tt0137523","name":"Brad Pitt","ord":2}
	// 2 rows <nil>
}
