// Package crawler runs a crawl: it builds a colly collector in async mode
// with per-host parallelism limits, feeds it start URLs with backpressure,
// decides each page's fate (ok, retry, fail), extracts records and hands
// them to the storage writer. It knows nothing of YAML or the command line.
package crawler

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler/browser"
	"github.com/gather-crawler/gather/crawler/extract"
	"github.com/gather-crawler/gather/crawler/fetch"
	"github.com/gather-crawler/gather/crawler/progress"
	"github.com/gather-crawler/gather/crawler/proxy"
	"github.com/gather-crawler/gather/crawler/refetch"
	"github.com/gather-crawler/gather/internal/version"
	"github.com/gather-crawler/gather/storage"
)

// Version is gather's version, sent in the default User-Agent: what the
// build recorded (see internal/version).
var Version = version.Get().Short()

// Options are the run-time choices that are not part of the config.
type Options struct {
	Logger *slog.Logger
	// Limit stops dispatching after this many pages; 0: no limit.
	Limit int64
	// AllowPrivate permits loopback and private addresses. It is implied
	// when the start URLs themselves are on such addresses.
	AllowPrivate bool
	// Lease tunes the job's lease: while a run holds it no other run of
	// the job starts, in this process or another (zero: 30s, host:pid).
	Lease storage.LeaseOptions
	// BatchOps and BatchDelay tune the writer's transactions (zero: the
	// writer's defaults).
	BatchOps   int
	BatchDelay time.Duration
	// BackoffBase and BackoffCap bound the wait before a retry: attempt n
	// waits a random time up to min(cap, base·2^(n-1)). Defaults: 500ms, 30s.
	BackoffBase, BackoffCap time.Duration
	// Now is the wall clock of what a run records (its start and end, each
	// page's fetched_at) and of refresh_after's staleness; default
	// time.Now. Elapsed times and waits use the real clock.
	Now func() time.Time
	// BrowserFlags are extra Chromium switches for crawl.fetch browser
	// and auto (tests keep it on 127.0.0.1 with host-resolver-rules).
	BrowserFlags map[string]any
	// ProgressEvery is how often a local run records its progress in the
	// database for readers in other processes (gather serve): default
	// DefaultProgressEvery; negative: never.
	ProgressEvery time.Duration
}

// DefaultProgressEvery is Options.ProgressEvery's default.
const DefaultProgressEvery = 2 * time.Second

// Crawler runs one config's crawl against one store. Build it with New; it
// is used for a single Run.
type Crawler struct {
	cfg   *config.Config
	store *storage.Store
	opts  Options
	log   *slog.Logger
	ex    *extract.Extractor
	// det tells challenges and CAPTCHAs.
	det *fetch.Detectors

	allowedHosts []string
	allowPrivate bool
	canon        canonical
	userAgent    string
	// proxies are crawl.proxy's or the environment's (nil: direct).
	proxies *proxy.Pool

	// items is cfg's ItemsHash, for Due.
	items string
	// refetch decides which known pages a run fetches again.
	refetch refetch.Policy

	stats counters
	ran   atomic.Bool
	// live is the run in progress (or done), for Stats.
	live atomic.Pointer[run]
}

// New compiles cfg's rules so that nothing can fail for a config reason
// once the first request is out.
func New(cfg *config.Config, store *storage.Store, opts Options) (*Crawler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ex, err := extract.New(cfg, opts.Logger)
	if err != nil {
		return nil, err
	}
	cr := cfg.Crawl
	// Selectors validated by config: cannot fail here.
	det, err := fetch.NewDetectors(detectorSigns("crawl.challenge", cr.Challenge), detectorSigns("crawl.captcha", cr.Captcha))
	if err != nil {
		return nil, err
	}
	c := &Crawler{cfg: cfg, store: store, opts: opts, ex: ex, det: det, log: opts.Logger, items: cfg.ItemsHash()}
	c.refetch = refetch.Policy{
		RefreshAfter:     cr.RefreshAfter,
		HubRefreshAfter:  cr.HubRefreshAfter,
		RetryFailedAfter: cr.RetryFailedAfter,
		RetryGoneAfter:   cr.RetryGoneAfter,
		RetryFailedRuns:  cr.RetryFailedRuns,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("job", cfg.Crawl.Name)
	hosts := cfg.Crawl.AllowedDomains
	if len(hosts) == 0 {
		hosts = cfg.StartHosts()
	}
	// A copy: the caller's config is not ours to change.
	c.allowedHosts = make([]string, len(hosts))
	for i, h := range hosts {
		c.allowedHosts[i] = strings.ToLower(h)
	}
	c.allowPrivate = opts.AllowPrivate
	for _, h := range cfg.StartHosts() {
		if h == "localhost" || strings.HasSuffix(h, ".localhost") {
			c.allowPrivate = true
		}
		if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil && fetch.IsPrivate(ip) {
			c.allowPrivate = true
		}
	}
	if c.opts.BackoffBase <= 0 {
		c.opts.BackoffBase = fetch.DefaultBackoffBase
	}
	if c.opts.BackoffCap <= 0 {
		c.opts.BackoffCap = fetch.DefaultBackoffCap
	}
	if c.opts.Now == nil {
		c.opts.Now = time.Now
	}
	if c.opts.Lease.Logger == nil {
		c.opts.Lease.Logger = c.log
	}
	if err := c.setUpProxies(); err != nil {
		return nil, err
	}
	c.canon = newCanonical(cfg.Crawl.Canonical)
	c.userAgent = cfg.Crawl.UserAgent
	if c.userAgent == "" {
		c.userAgent = "gather/" + Version
	}
	return c, nil
}

// detectorSigns are crawl.challenge's or crawl.captcha's detectors (key)
// as the fetch chain's signs.
func detectorSigns(key string, ds []config.Detector) fetch.Signs {
	s := fetch.Signs{Key: key}
	for _, d := range ds {
		name, value := config.DetectorHeader(d.Header)
		s.Signs = append(s.Signs, browser.Sign{Status: d.Status, Header: name, Value: value, Selector: d.Selector})
	}
	return s
}

// windowHosts is how many hosts the window is sized for: parallelism is a
// limit per host:port (fetch.HostLimits keys on the request's Host), so
// 50 servers on one address's ports are 50 hosts, not one.
func (c *Crawler) windowHosts() int {
	n := len(c.allowedHosts)
	seen := map[string]bool{}
	for _, o := range c.cfg.StartOrigins() {
		if u, err := url.Parse(o); err == nil {
			seen[u.Host] = true
		}
	}
	return max(1, n, len(seen))
}

// windowSize is how many pages may be in progress at once: enough for
// every host to have its parallelism in flight with as many more queued
// (4×), unless crawl.concurrency caps the process lower.
func (c *Crawler) windowSize() int {
	cr := c.cfg.Crawl
	n := 4 * cr.Parallelism * c.windowHosts()
	if cr.Concurrency > 0 {
		n = min(n, cr.Concurrency)
	}
	return n
}

// Summary is the outcome of a run.
type Summary struct {
	Run    int64
	Status string // storage.RunFinished, RunInterrupted or RunFailed
	Counts storage.RunCounts
	// Already counts the pages stored by earlier runs that this run did
	// not fetch again.
	Already int64
	// Pending counts pages the frontier still holds as pending (a limit
	// or an interrupt stopped the run), NotReached the start URLs the run
	// never read: the next run goes on with both.
	Pending, NotReached int64
	// Deferred are failed pages whose retry back-off across runs has not
	// passed; GivenUp those that failed in retry_failed_runs runs in a row.
	Deferred, GivenUp int64
	Retries           int64
	Bytes             int64
	// Archived counts the exchanges the run wrote to its archive,
	// ArchiveBytes their size on disk, in ArchiveDir ("" : no archive).
	Archived, ArchiveBytes int64
	// Reextracted counts the pages of an earlier version of the items
	// that were extracted again from the archive instead of fetched.
	Reextracted int64
	ArchiveDir  string
	Elapsed     time.Duration
	Err         error // why the run failed or stopped, if it did
	Database    string
	retryRuns   int // crawl.retry_failed_runs, for the summary
	// Warnings are what the run's pages showed to be wrong with the config
	// (a field that matched nowhere, values that did not convert, records
	// sharing a key), one line each.
	Warnings []string
}

// PagesPerSecond is the rate of pages fetched (ok, failed or skipped).
func (s Summary) PagesPerSecond() float64 {
	n := s.Counts.PagesOK + s.Counts.PagesFailed + s.Counts.PagesSkipped
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(n) / s.Elapsed.Seconds()
}

// String is the one-line summary printed at the end of a crawl.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %d %s: %d ok, %d failed, %d skipped, %d items stored",
		s.Run, s.Status, s.Counts.PagesOK, s.Counts.PagesFailed, s.Counts.PagesSkipped, s.Counts.Items)
	if s.Already > 0 {
		fmt.Fprintf(&b, ", %d already stored", s.Already)
	}
	if n := s.Counts.Discovered; n > 0 {
		fmt.Fprintf(&b, ", %d discovered", n)
	}
	if n := s.Pending + s.NotReached; n > 0 {
		fmt.Fprintf(&b, ", %d still to fetch", n)
	}
	if s.Deferred > 0 {
		fmt.Fprintf(&b, ", %d failed before and not due for a retry yet", s.Deferred)
	}
	if s.GivenUp > 0 {
		fmt.Fprintf(&b, ", %d given up on (failed in %d runs)", s.GivenUp, s.retryRuns)
	}
	if n := s.Counts.BrowserPages; n > 0 {
		fmt.Fprintf(&b, ", %d page%s by browser", n, plural(int(n)))
	}
	if n := s.Counts.Challenges; n > 0 {
		fmt.Fprintf(&b, ", %d challenge%s solved", n, plural(int(n)))
	}
	if s.Reextracted > 0 {
		fmt.Fprintf(&b, ", %d re-extracted from the archive", s.Reextracted)
	}
	if s.Archived > 0 {
		fmt.Fprintf(&b, ", %d responses archived (%.1f MB)", s.Archived, float64(s.ArchiveBytes)/(1<<20))
	}
	if s.Counts.PagesOK > 0 {
		fmt.Fprintf(&b, " in %s (%.1f pages/s)", s.Elapsed.Round(time.Millisecond), s.PagesPerSecond())
	} else {
		// A rate of pages that all failed reads as throughput; it is not.
		fmt.Fprintf(&b, " in %s", s.Elapsed.Round(time.Millisecond))
	}
	if n := len(s.Warnings); n > 0 {
		fmt.Fprintf(&b, ", %d warning%s", n, plural(n))
	}
	if s.Err != nil {
		fmt.Fprintf(&b, ": %v", s.Err)
	}
	for _, w := range s.Warnings {
		b.WriteString("\n  warning: " + w)
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ErrAllFailed is returned when a run fetched pages it had not tried
// before and every one of them failed: the crawl could not do its work.
// Pages that failed in an earlier run and fail again do not count: a dead
// link is the site's state, not the crawl's.
var ErrAllFailed = errors.New("every request failed")

// Stats is a snapshot of a running crawl, for progress display.
type Stats = progress.Snapshot

type counters struct {
	startNano                           atomic.Int64
	total                               atomic.Int64
	ok, failed, skipped, already, items atomic.Int64
	inFlight, retries, bytes            atomic.Int64
	dispatched                          atomic.Int64
	// deferred and givenUp count failed pages not tried this run (see
	// run.due); fresh and freshFailed count pages that had not failed in
	// an earlier run, and those of them that failed now.
	deferred, givenUp  atomic.Int64
	fresh, freshFailed atomic.Int64
	browserPages       atomic.Int64
	challenges         atomic.Int64
	// archived and archiveBytes are what the run's archive wrote.
	archived, archiveBytes atomic.Int64
	// reextracted counts pages a run extracted again from the archive.
	reextracted atomic.Int64
}

// Stats returns a snapshot; safe to call from another goroutine while Run
// is going.
func (c *Crawler) Stats() Stats {
	s := &c.stats
	st := Stats{Total: s.total.Load(), OK: s.ok.Load(), Failed: s.failed.Load(), Skipped: s.skipped.Load(),
		Already: s.already.Load(), Deferred: s.deferred.Load() + s.givenUp.Load(), Items: s.items.Load(),
		Retries: s.retries.Load(), Bytes: s.bytes.Load()}
	if r := c.live.Load(); r != nil {
		st.Discovered = r.w.Counts().Discovered
		var hosts map[string]int64
		st.InFlight, hosts = r.tr.InFlight()
		if len(hosts) > 1 {
			st.InFlightHosts = hosts
		}
	}
	if st.Total >= 0 {
		st.Total += st.Discovered
		if l := c.opts.Limit; l > 0 {
			// --limit ends the run after that many fetches: what is left
			// past them is the next run's, not this one's ETA.
			st.Total = min(st.Total, st.Already+st.Deferred+l)
		}
	}
	st.Done = st.OK + st.Failed + st.Skipped + st.Already + st.Deferred
	if t := s.startNano.Load(); t != 0 {
		st.Elapsed = time.Since(time.Unix(0, t))
	}
	return st
}
