package gathertest

import (
	"database/sql"
	"testing"
)

// QueryInt runs a query answering one integer.
func QueryInt(tb testing.TB, db *sql.DB, q string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

// QueryString runs a query answering one string.
func QueryString(tb testing.TB, db *sql.DB, q string, args ...any) string {
	tb.Helper()
	var s string
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return s
}

// QueryStrings runs a query answering one string column.
func QueryStrings(tb testing.TB, db *sql.DB, q string, args ...any) []string {
	tb.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
