package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// A database's identity: a random id made the first time it is asked for
// and kept in the file, so that a copy of the file is the same database
// and another file is another, wherever either lies. A shared crawl's
// frontier is bound to the id of the database its sink stores into
// (frontier/bind.go).

const identitySchema = `
CREATE TABLE IF NOT EXISTS gather_identity (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);`

// DatabaseID is the database's id, made and stored on the first call.
func (s *Store) DatabaseID(ctx context.Context) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	if _, err := s.write.ExecContext(ctx, identitySchema+
		`INSERT INTO gather_identity (name, value) VALUES ('database_id', ?) ON CONFLICT (name) DO NOTHING`, hex.EncodeToString(b)); err != nil {
		return "", fmt.Errorf("database %s: record its id: %w", s.path, err)
	}
	var id string
	if err := s.write.QueryRowContext(ctx, `SELECT value FROM gather_identity WHERE name = 'database_id'`).Scan(&id); err != nil {
		return "", fmt.Errorf("database %s: read its id: %w", s.path, err)
	}
	return id, nil
}

// DatabaseID is the id of the database r reads, "" if it has none yet.
func (r *Reader) DatabaseID(ctx context.Context) (string, error) {
	var id string
	err := r.db.QueryRowContext(ctx, `SELECT value FROM gather_identity WHERE name = 'database_id'`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) || err != nil && strings.Contains(err.Error(), "no such table") {
		return "", nil
	}
	return id, err
}

// RunPageCounts counts the pages of job that run recorded, by status, as
// they stand in gather_pages: a page stored twice in a run (its outcome
// handed over by two workers) counts once.
func (s *Store) RunPageCounts(ctx context.Context, job string, run int64) (ok, failed, skipped int64, err error) {
	err = s.write.QueryRowContext(ctx, `SELECT coalesce(sum(status = 'ok'), 0), coalesce(sum(status = 'failed'), 0), coalesce(sum(status = 'skipped'), 0)
		FROM gather_pages WHERE job = ? AND run = ?`, job, run).Scan(&ok, &failed, &skipped)
	if err != nil {
		err = fmt.Errorf("count the run's pages: %w", err)
	}
	return ok, failed, skipped, err
}
