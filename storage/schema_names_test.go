package storage_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/storage"
)

// storage names the key columns itself (it does not import the config's
// schema); a key in the config names them by config's constants.
func TestKeyColumnsAreTheConfigsKeyNames(t *testing.T) {
	if storage.ColURL != config.KeyURL || storage.ColIndex != config.KeyIndex {
		t.Fatalf("storage's %q/%q differ from config's %q/%q", storage.ColURL, storage.ColIndex, config.KeyURL, config.KeyIndex)
	}
}

// A renamed or removed field leaves its column behind: the next open says
// which columns no field fills, instead of keeping them silently.
func TestOpen_NamesColumnsNoFieldFills(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	table := func(cols ...string) []storage.Table {
		tb := storage.Table{Name: "pages", Key: []string{storage.ColURL}}
		for _, c := range cols {
			tb.Columns = append(tb.Columns, storage.Column{Name: c, Type: storage.AffinityText})
		}
		return []storage.Table{tb}
	}
	s, err := storage.Open(context.Background(), path, table("title", "year"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Notes()) != 0 {
		t.Errorf("notes on a new database: %v", s.Notes())
	}
	s.Close()
	s, err = storage.Open(context.Background(), path, table("name", "year"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	notes := strings.Join(s.Notes(), "\n")
	if !strings.Contains(notes, "table pages has columns no field of its item fills any more (title)") {
		t.Errorf("notes: %q", notes)
	}
}
