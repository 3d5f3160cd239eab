package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gather-crawler/gather/storage"
)

// fakeNow is a clock that moves only when the test says.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeNow) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func alive(string) bool { return true }

func TestLease_OneOwnerAtATime(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "t.db"), castTable)
	ctx := context.Background()
	clock := &fakeNow{t: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}
	lease := func(job, owner string) *storage.Lease {
		return s.NewLease(job, storage.LeaseOptions{TTL: time.Minute, Owner: owner, Now: clock.now, Alive: alive})
	}
	a, b := lease("job", "a"), lease("job", "b")
	must(t, a.Acquire(ctx))
	must(t, a.Acquire(ctx)) // re-entrant for its owner
	err := b.Acquire(ctx)
	var held *storage.LeaseHeldError
	if !errors.As(err, &held) || !errors.Is(err, storage.ErrLeaseHeld) || held.Holder != "a" || held.Expires != "2026-12-01T03:01:00.000Z" {
		t.Fatalf("second owner: %v", err)
	}
	if !strings.Contains(err.Error(), "a holds job job until 2026-12-01T03:01:00.000Z") {
		t.Errorf("message %q does not say who holds the job until when", err)
	}
	must(t, lease("other", "b").Acquire(ctx)) // other jobs are independent

	clock.add(50 * time.Second)
	must(t, a.Renew(ctx)) // until 03:01:50
	clock.add(50 * time.Second)
	if err := b.Acquire(ctx); !errors.Is(err, storage.ErrLeaseHeld) {
		t.Fatalf("b took a renewed lease: %v", err)
	}
	clock.add(11 * time.Second)
	must(t, b.Acquire(ctx)) // expired: b takes over
	if err := a.Renew(ctx); !errors.Is(err, storage.ErrLeaseHeld) || !strings.Contains(err.Error(), "was lost") {
		t.Errorf("a renewed a lease it lost: %v", err)
	}
	must(t, a.Release()) // releasing a lost lease does not take it from b
	if err := a.Acquire(ctx); !errors.Is(err, storage.ErrLeaseHeld) {
		t.Fatalf("a released b's lease: %v", err)
	}
	must(t, b.Release())
	must(t, a.Acquire(ctx))
}

// A holder that is known to be dead is taken over at once; one that may
// be alive only once its claim expires.
func TestLease_DeadOwnerTakenOverAtOnce(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "t.db"), castTable)
	ctx := context.Background()
	dead := map[string]bool{"crashed": true}
	isAlive := func(o string) bool { return !dead[o] }
	for _, holder := range []string{"crashed", "elsewhere"} {
		must(t, s.NewLease("job-"+holder, storage.LeaseOptions{Owner: holder, Alive: isAlive}).Acquire(ctx))
		err := s.NewLease("job-"+holder, storage.LeaseOptions{Owner: "me", Alive: isAlive}).Acquire(ctx)
		if dead[holder] && err != nil {
			t.Errorf("a dead holder's job was not taken over: %v", err)
		}
		if !dead[holder] && !errors.Is(err, storage.ErrLeaseHeld) {
			t.Errorf("a live holder's job was taken: %v", err)
		}
	}
}

// The default dead-owner check: a pid of this host that does not exist is
// dead; this process, other hosts and other formats may be alive.
func TestLease_DefaultOwnerCheck(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "t.db"), castTable)
	ctx := context.Background()
	host, _, _ := strings.Cut(storage.ProcessOwner(), ":")
	for owner, takeover := range map[string]bool{
		host + ":999999999":    true, // no such process
		storage.ProcessOwner(): false,
		"elsewhere.example:1":  false,
		"not an owner":         false,
		host + ":1":            false, // init is alive
	} {
		job := "job " + owner
		must(t, s.NewLease(job, storage.LeaseOptions{Owner: owner}).Acquire(ctx))
		err := s.NewLease(job, storage.LeaseOptions{Owner: "successor"}).Acquire(ctx)
		if takeover != (err == nil) {
			t.Errorf("holder %q: takeover %v, want %v (err %v)", owner, err == nil, takeover, err)
		}
	}
}

// Keep renews the claim while the owner works; when the claim is lost, it
// says so once and stops, and Release waits for its goroutine.
func TestLease_KeepRenewsAndReportsLoss(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "t.db"), castTable)
	ctx := context.Background()
	clock := &fakeNow{t: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)}
	a := s.NewLease("job", storage.LeaseOptions{TTL: 30 * time.Millisecond, Owner: "a", Now: clock.now, Alive: alive})
	must(t, a.Acquire(ctx))
	lost := make(chan error, 2)
	a.Keep(func(err error) { lost <- err })

	b := s.NewLease("job", storage.LeaseOptions{TTL: time.Hour, Owner: "b", Now: clock.now, Alive: alive})
	// Renewals every 10ms keep the claim 30ms ahead of the clock, which
	// moves 1ms per 5ms here: b never finds it expired, although the
	// clock moves on twice the TTL.
	for i := 0; i < 60; i++ {
		clock.add(time.Millisecond)
		time.Sleep(5 * time.Millisecond)
		if err := b.Acquire(ctx); err == nil {
			t.Fatal("b took a lease that was being kept")
		}
	}
	clock.add(time.Minute) // a stalls for a minute: its claim lapses
	must(t, b.Acquire(ctx))
	select {
	case err := <-lost:
		if !errors.Is(err, storage.ErrLeaseHeld) {
			t.Errorf("lost: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Keep did not report the lost lease")
	}
	must(t, a.Release())
	if len(lost) != 0 {
		t.Errorf("loss reported twice: %v", <-lost)
	}
}
