package frontier

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// A frontier that cannot be reached (Redis stopped, restarting, frozen)
// is waited for, never blamed on a page: every call that must succeed
// before a page can go on (a host slot, a slot's release) waits with
// back-off until Redis answers or the worker is stopped. The wait is said
// once in the log when it begins and once when it ends, however many
// pages wait, and counted for gather status and /metrics.

// outage tracks the time this process spent unable to reach Redis.
type outage struct {
	log *slog.Logger

	mu    sync.Mutex
	since time.Time // zero: Redis answers
	count int64     // outages begun
	total time.Duration
}

// down notes that a call failed; the first failure of an outage is
// logged.
func (o *outage) down(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.since.IsZero() {
		return
	}
	o.since = time.Now()
	o.count++
	o.log.Warn("the frontier cannot be reached; pages wait for it (none fails for it)", "error", err)
}

// up notes that a call succeeded; the end of an outage is logged.
func (o *outage) up() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.since.IsZero() {
		return
	}
	d := time.Since(o.since)
	o.total += d
	o.since = time.Time{}
	o.log.Info("the frontier answers again", "after", d.Round(time.Millisecond))
}

// stats are the outages begun and the time spent in them, the one under
// way included.
func (o *outage) stats() (int64, time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	total := o.total
	if !o.since.IsZero() {
		total += time.Since(o.since)
	}
	return o.count, total
}

// Outage backoff bounds: a restart takes a second or two, so the first
// retries come quickly; a long outage is polled every few seconds.
const (
	outageRetryMin = 100 * time.Millisecond
	outageRetryMax = 3 * time.Second
)

// UntilUp runs op until it succeeds or ctx ends, waiting with back-off
// while Redis cannot be reached. It returns ctx's error, or nil.
func (r *Redis) UntilUp(ctx context.Context, op func(context.Context) error) error {
	wait := outageRetryMin
	for {
		err := op(ctx)
		if err == nil {
			r.outage.up()
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.outage.down(err)
		if !sleepCtx(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, outageRetryMax)
	}
}
