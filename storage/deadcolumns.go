package storage

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// unfilledColumns are the columns of an existing table (its columns
// existing) that no field of t fills any more, sorted.
func unfilledColumns(t Table, existing map[string]bool) []string {
	want := map[string]bool{}
	for _, c := range t.allColumns() {
		want[c] = true
	}
	var out []string
	for c := range existing {
		if !want[c] {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// deadColumnsNote says which columns of table no field fills, and how to
// drop them: what a run warns and validate prints.
func deadColumnsNote(table string, cols []string) string {
	return fmt.Sprintf("table %s has columns no field of its item fills any more (%s): renamed or removed fields; they stay NULL in the rows stored from now on (gather query can still read them; gather reextract --rebuild %s rebuilds the table without them)",
		table, strings.Join(cols, ", "), table)
}

// DeadColumns says, for each of tables that exists in the database, which
// of its columns no field fills any more (one note per table, as a run
// warns of them). It changes nothing: validate asks it.
func (r *Reader) DeadColumns(ctx context.Context, tables []Table) ([]string, error) {
	var notes []string
	for _, t := range tables {
		existing, _, err := tableInfo(ctx, r.db, t.Name)
		if err != nil {
			return nil, err
		}
		if existing == nil {
			continue
		}
		if cols := unfilledColumns(t, existing); len(cols) > 0 {
			notes = append(notes, deadColumnsNote(t.Name, cols))
		}
	}
	return notes, nil
}
