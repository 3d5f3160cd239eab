package frontier

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// reconciler brings the frontier back in line with the database after
// Redis restarted under the sink, on a goroutine of Consume's (so that a
// full queue, which the sink empties, never blocks it): the crawl's
// binding again, the seeded mark taken down (no process takes the crawl
// for over while it runs), then the sink's Consumer.Reconcile (what
// `gather seed --resume` does, or a scheduled run's seeding).
type reconciler struct {
	r   *Redis
	c   Consumer
	log *slog.Logger

	wake    chan struct{}
	pending atomic.Bool // a restart seen and not reconciled yet
}

// restarted asks for a reconciling. The seeded mark goes at once, so that
// the workers do not end on a frontier that only looks drained.
func (c *reconciler) restarted(ctx context.Context) {
	c.restartedBecause(ctx, "the frontier restarted (Redis may have lost its last writes, or all of them)")
}

// restartedBecause is restarted, saying why.
func (c *reconciler) restartedBecause(ctx context.Context, why string) {
	if c.pending.Swap(true) {
		return
	}
	c.log.Warn(why + "; reconciling it with the database, as gather seed --resume does")
	c.r.rdb.Del(ctx, c.r.keys.seeded)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// busy reports a reconciling asked for or under way.
func (c *reconciler) busy() bool { return c.pending.Load() }

// run reconciles each time it is asked, until ctx ends.
func (c *reconciler) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		}
		err := c.r.UntilUp(ctx, func(ctx context.Context) error {
			if err := c.once(ctx); err != nil {
				return err
			}
			return c.r.reconciled(ctx, c.c)
		})
		if err != nil {
			return // ctx ended
		}
		c.pending.Store(false)
	}
}

func (c *reconciler) once(ctx context.Context) error {
	if err := c.r.Bind(ctx, c.c.DatabaseID, c.c.DatabasePath); err != nil {
		return err
	}
	c.r.rdb.Del(ctx, c.r.keys.seeded)
	return c.c.Reconcile(ctx)
}
