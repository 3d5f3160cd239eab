package frontier

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// SeedSummary is what a seeding did.
type SeedSummary struct {
	// Start counts the start URLs read (sitemaps' pages included), Added
	// the URLs that entered the
	// queue (new to the frontier), Stored the pages the database has as ok
	// that --resume marked seen, NotDue the pages the database holds that a
	// new run (SeedRun) marked seen because they are not due.
	Start, Added, Stored, NotDue, Skipped int64
}

func (s SeedSummary) String() string {
	msg := fmt.Sprintf("%d start URLs read, %d queued (the others were in the frontier already)", s.Start, s.Added)
	if s.Stored > 0 {
		msg += fmt.Sprintf(", %d pages stored in the database marked done", s.Stored)
	}
	if s.NotDue > 0 {
		msg += fmt.Sprintf(", %d pages in the database not due yet marked done", s.NotDue)
	}
	if s.Skipped > 0 {
		msg += fmt.Sprintf(", %d ids skipped (see the log)", s.Skipped)
	}
	return msg
}

// Seed queues the crawl's start URLs, each once however often it is
// seeded, holding back while the queue is full (Options.MaxQueued), and
// marks seeding done. With resume (the frontier lost its data; the
// database has what was stored), pages stored ok are marked seen and not
// queued, and followed links the database holds as unfinished are queued
// again; a database the crawl does not belong to (bind.go) is refused.
func (r *Redis) Seed(ctx context.Context, c *crawler.Crawler, resume *storage.Store) (SeedSummary, error) {
	if resume != nil {
		if err := r.CheckStore(ctx, resume); err != nil {
			return SeedSummary{}, err
		}
	}
	return r.resume(ctx, c, resume)
}

// resume is Seed once the database is checked; a nil c queues no start
// URL.
func (r *Redis) resume(ctx context.Context, c *crawler.Crawler, resume *storage.Store) (SeedSummary, error) {
	var sum SeedSummary
	if err := r.ensureGroups(ctx); err != nil {
		return sum, err
	}
	job := r.opts.Job
	if resume != nil {
		var after int64
		for {
			urls, last, err := resume.StoredPages(ctx, job, after, 1000)
			if err != nil {
				return sum, err
			}
			if len(urls) == 0 {
				break
			}
			after = last
			members := make([]any, len(urls))
			for i, u := range urls {
				members[i] = seenKey(u)
			}
			if err := r.rdb.SAdd(ctx, r.keys.seen, members...).Err(); err != nil {
				return sum, fmt.Errorf("frontier %s: %w", r.addr, err)
			}
			sum.Stored += int64(len(urls))
		}
		after = 0
		for {
			pages, last, err := resume.UnfinishedDiscovered(ctx, job, after, 1000, storage.Refetch{})
			if err != nil {
				return sum, err
			}
			if len(pages) == 0 {
				break
			}
			after = last
			links := make([]crawler.Link, len(pages))
			for i, p := range pages {
				links[i] = crawler.Link(p)
			}
			if err := r.seedBatch(ctx, links, &sum); err != nil {
				return sum, err
			}
		}
	}
	if c != nil {
		if err := r.seedStart(ctx, c, &sum); err != nil {
			return sum, err
		}
		if err := r.seedSitemaps(ctx, c, nil, &sum); err != nil {
			return sum, err
		}
	}
	return sum, r.markSeeded(ctx)
}

// seedStart queues the start URLs not seen yet.
func (r *Redis) seedStart(ctx context.Context, c *crawler.Crawler, sum *SeedSummary) error {
	skipped, err := c.StartURLs(ctx, func(urls []string) error {
		sum.Start += int64(len(urls))
		links := make([]crawler.Link, len(urls))
		for i, u := range urls {
			links[i] = crawler.Link{URL: u}
		}
		return r.seedBatch(ctx, links, sum)
	})
	sum.Skipped = skipped
	return err
}

// markSeeded says seeding is done: once nothing is queued or waiting, the
// crawl (or its run) is over.
func (r *Redis) markSeeded(ctx context.Context) error {
	if err := r.rdb.Set(ctx, r.keys.seeded, time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	return nil
}

// seedBatch waits while the queue is full, then adds links.
func (r *Redis) seedBatch(ctx context.Context, links []crawler.Link, sum *SeedSummary) error {
	for {
		n, err := r.rdb.XLen(ctx, r.keys.queue).Result()
		if err != nil {
			return fmt.Errorf("frontier %s: %w", r.addr, err)
		}
		if n < r.opts.MaxQueued {
			break
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
	added, _, err := r.add(ctx, links, "", "")
	sum.Added += added
	return err
}

// Add queues links not seen before, without waiting for room.
func (r *Redis) Add(ctx context.Context, links []crawler.Link) error {
	if err := r.ensureGroups(ctx); err != nil {
		return err
	}
	_, _, err := r.add(ctx, links, "", "")
	return err
}

// seedSitemaps queues the pages the crawl's sitemaps list
// (crawler.Crawler.StartSitemaps), and hands each sitemap's record to the
// sink, as a local run stores it. With st (a new run, SeedRun), a page the
// database knows is decided with its <lastmod> as a local run decides it:
// one changed since it was stored is queued even though pass one marked it
// seen, one a sitemap says is unchanged is marked seen rather than queued.
func (r *Redis) seedSitemaps(ctx context.Context, c *crawler.Crawler, st *storage.Store, sum *SeedSummary) error {
	forced := map[string]bool{}
	record := func(p storage.Page) error {
		payload, err := encodeResult(p, nil)
		if err != nil {
			return err
		}
		// No queue entry: the sink stores it and has no lease to end.
		if err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: r.keys.results, Values: []any{"q", "", "p", string(payload)}}).Err(); err != nil {
			return fmt.Errorf("frontier %s: %w", r.addr, err)
		}
		return nil
	}
	return c.StartSitemaps(ctx, record, func(urls []string, mods []time.Time) error {
		sum.Start += int64(len(urls))
		var states map[string]storage.PageState
		if st != nil {
			var err error
			if states, err = st.PageStates(ctx, r.opts.Job, urls); err != nil {
				return err
			}
		}
		var links, force []crawler.Link
		var seen []any
		for i, u := range urls {
			ps, known := states[u]
			if !known {
				links = append(links, crawler.Link{URL: u})
				continue
			}
			now, before := c.Due(ps, mods[i]), c.Due(ps, time.Time{})
			switch {
			case now && !before && !forced[u]:
				forced[u] = true
				force = append(force, crawler.Link{URL: u})
			case now && before:
				links = append(links, crawler.Link{URL: u})
			case !now && before:
				seen = append(seen, seenKey(u))
			}
		}
		if len(seen) > 0 {
			sum.NotDue += int64(len(seen))
			if err := r.rdb.SAdd(ctx, r.keys.seen, seen...).Err(); err != nil {
				return fmt.Errorf("frontier %s: %w", r.addr, err)
			}
		}
		if len(force) > 0 {
			_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, l := range force {
					p.XAdd(ctx, &redis.XAddArgs{Stream: r.keys.queue, Values: []any{"u", l.URL, "d", 0}})
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("frontier %s: %w", r.addr, err)
			}
			sum.Added += int64(len(force))
		}
		if len(links) == 0 {
			return nil
		}
		return r.seedBatch(ctx, links, sum)
	})
}
