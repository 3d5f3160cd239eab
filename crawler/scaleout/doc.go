// Package scaleout runs the parts of a crawl scaled out over many
// processes that are not workers: the seeding (Seed: start URLs,
// sitemaps, and with --resume what the database stored), the sink (Sink:
// the crawl's one writer, which stores the workers' outcomes as a run of
// the database, with its lease and its record in gather_runs) and a
// scheduled run (Run: a new run in the frontier, seeded from the database
// as a local run decides what is due, then stored).
//
// The workers are crawler.Crawler.Work over the frontier; the frontier
// (package frontier) is Redis and nothing else: it knows no crawl and no
// database, only the URLs, leases, host slots and outcomes they exchange.
// This package is where the config's crawl (crawler.Crawler), the
// database (storage.Store) and the frontier meet.
package scaleout
