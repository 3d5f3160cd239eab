package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The job lease keeps one run per job at a time, across processes: a row
// in gather_locks names the owner and when its claim expires. The owner
// renews it while it runs; if the owner dies, the claim lapses and another
// process may take the job.
const leaseSchema = `
CREATE TABLE IF NOT EXISTS gather_locks (
  job TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  acquired_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);`

// ErrLeaseHeld is returned when another owner holds a job's lease.
var ErrLeaseHeld = errors.New("job is running elsewhere")

// LeaseHeldError says who holds a job's lease, and until when.
type LeaseHeldError struct {
	Job, Holder, Expires string
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("%v: %s holds job %s until %s", ErrLeaseHeld, e.Holder, e.Job, e.Expires)
}

// Unwrap makes errors.Is(err, ErrLeaseHeld) true.
func (e *LeaseHeldError) Unwrap() error { return ErrLeaseHeld }

// AcquireLease claims job for owner until now+ttl, if no one else holds an
// unexpired claim. On ErrLeaseHeld the error names the holder.
func (s *Store) AcquireLease(ctx context.Context, job, owner string, ttl time.Duration) error {
	now := time.Now()
	res, err := s.write.ExecContext(ctx, `INSERT INTO gather_locks (job, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
		WHERE gather_locks.expires_at < ? OR gather_locks.owner = excluded.owner`,
		job, owner, FormatTime(now), FormatTime(now.Add(ttl)), FormatTime(now))
	if err != nil {
		return fmt.Errorf("acquire lease on job %s: %w", job, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var holder, expires string
	if err := s.write.QueryRowContext(ctx, "SELECT owner, expires_at FROM gather_locks WHERE job = ?", job).Scan(&holder, &expires); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return &LeaseHeldError{Job: job, Holder: holder, Expires: expires}
}

// TakeLease moves job's lease from a holder known to be dead (its process
// is gone) to owner, without waiting for the lease to expire. It fails if
// the lease changed hands meanwhile.
func (s *Store) TakeLease(ctx context.Context, job, from, owner string, ttl time.Duration) error {
	now := time.Now()
	res, err := s.write.ExecContext(ctx, "UPDATE gather_locks SET owner = ?, acquired_at = ?, expires_at = ? WHERE job = ? AND owner = ?",
		owner, FormatTime(now), FormatTime(now.Add(ttl)), job, from)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return s.AcquireLease(ctx, job, owner, ttl)
	}
	return nil
}

// RenewLease extends owner's claim; it fails with ErrLeaseHeld if the claim
// was lost (it expired and someone else took it).
func (s *Store) RenewLease(ctx context.Context, job, owner string, ttl time.Duration) error {
	res, err := s.write.ExecContext(ctx, "UPDATE gather_locks SET expires_at = ? WHERE job = ? AND owner = ?",
		FormatTime(time.Now().Add(ttl)), job, owner)
	if err != nil {
		return fmt.Errorf("renew lease on job %s: %w", job, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: lease on job %s was lost", ErrLeaseHeld, job)
	}
	return nil
}

// ReleaseLease gives up owner's claim on job.
func (s *Store) ReleaseLease(ctx context.Context, job, owner string) error {
	_, err := s.write.ExecContext(ctx, "DELETE FROM gather_locks WHERE job = ? AND owner = ?", job, owner)
	return err
}

// MarkAbandonedRuns marks runs of job still recorded as running as
// interrupted: called by the lease holder, no other run of the job can be
// alive, so these are runs whose process died.
func (s *Store) MarkAbandonedRuns(ctx context.Context, job string) (int64, error) {
	// finished_at stays empty: when the process died is not known.
	res, err := s.write.ExecContext(ctx, `UPDATE gather_runs SET status = ?, error = coalesce(error, 'the process ended without finishing the run')
		WHERE job = ? AND status = ?`, RunInterrupted, job, RunRunning)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
