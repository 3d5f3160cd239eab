package scaleout

import (
	"context"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/frontier"
	"github.com/gather-crawler/gather/storage"
)

// A run of a shared crawl (gather schedule, gather sink --new-run) begins
// in the frontier (frontier.Redis.NewRun: the seen set of a run that is
// over is forgotten) and is seeded from the database as a local run
// decides what to fetch, before anything is queued.

// SeedRun seeds a run of the crawl from what st, the crawl's database,
// holds, as a local run decides what to fetch (crawler.Crawler.Due):
// first every page that is not due is marked seen, then the followed
// links that are due (not stored, stale under refresh_after, failed and
// past their back-off, or of older items) are queued, then the start URLs
// and sitemaps, which are queued unless seen. It marks seeding done.
func SeedRun(ctx context.Context, fr *frontier.Redis, c *crawler.Crawler, st *storage.Store) (SeedSummary, error) {
	var sum SeedSummary
	if err := fr.Prepare(ctx); err != nil {
		return sum, err
	}
	if err := checkStore(ctx, fr, st); err != nil {
		return sum, err
	}
	job := fr.Job()
	// Pass one: what is not due is seen. Nothing is queued yet, so no
	// worker can meet such a page as a link before it is marked.
	err := eachKnown(ctx, st, job, func(pages []storage.KnownPage) error {
		var seen []string
		for _, p := range pages {
			if !fetchAgain(c, p) {
				seen = append(seen, p.URL)
			}
		}
		sum.NotDue += int64(len(seen))
		return fr.MarkSeen(ctx, seen)
	})
	if err != nil {
		return sum, err
	}
	// Pass two: the followed links that are due.
	err = eachKnown(ctx, st, job, func(pages []storage.KnownPage) error {
		var links []crawler.Link
		for _, p := range pages {
			if p.Depth > 0 && fetchAgain(c, p) {
				links = append(links, crawler.Link{URL: p.URL, Depth: p.Depth})
			}
		}
		if len(links) == 0 {
			return nil
		}
		return seedBatch(ctx, fr, links, &sum)
	})
	if err != nil {
		return sum, err
	}
	if err := seedStart(ctx, fr, c, &sum); err != nil {
		return sum, err
	}
	if err := seedSitemaps(ctx, fr, c, st, &sum); err != nil {
		return sum, err
	}
	return sum, fr.MarkSeeded(ctx)
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
func eachKnown(ctx context.Context, st *storage.Store, job string, fn func([]storage.KnownPage) error) error {
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
// frontier (frontier.Redis.NewRun), seeds it from the database (SeedRun) and stores the
// workers' outcomes until it is drained, recorded in gather_runs as a
// local run is. The summary's Seed says what was queued.
func Run(ctx context.Context, fr *frontier.Redis, c *crawler.Crawler, st *storage.Store, opts SinkOptions) (SinkSummary, error) {
	var seed SeedSummary
	log := opts.Logger
	opts.begin = func(ctx context.Context) error {
		n, fresh, err := fr.NewRun(ctx)
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
		seed, err = SeedRun(ctx, fr, c, st)
		if err == nil && log != nil {
			log.Info("seeded", "summary", seed.String())
		}
		return err
	}
	opts.reconcile = func(ctx context.Context) error {
		again, err := SeedRun(ctx, fr, c, st)
		if err == nil && log != nil {
			log.Info("the frontier is reconciled with the database", "summary", again.String())
		}
		return err
	}
	sum, err := Sink(ctx, fr, st, opts)
	sum.Seed = seed
	return sum, err
}
