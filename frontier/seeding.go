package frontier

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// What seeding writes: the queue, the seen set, the seeded mark, and the
// records of sitemaps on their way to the sink. Which URLs go where is
// decided by the seeding itself (package scaleout), from the config and
// the database.

// Prepare creates the frontier's streams and their groups when missing (a
// new crawl, or Redis lost its data). Seeding calls it first.
func (r *Redis) Prepare(ctx context.Context) error { return r.ensureGroups(ctx) }

// Enqueue waits while the queue is full (Options.MaxQueued), then queues
// the links not seen before, and returns how many it queued.
func (r *Redis) Enqueue(ctx context.Context, links []crawler.Link) (added int64, err error) {
	for {
		n, err := r.rdb.XLen(ctx, r.keys.queue).Result()
		if err != nil {
			return 0, fmt.Errorf("frontier %s: %w", r.addr, err)
		}
		if n < r.opts.MaxQueued {
			break
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return 0, ctx.Err()
		}
	}
	added, _, err = r.add(ctx, links, "", "")
	return added, err
}

// Add queues links not seen before, without waiting for room.
func (r *Redis) Add(ctx context.Context, links []crawler.Link) error {
	if err := r.ensureGroups(ctx); err != nil {
		return err
	}
	_, _, err := r.add(ctx, links, "", "")
	return err
}

// Force queues links whether seen or not: pages a sitemap says changed
// since they were stored, which a new run marked seen as not due.
func (r *Redis) Force(ctx context.Context, links []crawler.Link) error {
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, l := range links {
			p.XAdd(ctx, &redis.XAddArgs{Stream: r.keys.queue, Values: []any{"u", l.URL, "d", l.Depth}})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	return nil
}

// MarkSeen marks URLs seen, so that none is queued (pages stored, or not
// due), not even as a link a worker finds.
func (r *Redis) MarkSeen(ctx context.Context, urls []string) error {
	if len(urls) == 0 {
		return nil
	}
	members := make([]any, len(urls))
	for i, u := range urls {
		members[i] = seenKey(u)
	}
	if err := r.rdb.SAdd(ctx, r.keys.seen, members...).Err(); err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	return nil
}

// MarkSeeded says seeding is done: once nothing is queued or waiting, the
// crawl (or its run) is over.
func (r *Redis) MarkSeeded(ctx context.Context) error {
	if err := r.rdb.Set(ctx, r.keys.seeded, time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	return nil
}

// Record hands the sink a page no worker fetched (a sitemap's record, as
// a local run stores it): it has no queue entry, so no lease to end.
func (r *Redis) Record(ctx context.Context, p storage.Page) error {
	payload, err := encodeResult(p, nil)
	if err != nil {
		return err
	}
	if err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: r.keys.results, Values: []any{"q", "", "p", string(payload)}}).Err(); err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	return nil
}

// Job is the crawl's name, whose keys the frontier holds.
func (r *Redis) Job() string { return r.opts.Job }

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
