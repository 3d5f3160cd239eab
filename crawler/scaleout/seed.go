package scaleout

import (
	"context"
	"fmt"
	"time"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/frontier"
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
// seeded, holding back while the queue is full (frontier.Options.MaxQueued), and
// marks seeding done. With resume (the frontier lost its data; the
// database has what was stored), pages stored ok are marked seen and not
// queued, and followed links the database holds as unfinished are queued
// again; a database the crawl does not belong to (frontier/bind.go) is
// refused.
func Seed(ctx context.Context, fr *frontier.Redis, c *crawler.Crawler, resume *storage.Store) (SeedSummary, error) {
	if resume != nil {
		if err := checkStore(ctx, fr, resume); err != nil {
			return SeedSummary{}, err
		}
	}
	return seedResume(ctx, fr, c, resume)
}

// checkStore is frontier.Redis.CheckDatabase for an open store (seed
// --resume, a new run): it never binds.
func checkStore(ctx context.Context, fr *frontier.Redis, st *storage.Store) error {
	id, err := st.DatabaseID(ctx)
	if err != nil {
		return err
	}
	return fr.CheckDatabase(ctx, id, st.Path())
}

// seedResume is Seed once the database is checked; a nil c queues no
// start URL.
func seedResume(ctx context.Context, fr *frontier.Redis, c *crawler.Crawler, resume *storage.Store) (SeedSummary, error) {
	var sum SeedSummary
	if err := fr.Prepare(ctx); err != nil {
		return sum, err
	}
	job := fr.Job()
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
			if err := fr.MarkSeen(ctx, urls); err != nil {
				return sum, err
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
			if err := seedBatch(ctx, fr, links, &sum); err != nil {
				return sum, err
			}
		}
	}
	if c != nil {
		if err := seedStart(ctx, fr, c, &sum); err != nil {
			return sum, err
		}
		if err := seedSitemaps(ctx, fr, c, nil, &sum); err != nil {
			return sum, err
		}
	}
	return sum, fr.MarkSeeded(ctx)
}

// seedStart queues the start URLs not seen yet.
func seedStart(ctx context.Context, fr *frontier.Redis, c *crawler.Crawler, sum *SeedSummary) error {
	skipped, err := c.StartURLs(ctx, func(urls []string) error {
		sum.Start += int64(len(urls))
		links := make([]crawler.Link, len(urls))
		for i, u := range urls {
			links[i] = crawler.Link{URL: u}
		}
		return seedBatch(ctx, fr, links, sum)
	})
	sum.Skipped = skipped
	return err
}

// seedBatch queues links, waiting while the queue is full.
func seedBatch(ctx context.Context, fr *frontier.Redis, links []crawler.Link, sum *SeedSummary) error {
	added, err := fr.Enqueue(ctx, links)
	sum.Added += added
	return err
}

// seedSitemaps queues the pages the crawl's sitemaps list
// (crawler.Crawler.StartSitemaps), and hands each sitemap's record to the
// sink, as a local run stores it. With st (a new run, SeedRun), a page the
// database knows is decided with its <lastmod> as a local run decides it:
// one changed since it was stored is queued even though pass one marked it
// seen, one a sitemap says is unchanged is marked seen rather than queued.
func seedSitemaps(ctx context.Context, fr *frontier.Redis, c *crawler.Crawler, st *storage.Store, sum *SeedSummary) error {
	forced := map[string]bool{}
	record := func(p storage.Page) error { return fr.Record(ctx, p) }
	return c.StartSitemaps(ctx, record, func(urls []string, mods []time.Time) error {
		sum.Start += int64(len(urls))
		var states map[string]storage.PageState
		if st != nil {
			var err error
			if states, err = st.PageStates(ctx, fr.Job(), urls); err != nil {
				return err
			}
		}
		var links, force []crawler.Link
		var seen []string
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
				seen = append(seen, u)
			}
		}
		if len(seen) > 0 {
			sum.NotDue += int64(len(seen))
			if err := fr.MarkSeen(ctx, seen); err != nil {
				return err
			}
		}
		if len(force) > 0 {
			if err := fr.Force(ctx, force); err != nil {
				return err
			}
			sum.Added += int64(len(force))
		}
		if len(links) == 0 {
			return nil
		}
		return seedBatch(ctx, fr, links, sum)
	})
}
