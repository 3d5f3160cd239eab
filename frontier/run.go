package frontier

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// A shared crawl runs again (gather schedule) as a local one does: the
// pages that are due under its refresh policy are fetched again, the
// others not. The frontier keeps one seen set per crawl, and a new run
// starts by forgetting it, only once the run before is over: seeding
// done, nothing queued, no outcome waiting. Then no lease and no outcome
// can still refer to the old set, so the workers need not know which run
// they work for, and a new run's keys are the old run's keys. The pages
// the database holds that are not due are marked seen before anything is
// queued, so that a link to one, found by a worker in the new run, is not
// fetched again.

// newRunScript ends the URLs seen of a run that is over (UNLINK: Redis
// frees a large set off its main thread) and counts a new run; a run that
// is not over is continued. Either way the seeded mark goes: the run is
// not over before this seeding is. The hosts a CAPTCHA stopped are
// stopped for a run: a new run tries them again, as a local run does.
// KEYS: queue, results, seeded, seen, run, stats, stopped. Returns {1 if a
// new run began, the run's number}.
var newRunScript = redis.NewScript(`
local fresh = 0
if redis.call('EXISTS', KEYS[3]) == 1 and redis.call('XLEN', KEYS[1]) == 0 and redis.call('XLEN', KEYS[2]) == 0 then
  redis.call('UNLINK', KEYS[4])
  redis.call('DEL', KEYS[7])
  redis.call('HDEL', KEYS[6], 'stored')
  redis.call('INCR', KEYS[5])
  fresh = 1
end
redis.call('DEL', KEYS[3])
local n = tonumber(redis.call('GET', KEYS[5]) or '0')
return {fresh, n}
`)

// NewRun begins the crawl's next run if the last one is over, and returns
// its number (counted from 1 by the runs NewRun began) and whether it is
// new; a run still going (workers busy, or a seeding that did not finish)
// is continued instead. Seeding must follow: until SeedRun is done no
// worker or sink takes the crawl for over.
func (r *Redis) NewRun(ctx context.Context) (run int64, fresh bool, err error) {
	if err := r.ensureGroups(ctx); err != nil {
		return 0, false, err
	}
	k := r.keys
	res, err := newRunScript.Run(ctx, r.rdb, []string{k.queue, k.results, k.seeded, k.seen, k.run, k.stats, k.stopped}).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("frontier %s: new run: %w", r.addr, err)
	}
	return res[1], res[0] == 1, nil
}

// SeedRun seeds a run of the crawl from what st, the crawl's database,
// holds, as a local run decides what to fetch (crawler.Crawler.Due):
// first every page that is not due is marked seen, then the followed
// links that are due (not stored, stale under refresh_after, failed and
// past their back-off, or of older items) are queued, then the start URLs
// and sitemaps, which are queued unless seen. It marks seeding done.
func (r *Redis) SeedRun(ctx context.Context, c *crawler.Crawler, st *storage.Store) (SeedSummary, error) {
	var sum SeedSummary
	if err := r.ensureGroups(ctx); err != nil {
		return sum, err
	}
	if err := r.CheckStore(ctx, st); err != nil {
		return sum, err
	}
	job := r.opts.Job
	// Pass one: what is not due is seen. Nothing is queued yet, so no
	// worker can meet such a page as a link before it is marked.
	err := r.eachKnown(ctx, st, job, func(pages []storage.KnownPage) error {
		members := make([]any, 0, len(pages))
		for _, p := range pages {
			if !fetchAgain(c, p) {
				members = append(members, seenKey(p.URL))
			}
		}
		if len(members) == 0 {
			return nil
		}
		sum.NotDue += int64(len(members))
		if err := r.rdb.SAdd(ctx, r.keys.seen, members...).Err(); err != nil {
			return fmt.Errorf("frontier %s: %w", r.addr, err)
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	// Pass two: the followed links that are due.
	err = r.eachKnown(ctx, st, job, func(pages []storage.KnownPage) error {
		var links []crawler.Link
		for _, p := range pages {
			if p.Depth > 0 && fetchAgain(c, p) {
				links = append(links, crawler.Link{URL: p.URL, Depth: p.Depth})
			}
		}
		if len(links) == 0 {
			return nil
		}
		return r.seedBatch(ctx, links, &sum)
	})
	if err != nil {
		return sum, err
	}
	if err := r.seedStart(ctx, c, &sum); err != nil {
		return sum, err
	}
	if err := r.seedSitemaps(ctx, c, st, &sum); err != nil {
		return sum, err
	}
	return sum, r.markSeeded(ctx)
}

// fetchAgain says whether a new run fetches a page the database knows:
// when it is due, except a followed link that was skipped (robots.txt, a
// rule), which a local run never takes up again from the database (it
// follows pending and failed links only); a start page skipped is tried
// again, as a local run's start list does.
func fetchAgain(c *crawler.Crawler, p storage.KnownPage) bool {
	if p.Depth > 0 && p.Status == storage.PageSkipped {
		return false
	}
	return c.Due(p.PageState, time.Time{})
}

// eachKnown hands fn the job's pages in the database, in batches.
func (r *Redis) eachKnown(ctx context.Context, st *storage.Store, job string, fn func([]storage.KnownPage) error) error {
	var after int64
	for {
		pages, last, err := st.KnownPages(ctx, job, after, 1000)
		if err != nil {
			return err
		}
		if len(pages) == 0 {
			return nil
		}
		after = last
		if err := fn(pages); err != nil {
			return err
		}
	}
}

// Run is one run of a shared crawl, as gather schedule starts it: it
// takes the database's lease for the job, begins the next run in the
// frontier (NewRun), seeds it from the database (SeedRun) and stores the
// workers' outcomes until it is drained, recorded in gather_runs as a
// local run is. The summary's Seed says what was queued.
func (r *Redis) Run(ctx context.Context, c *crawler.Crawler, st *storage.Store, opts SinkOptions) (SinkSummary, error) {
	var seed SeedSummary
	log := opts.Logger
	opts.begin = func(ctx context.Context) error {
		n, fresh, err := r.NewRun(ctx)
		if err != nil {
			return err
		}
		if log != nil {
			if fresh {
				log.Info("a new run of the shared crawl begins", "frontier_run", n)
			} else {
				log.Info("the shared crawl's run was not over: it goes on", "frontier_run", n)
			}
		}
		return nil
	}
	opts.seed = func(ctx context.Context) error {
		var err error
		seed, err = r.SeedRun(ctx, c, st)
		if err == nil && log != nil {
			log.Info("seeded", "summary", seed.String())
		}
		return err
	}
	opts.reconcile = func(ctx context.Context) error {
		again, err := r.SeedRun(ctx, c, st)
		if err == nil && log != nil {
			log.Info("the frontier is reconciled with the database", "summary", again.String())
		}
		return err
	}
	sum, err := r.Sink(ctx, st, opts)
	sum.Seed = seed
	return sum, err
}
