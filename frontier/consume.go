package frontier

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// The sink's side of the results stream. The sink (package scaleout) owns
// the database: its lease, the run's record, the writer. The frontier
// owns how the stream is read: what a sink read and did not acknowledge
// is read again (a sink killed mid-batch, Redis restarted), an outcome is
// acknowledged only once its commit is done, a restart under the sink is
// seen and reconciled, and the run is over only when the frontier is
// drained and nothing of that is pending.

// Outcome is a page a worker fetched (or a seeding recorded), read from
// the results stream or the late stream, with the links it found.
type Outcome struct {
	Page  storage.Page
	Links []crawler.Link
}

// Consumer is what Consume hands outcomes to, and how it keeps the
// frontier in line with the database.
type Consumer struct {
	// Batch is how many outcomes are read, handed to Store and
	// acknowledged together (default 256).
	Batch int
	// Retry is the first pause after Redis could not be reached (default
	// 250ms), doubling up to 30 times it.
	Retry time.Duration
	// Now is the clock of a failed page's record (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger

	// Store writes outcomes and returns once they are committed; only
	// then are they acknowledged. An error ends Consume: the database
	// failed.
	Store func(ctx context.Context, outs []Outcome) error
	// StoreLate writes late outcomes (late.go) and returns once they are
	// committed; they then leave the late stream. An error ends Consume.
	StoreLate func(ctx context.Context, outs []Outcome) error
	// Reconcile brings the frontier back in line with the database after
	// Redis restarted under the sink (what gather seed --resume does, or
	// a scheduled run's seeding). It runs with the crawl bound again and
	// its seeded mark down, on a goroutine of Consume's own, so that a
	// full queue, which the sink empties, never blocks it.
	Reconcile func(ctx context.Context) error
	// Reconciled records in the database the server the frontier was
	// last reconciled with (ServerID).
	Reconciled func(ctx context.Context, server string) error
	// DatabaseID and DatabasePath are the crawl's database, bound again
	// at each reconciling (bind.go).
	DatabaseID, DatabasePath string
	// Owner and Run are what the sink's beat says of it (sinkbeat.go):
	// its lease's owner and its run in the database.
	Owner string
	Run   int64
	// Unreconciled, when not "", asks for a reconciling at once and says
	// why (Unreconciled's answer when the sink started).
	Unreconciled string
}

// Consumed counts what Consume read: Results the outcomes, Redelivered
// those read again after a sink stopped before acknowledging them.
type Consumed struct{ Results, Redelivered int64 }

// Consume reads the outcomes the workers hand over and gives them to
// c.Store, first those this sink read before and did not acknowledge,
// then new ones, until the crawl's run is over (drained, Redis did not
// restart since it was last looked at, no reconciling pending) or ctx
// ends. Late outcomes are given to c.StoreLate first, then every second,
// and before it returns. The sink beats while it runs. Redis that cannot
// be reached is waited for.
func (r *Redis) Consume(ctx context.Context, c Consumer) (Consumed, error) {
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.Retry <= 0 {
		c.Retry = 250 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	rc := &reconciler{r: r, c: c, log: c.Logger, wake: make(chan struct{}, 1)}
	if c.Unreconciled != "" {
		rc.restartedBecause(ctx, c.Unreconciled)
	} else if err := r.reconciled(ctx, c); err != nil {
		c.Logger.Warn("the frontier's server could not be noted; a restart while no sink runs may go unseen", "error", err)
	}
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.beat(rctx, sinkBeat{Owner: c.Owner, Database: c.DatabasePath, Run: c.Run})
	}()
	go func() {
		defer wg.Done()
		rc.run(rctx)
	}()
	var sum Consumed
	err := r.consume(ctx, c, &sum, rc)
	stop()
	wg.Wait()
	return sum, err
}

// consume is Consume's loop.
func (r *Redis) consume(ctx context.Context, c Consumer, sum *Consumed, rc *reconciler) error {
	log := c.Logger
	again := true
	wait := c.Retry
	var looked, lateLooked time.Time
	// late stores the late outcomes waiting (late.go): first, then every
	// second, and before the sink ends.
	late := func() error {
		lateLooked = time.Now()
		return r.storeLate(ctx, c) // Redis failing: the next look tries again
	}
	for ctx.Err() == nil {
		if time.Since(lateLooked) > time.Second {
			if err := late(); err != nil {
				return err
			}
		}
		if time.Since(looked) > time.Second {
			// Redis restarted? What this sink read and did not
			// acknowledge may be lost, or back: read it again.
			if restarted, err := r.Restarted(ctx); err == nil {
				looked = time.Now()
				if restarted {
					again = true
					rc.restarted(ctx)
				}
			}
		}
		from, block := ">", time.Second
		if again {
			from, block = "0", -1
		}
		streams, err := r.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: sinkGroup, Consumer: sinkConsumer,
			Streams: []string{r.keys.results, from}, Count: int64(c.Batch), Block: block}).Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		if isNoGroup(err) {
			err = r.ensureGroups(ctx)
		}
		var msgs []redis.XMessage
		if err == nil && len(streams) > 0 {
			msgs = streams[0].Messages
		}
		if err == nil && len(msgs) == 0 {
			if again {
				again = false
				continue
			}
			var drained bool
			if drained, err = r.Drained(ctx); err == nil && drained && r.over(ctx, rc) {
				return late()
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("the frontier cannot be reached; trying again", "in", wait, "error", err)
			if !sleepCtx(ctx, wait) {
				return nil
			}
			wait = min(2*wait, 30*c.Retry)
			// What was read and not acknowledged is read again.
			again = true
			continue
		}
		wait = c.Retry
		if len(msgs) == 0 {
			continue
		}
		if again {
			sum.Redelivered += int64(len(msgs))
		}
		sum.Results += int64(len(msgs))
		unread, err := r.store(ctx, c, msgs)
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		r.acknowledge(ctx, msgs, unread, c.Retry, log)
		if len(msgs) < c.Batch {
			// Caught up: the last outcomes may have ended the crawl, and
			// the next read would wait for nothing.
			if drained, err := r.Drained(ctx); err == nil && drained && r.over(ctx, rc) {
				return late()
			}
		}
	}
	return nil
}

// over confirms a drained frontier: no reconciling under way, and Redis
// did not restart since it was last looked at (a restored snapshot can
// look drained and not be).
func (r *Redis) over(ctx context.Context, rc *reconciler) bool {
	restarted, err := r.Restarted(ctx)
	if err != nil {
		return false
	}
	if restarted {
		rc.restarted(ctx)
		return false
	}
	return !rc.busy()
}

// store reads a batch of outcomes and hands them to c.Store, which
// returns once they are committed. It returns the entries it could not
// read.
func (r *Redis) store(ctx context.Context, c Consumer, msgs []redis.XMessage) (unread map[string]bool, err error) {
	log := c.Logger
	outs := make([]Outcome, 0, len(msgs))
	for _, m := range msgs {
		payload, _ := m.Values["p"].(string)
		entry, _ := m.Values["q"].(string)
		p, links, err := decodeResult([]byte(payload))
		if err != nil {
			// Written by another version of gather? Left leased, the page
			// would be fetched again and again, each time unreadable, and
			// the run would never drain: it is recorded failed instead,
			// with why, and the next run fetches it again.
			failed, ok := r.unreadable(ctx, entry, c.Now(), err)
			if !ok {
				log.Error("an outcome could not be read, nor its URL found; it stays leased", "entry", m.ID, "error", err)
				if unread == nil {
					unread = map[string]bool{}
				}
				unread[m.ID] = true
				continue
			}
			log.Error("an outcome could not be read (written by another version of gather?); its page is recorded failed, for the next run to fetch again",
				"entry", m.ID, "url", failed.URL, "error", err)
			p, links = failed, nil
		}
		outs = append(outs, Outcome{Page: p, Links: links})
	}
	return unread, c.Store(ctx, outs)
}

// unreadable is the failed page an outcome that could not be read stands
// for: its URL and depth are those of the queue entry it answers.
func (r *Redis) unreadable(ctx context.Context, q string, at time.Time, why error) (storage.Page, bool) {
	if q == "" {
		return storage.Page{}, false
	}
	xs, err := r.rdb.XRange(ctx, r.keys.queue, q, q).Result()
	if err != nil || len(xs) != 1 {
		return storage.Page{}, false
	}
	u, _ := xs[0].Values["u"].(string)
	if u == "" {
		return storage.Page{}, false
	}
	depth := 0
	if d, ok := xs[0].Values["d"].(string); ok {
		depth, _ = strconv.Atoi(d)
	}
	return storage.Page{URL: u, Depth: depth, Status: storage.PageFailed, FetchedAt: at,
		Error: "the sink could not read the worker's outcome (another version of gather?): " + why.Error()}, true
}

// acknowledge ends the leases of stored outcomes, trying until Redis
// answers: until then a restarted sink would store them again, which is
// harmless, and the workers keep renewing the leases.
func (r *Redis) acknowledge(ctx context.Context, msgs []redis.XMessage, unread map[string]bool, retry time.Duration, log *slog.Logger) {
	results := make([]string, 0, len(msgs))
	queue := make([]string, 0, len(msgs))
	var stored int64
	for _, m := range msgs {
		results = append(results, m.ID)
		if unread[m.ID] {
			continue
		}
		if q, _ := m.Values["q"].(string); q != "" {
			queue = append(queue, q)
		}
		stored++
	}
	wait := retry
	for {
		_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if len(queue) > 0 {
				p.XAck(ctx, r.keys.queue, workersGroup, queue...)
				p.XDel(ctx, r.keys.queue, queue...)
			}
			p.XAck(ctx, r.keys.results, sinkGroup, results...)
			p.XDel(ctx, r.keys.results, results...)
			p.HIncrBy(ctx, r.keys.stats, "stored", stored)
			return nil
		})
		if err == nil || ctx.Err() != nil {
			return
		}
		log.Warn("stored outcomes not acknowledged yet; trying again", "in", wait, "error", err)
		if !sleepCtx(ctx, wait) {
			return
		}
		wait = min(2*wait, 30*retry)
	}
}
