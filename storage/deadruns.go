package storage

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// A run is running only while a process runs it, and every process that
// runs a job holds the job's lease (lease.go): a run recorded running
// whose job's lease has lapsed, or is held by a process of this host that
// is gone (kill -9), is a run no process runs. The next holder of the
// lease records it interrupted (MarkAbandonedRuns); so does any process
// that opens the database for a job without running it (MarkDeadRuns:
// gather status and gather seed of a shared crawl), and gather runs,
// which only reads, shows it so (liveStatus).

// MarkDeadRuns records job's runs still recorded running as interrupted
// when no live process holds the job's lease, as MarkAbandonedRuns does
// for the lease's holder; it returns how many it marked. A lease taken
// meanwhile by a process starting the job keeps its runs: the check and
// the marking are one statement.
func (s *Store) MarkDeadRuns(ctx context.Context, job string) (int64, error) {
	var owner, expires string
	err := s.write.QueryRowContext(ctx, `SELECT owner, expires_at FROM gather_locks WHERE job = ?`, job).Scan(&owner, &expires)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	now := FormatTime(time.Now())
	if err == nil && expires >= now && ownerAlive(owner) {
		return 0, nil
	}
	// A dead holder's claim counts as none; any other live claim keeps
	// the runs.
	dead := ""
	if err == nil && !ownerAlive(owner) {
		dead = owner
	}
	return s.markInterrupted(ctx, job, ` AND NOT EXISTS (SELECT 1 FROM gather_locks WHERE job = ? AND expires_at >= ? AND owner <> ?)`, job, now, dead)
}

// liveStatus is the SQL of a run's status as gather runs shows it: a run
// recorded running whose job no live process holds (MarkDeadRuns) is
// shown interrupted. A database without leases shows what it recorded.
func (r *Reader) liveStatus(ctx context.Context) string {
	rows, err := r.db.QueryContext(ctx, `SELECT job, owner, expires_at FROM gather_locks`)
	if err != nil {
		return "status"
	}
	defer rows.Close()
	now := FormatTime(time.Now())
	live := []string{"''"}
	for rows.Next() {
		var job, owner, expires string
		if rows.Scan(&job, &owner, &expires) != nil {
			return "status"
		}
		if expires >= now && ownerAlive(owner) {
			live = append(live, "'"+strings.ReplaceAll(job, "'", "''")+"'")
		}
	}
	if rows.Err() != nil {
		return "status"
	}
	return "CASE WHEN status = '" + RunRunning + "' AND job NOT IN (" + strings.Join(live, ", ") + ") THEN '" + RunInterrupted + "' ELSE status END"
}
