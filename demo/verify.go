package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Expected returns the rows the shipped configs should store for the first
// n demo movies, per table, keyed by primary key, each row rendered as
// text: config.yaml's items for today's layout, or those of
// examples/imdb-classic.yaml when classic is set.
func Expected(ids []string, classic bool, version func(id string) int) map[string]map[string]string {
	want := map[string]map[string]string{"movies": {}, "cast": {}, "crew": {}}
	for _, id := range ids {
		v := 0
		if version != nil {
			v = version(id)
		}
		m := MovieFor(id, v)
		movie, cast, crew := Rows(m)
		want["movies"][id] = row(movie...)
		for i, c := range m.Cast {
			if classic {
				var joined any
				if len(c.Characters) > 0 {
					joined = strings.Join(c.Characters, " / ")
				}
				want["cast"][id+"|"+c.PersonID] = row(id, c.PersonID, c.Name, joined)
			} else {
				want["cast"][id+"|"+c.PersonID] = row(cast[i]...)
			}
		}
		for i, c := range m.Crew {
			if classic {
				want["crew"][id+"|"+c.SectionName+"|"+c.PersonID+"|"+c.Note] = row(id, c.SectionName, c.PersonID, c.Name, c.Note)
			} else {
				want["crew"][id+"|"+c.Section+"|"+c.PersonID+"|"+c.Note] = row(crew[i]...)
			}
		}
	}
	return want
}

// Rows are the values config.yaml takes from m's page in today's layout,
// in its items' field order: the movies row, then the cast and crew rows
// in page order.
func Rows(m Movie) (movie []any, cast, crew [][]any) {
	movie = []any{m.ID, m.Title, int64(m.Year)}
	for _, c := range m.Cast {
		var first, all any
		if len(c.Characters) > 0 {
			b, _ := json.Marshal(c.Characters)
			first, all = c.Characters[0], string(b)
		}
		cast = append(cast, []any{m.ID, c.PersonID, c.Name, first, all})
	}
	for _, c := range m.Crew {
		// No note is "", the credit field's default: it is part of the key.
		crew = append(crew, []any{m.ID, c.Section, c.PersonID, c.Name, c.Note})
	}
	return movie, cast, crew
}

func row(vals ...any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			parts[i] = "NULL"
		case []byte:
			parts[i] = string(x)
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, " | ")
}

// Verify compares the movies, cast and crew tables of db with the ground
// truth of the first n movies and reports the counts, or an error listing
// the first differences.
func Verify(ctx context.Context, db *sql.DB, n int, classic bool) (string, error) {
	return VerifyIDs(ctx, db, IDs(n), classic, nil)
}

// VerifyIDs compares the tables with the ground truth of exactly the given
// movies, at the given versions (nil: version 0).
func VerifyIDs(ctx context.Context, db *sql.DB, ids []string, classic bool, version func(string) int) (string, error) {
	want := Expected(ids, classic, version)
	queries := map[string]struct{ key, cols string }{
		"movies": {"movie_id", "movie_id, title, year"},
		"cast":   {"movie_id || '|' || person_id", "movie_id, person_id, name, character, characters"},
		"crew":   {"movie_id || '|' || section || '|' || person_id || '|' || credit", "movie_id, section, person_id, name, credit"},
	}
	if classic {
		queries["cast"] = struct{ key, cols string }{"movie_id || '|' || person_id", "movie_id, person_id, name, character"}
	}
	var problems []string
	counts := map[string]int{}
	for _, table := range []string{"movies", "cast", "crew"} {
		q := queries[table]
		rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT %s, %s FROM %s", q.key, q.cols, table))
		if err != nil {
			return "", fmt.Errorf("verify %s: %w", table, err)
		}
		got := map[string]string{}
		dups := 0
		for rows.Next() {
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			k := row(vals[0])
			if _, seen := got[k]; seen {
				dups++
			}
			got[k] = row(vals[1:]...)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
		counts[table] = len(got)
		var diffs []string
		for k, w := range want[table] {
			g, ok := got[k]
			switch {
			case !ok:
				diffs = append(diffs, fmt.Sprintf("%s: missing %s", table, w))
			case g != w:
				diffs = append(diffs, fmt.Sprintf("%s: %s is %q, want %q", table, k, g, w))
			}
		}
		for k, g := range got {
			if _, ok := want[table][k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: unexpected row %s", table, g))
			}
		}
		if dups > 0 {
			diffs = append(diffs, fmt.Sprintf("%s: %d duplicate rows", table, dups))
		}
		sort.Strings(diffs)
		problems = append(problems, diffs...)
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("… and %d more", len(problems)-10))
		}
		return "", fmt.Errorf("database differs from the site's ground truth:\n  %s", strings.Join(problems, "\n  "))
	}
	return fmt.Sprintf("verified against the site's ground truth: %d movies, %d cast rows, %d crew rows, each exactly once",
		counts["movies"], counts["cast"], counts["crew"]), nil
}
