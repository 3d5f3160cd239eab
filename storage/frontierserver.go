package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The Redis server a shared crawl's frontier was last reconciled with, by
// its run_id (new at each start of the server), kept in the database by
// the crawl's sink: a sink that finds another server when it starts knows
// that Redis restarted while no sink ran, maybe having lost its data, and
// reconciles the frontier with the database (frontier/sinkbeat.go).

// FrontierServer is the run_id of the Redis server job's frontier was last
// reconciled with; "" when none is recorded.
func (s *Store) FrontierServer(ctx context.Context, job string) (string, error) {
	if _, err := s.write.ExecContext(ctx, identitySchema); err != nil {
		return "", fmt.Errorf("database %s: %w", s.path, err)
	}
	var id string
	err := s.write.QueryRowContext(ctx, `SELECT value FROM gather_identity WHERE name = ?`, "frontier_server:"+job).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("database %s: read the frontier's server: %w", s.path, err)
	}
	return id, nil
}

// SetFrontierServer records the run_id of the Redis server job's frontier
// is reconciled with.
func (s *Store) SetFrontierServer(ctx context.Context, job, runID string) error {
	if _, err := s.write.ExecContext(ctx, identitySchema+`INSERT INTO gather_identity (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, "frontier_server:"+job, runID); err != nil {
		return fmt.Errorf("database %s: record the frontier's server: %w", s.path, err)
	}
	return nil
}
