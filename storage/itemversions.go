package storage

import (
	"context"
	"fmt"
	"strings"
)

// itemVersionsSchema records, for each version of a job's items (the
// items_hash its pages carry), each item's own hash and url pattern: what
// tells, when the items change, which items changed, and so which pages
// (those the changed items apply to) need their rows extracted again.
const itemVersionsSchema = `
CREATE TABLE IF NOT EXISTS gather_item_versions (
  job TEXT NOT NULL,
  items_hash TEXT NOT NULL,
  item TEXT NOT NULL,
  item_hash TEXT NOT NULL,
  url TEXT NOT NULL,
  PRIMARY KEY (job, items_hash, item)
);
`

// ItemVersion is one item of a version of the items: its name, its own
// hash and its url pattern ("" every page).
type ItemVersion struct {
	Item, Hash, URL string
}

// RecordItemVersions records the items of job's version itemsHash (once:
// a version's items never change).
func (s *Store) RecordItemVersions(ctx context.Context, job, itemsHash string, items []ItemVersion) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record the items' versions: %w", err)
	}
	defer tx.Rollback()
	for _, it := range items {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO gather_item_versions (job, items_hash, item, item_hash, url) VALUES (?, ?, ?, ?, ?)`,
			job, itemsHash, it.Item, it.Hash, it.URL); err != nil {
			return fmt.Errorf("record the items' versions: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record the items' versions: %w", err)
	}
	return nil
}

// ItemVersions returns the items of job's version itemsHash; none when
// that version was stored before gather recorded them.
func (s *Store) ItemVersions(ctx context.Context, job, itemsHash string) ([]ItemVersion, error) {
	rows, err := s.write.QueryContext(ctx, `SELECT item, item_hash, url FROM gather_item_versions WHERE job = ? AND items_hash = ? ORDER BY item`, job, itemsHash)
	if err != nil {
		return nil, fmt.Errorf("read the items' versions: %w", err)
	}
	defer rows.Close()
	var out []ItemVersion
	for rows.Next() {
		var v ItemVersion
		if err := rows.Scan(&v.Item, &v.Hash, &v.URL); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// OlderItemsHashes are the versions of the items, other than current,
// that job's stored (ok) pages were extracted with.
func (s *Store) OlderItemsHashes(ctx context.Context, job, current string) ([]string, error) {
	rows, err := s.write.QueryContext(ctx, `SELECT DISTINCT items_hash FROM gather_pages WHERE job = ? AND status = 'ok' AND items_hash NOT IN ('', ?)`, job, current)
	if err != nil {
		return nil, fmt.Errorf("read the pages' items versions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// PagesOfItems returns up to limit URLs of job's stored pages of the
// items version itemsHash, in URL order after after.
func (s *Store) PagesOfItems(ctx context.Context, job, itemsHash, after string, limit int) ([]string, error) {
	rows, err := s.write.QueryContext(ctx, `SELECT url FROM gather_pages WHERE job = ? AND status = 'ok' AND items_hash = ? AND url > ? ORDER BY url LIMIT ?`,
		job, itemsHash, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read the pages of an items version: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// MoveItemsVersion records that the rows of job's pages urls (nil: every
// stored page) of the items version from hold for version to as well:
// none of the items that changed between the two applies to them. It
// returns how many pages it moved.
func (s *Store) MoveItemsVersion(ctx context.Context, job, from, to string, urls []string) (int64, error) {
	q := `UPDATE gather_pages SET items_hash = ? WHERE job = ? AND status = 'ok' AND items_hash = ?`
	args := []any{to, job, from}
	if urls != nil {
		if len(urls) == 0 {
			return 0, nil
		}
		q += " AND url IN (?" + strings.Repeat(", ?", len(urls)-1) + ")"
		for _, u := range urls {
			args = append(args, u)
		}
	}
	res, err := s.write.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("record the pages' items version: %w", err)
	}
	return res.RowsAffected()
}
