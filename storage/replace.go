package storage

import (
	"bytes"
	"context"
)

// A page stored again with rows of the same keys as before — a re-fetch
// that found the page as it was, or a re-extraction whose items changed
// none of its keys — needs no delete before its rows go in: the upsert
// (rowInserter) replaces each row, every column of it. Deleting them
// first, one statement per row, was a third of the writer's time in a
// re-extraction (BenchmarkReextractSideBySide's profile).
//
// Every column, unless the table has columns no field fills any more (a
// renamed or removed field): the upsert would leave their old values,
// where a row stored anew has them NULL, as the run's warning promises.
// Such tables keep the delete.

// sameKeysReplace reports whether p's rows can replace those the page
// stored before (prevKeys, as gather_pages.row_keys holds them) without
// deleting them first.
func (w *Writer) sameKeysReplace(p *Page, prevKeys []byte) bool {
	return w.upsertReplaces && len(prevKeys) > 0 && bytes.Equal(prevKeys, p.rowKeys)
}

// whollyFilled reports whether every item table's columns are all ones
// the items fill, so that an upsert writes every column of a row.
func (s *Store) whollyFilled(ctx context.Context) (bool, error) {
	for _, t := range s.order {
		existing, _, err := tableInfo(ctx, s.write, t.Name)
		if err != nil {
			return false, err
		}
		if len(existing) != len(t.allColumns()) {
			return false, nil
		}
	}
	return true, nil
}
