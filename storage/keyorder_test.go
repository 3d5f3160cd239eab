package storage

import (
	"reflect"
	"testing"
)

func TestSortedByKey(t *testing.T) {
	tbl := Table{Name: "crew", Columns: []Column{{Name: "movie_id"}, {Name: "section"}, {Name: "person_id"}},
		Key: []string{"movie_id", "section", "person_id"}, Indexed: true}
	rows := []Row{
		{Values: []any{"tt2", "writer", "nm1"}, Index: 1},
		{Values: []any{"tt1", "writer", "nm9"}, Index: 2},
		{Values: []any{"tt1", "director", "nm5"}, Index: 3},
		{Values: []any{"tt1", nil, "nm0"}, Index: 4},
		{Values: []any{"tt1", int64(7), "nm0"}, Index: 5},
	}
	in := append([]Row(nil), rows...)
	got := sortedByKey(tbl, rows)
	var order []int
	for _, r := range got {
		order = append(order, r.Index)
	}
	// NULL before numbers before text, as SQLite orders them.
	if want := []int{4, 5, 3, 2, 1}; !reflect.DeepEqual(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if !reflect.DeepEqual(rows, in) {
		t.Error("the caller's rows were reordered")
	}
	if sorted := sortedByKey(tbl, got); &sorted[0] != &got[0] {
		t.Error("rows already in order were copied")
	}
	byIndex := Table{Name: "t", Columns: []Column{{Name: "a"}}, Key: []string{"_url", "_index"}, Indexed: true}
	if got := sortedByKey(byIndex, []Row{{Index: 2}, {Index: 1}}); got[0].Index != 1 {
		t.Errorf("by _index: %v", got)
	}
}
