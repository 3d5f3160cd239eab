package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
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

// DefaultLeaseTTL is how long a lease lasts unrenewed when LeaseOptions
// leave TTL zero.
const DefaultLeaseTTL = 30 * time.Second

// LeaseOptions tune a Lease. The zero value is a lease of DefaultLeaseTTL
// owned by this process (host:pid), on the real clock.
type LeaseOptions struct {
	// TTL is how long a claim lasts without renewal: others wait this long
	// before taking the job of an owner that died on another host.
	TTL time.Duration
	// Owner names the holder in gather_locks; default host:pid, which is
	// also what lets a process on this host see that the holder is dead.
	Owner string
	// Now is the clock that claims expire by; default time.Now.
	Now func() time.Time
	// Alive reports whether an owner may still be running; a claim whose
	// owner is not alive is taken over without waiting for it to expire.
	// Default: owners of this host's format whose process is gone are
	// dead, everything else may be alive.
	Alive func(owner string) bool
	// Logger receives a warning when a dead owner's claim is taken over.
	Logger *slog.Logger
}

// Lease is one job's claim on the database, held by one owner: Acquire
// it, Keep it renewed while the job runs, Release it when the job ends.
// It is safe for the renewals to run while the owner works; the methods
// themselves are called from one goroutine.
type Lease struct {
	s          *Store
	job, owner string
	ttl        time.Duration
	now        func() time.Time
	alive      func(string) bool
	log        *slog.Logger

	stop chan struct{} // closed by Release to end Keep's goroutine
	wg   sync.WaitGroup
}

// NewLease prepares job's lease for opts.Owner; it takes nothing until
// Acquire.
func (s *Store) NewLease(job string, opts LeaseOptions) *Lease {
	l := &Lease{s: s, job: job, owner: opts.Owner, ttl: opts.TTL, now: opts.Now, alive: opts.Alive, log: opts.Logger}
	if l.ttl <= 0 {
		l.ttl = DefaultLeaseTTL
	}
	if l.owner == "" {
		l.owner = ProcessOwner()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.alive == nil {
		l.alive = ownerAlive
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l
}

// Owner is the name this lease claims the job under.
func (l *Lease) Owner() string { return l.owner }

// TTL is how long a claim lasts unrenewed.
func (l *Lease) TTL() time.Duration { return l.ttl }

// ProcessOwner names this process as a lease owner: host:pid.
func ProcessOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// ownerAlive reports false only for an owner ("host:pid") that names a
// process of this host that is gone: about any other owner nothing is
// known, so it may be alive.
func ownerAlive(owner string) bool {
	host, pidText, ok := strings.Cut(owner, ":")
	if !ok {
		return true
	}
	me, _ := os.Hostname()
	pid, err := strconv.Atoi(pidText)
	if host != me || err != nil || pid <= 0 || pid == os.Getpid() {
		return true
	}
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// Acquire claims the job until now+TTL, unless another owner holds an
// unexpired claim: then the error is a *LeaseHeldError (errors.Is
// ErrLeaseHeld). A claim whose owner is dead (killed, crashed on this
// host) is taken over at once rather than after it expires, so that a
// crawl restarted after kill -9 resumes immediately. Acquiring a lease the
// owner already holds extends it.
func (l *Lease) Acquire(ctx context.Context) error {
	err := l.claim(ctx)
	var held *LeaseHeldError
	if !errors.As(err, &held) || l.alive(held.Holder) {
		return err
	}
	l.log.Warn("taking over the job from a process that no longer exists", "job", l.job, "holder", held.Holder)
	now := l.now()
	res, err := l.s.write.ExecContext(ctx, "UPDATE gather_locks SET owner = ?, acquired_at = ?, expires_at = ? WHERE job = ? AND owner = ?",
		l.owner, FormatTime(now), FormatTime(now.Add(l.ttl)), l.job, held.Holder)
	if err != nil {
		return fmt.Errorf("take over lease on job %s: %w", l.job, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		// The claim changed hands meanwhile: try once more, as anyone would.
		return l.claim(ctx)
	}
	return nil
}

// claim inserts or extends the claim if it is free, expired or ours.
func (l *Lease) claim(ctx context.Context) error {
	now := l.now()
	res, err := l.s.write.ExecContext(ctx, `INSERT INTO gather_locks (job, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
		WHERE gather_locks.expires_at < ? OR gather_locks.owner = excluded.owner`,
		l.job, l.owner, FormatTime(now), FormatTime(now.Add(l.ttl)), FormatTime(now))
	if err != nil {
		return fmt.Errorf("acquire lease on job %s: %w", l.job, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("acquire lease on job %s: %w", l.job, err)
	}
	if n == 1 {
		return nil
	}
	var holder, expires string
	err = l.s.write.QueryRowContext(ctx, "SELECT owner, expires_at FROM gather_locks WHERE job = ?", l.job).Scan(&holder, &expires)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("acquire lease on job %s: read the holder: %w", l.job, err)
	}
	return &LeaseHeldError{Job: l.job, Holder: holder, Expires: expires}
}

// Renew extends the claim to now+TTL. It fails with ErrLeaseHeld if the
// claim was lost: it expired and another owner took the job.
func (l *Lease) Renew(ctx context.Context) error {
	res, err := l.s.write.ExecContext(ctx, "UPDATE gather_locks SET expires_at = ? WHERE job = ? AND owner = ?",
		FormatTime(l.now().Add(l.ttl)), l.job, l.owner)
	if err != nil {
		return fmt.Errorf("renew lease on job %s: %w", l.job, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("%w: lease on job %s was lost", ErrLeaseHeld, l.job)
	}
	return nil
}

// Keep renews the claim every TTL/3 on a goroutine of its own until
// Release. If a renewal fails — the claim was lost, or the database
// refused the write for longer than a third of the TTL — lost is called
// once with why, and renewals stop: the owner must stop working for the
// job. Call Keep at most once per Acquire.
func (l *Lease) Keep(lost func(error)) {
	l.stop = make(chan struct{})
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(l.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				if err := l.Renew(context.Background()); err != nil {
					lost(fmt.Errorf("job lease: %w", err))
					return
				}
			}
		}
	}()
}

// Release stops Keep's renewals, waits for them, and gives the claim up so
// that the next run need not wait for it to expire. A failed release is
// worth a log line, not a failed job: the claim then lapses after TTL.
func (l *Lease) Release() error {
	if l.stop != nil {
		close(l.stop)
		l.wg.Wait()
		l.stop = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), busyWait)
	defer cancel()
	if _, err := l.s.write.ExecContext(ctx, "DELETE FROM gather_locks WHERE job = ? AND owner = ?", l.job, l.owner); err != nil {
		return fmt.Errorf("release lease on job %s: %w", l.job, err)
	}
	return nil
}
