package frontier

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/gather-crawler/gather/storage"
)

// reconciler brings the frontier back in line with the database after
// Redis restarted under the sink, on a goroutine of the sink's (so that a
// full queue, which the sink empties, never blocks it): the crawl's
// binding again, the seeded mark taken down (no process takes the crawl
// for over while it runs), then what `gather seed --resume` does, or the
// run's seeding for a scheduled run (Run).
type reconciler struct {
	r    *Redis
	st   *storage.Store
	opts SinkOptions
	log  *slog.Logger
	dbID string

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
		err := c.r.untilUp(ctx, func(ctx context.Context) error {
			if err := c.once(ctx); err != nil {
				return err
			}
			return c.r.reconciled(ctx, c.st)
		})
		if err != nil {
			return // ctx ended
		}
		c.pending.Store(false)
	}
}

func (c *reconciler) once(ctx context.Context) error {
	if err := c.r.Bind(ctx, c.dbID, c.st.Path()); err != nil {
		return err
	}
	c.r.rdb.Del(ctx, c.r.keys.seeded)
	if c.opts.reconcile != nil {
		return c.opts.reconcile(ctx)
	}
	sum, err := c.r.resume(ctx, c.opts.Crawler, c.st)
	if err == nil {
		c.log.Info("the frontier is reconciled with the database", "summary", sum.String())
	}
	return err
}
