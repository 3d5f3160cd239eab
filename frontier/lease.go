package frontier

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/storage"
)

// seenKey is what the seen set holds for a URL: 10 bytes of its SHA-256,
// so a seen URL costs the same whatever its length (a collision among
// 10⁹ URLs has odds of about 4·10⁻⁷).
func seenKey(u string) string {
	h := sha256.Sum256([]byte(u))
	return string(h[:10])
}

// addScript adds each URL not seen before to the queue, then (ARGV[2] not
// empty) hands an outcome to the sink: links and outcome in one round
// trip and one atomic step, links first. ARGV: queue entry, payload, then
// (hash, url, depth) triples. Returns {how many URLs were new, the
// outcome's id in the results stream ("" if none was handed over)}.
//
// A task whose queue entry (ARGV[1], when not empty) is gone adds nothing
// and hands nothing over: the sink deletes an entry once an outcome for
// it is stored, so another fetch of the page (its lease taken over while
// this worker was stalled) was stored already, links and all, or the run
// is over; if instead Redis lost the entry, the sink's reconciling queues
// the page again from the database. A late outcome then never waits in
// the results stream for a sink that is gone, nor adds links to the next
// run.
var addScript = redis.NewScript(`
if ARGV[1] ~= '' and #redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1]) == 0 then
  return {0, ''}
end
local added = 0
for i = 3, #ARGV, 3 do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    redis.call('XADD', KEYS[2], '*', 'u', ARGV[i+1], 'd', ARGV[i+2])
    added = added + 1
  end
end
local handed = ''
if ARGV[2] ~= '' then
  handed = redis.call('XADD', KEYS[3], '*', 'q', ARGV[1], 'p', ARGV[2])
end
return {added, handed}
`)

// renewScript resets the idle time of the entries that are still this
// consumer's (ARGV[1]); an entry another worker claimed is left to it.
// Returns the entries renewed.
var renewScript = redis.NewScript(`
local out = {}
for i = 2, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], 'workers', ARGV[i], ARGV[i], 1)
  if #p == 1 and p[1][2] == ARGV[1] then
    redis.call('XCLAIM', KEYS[1], 'workers', ARGV[1], 0, ARGV[i], 'JUSTID')
    table.insert(out, ARGV[i])
  end
end
return out
`)

// add runs addScript over links in chunks, the outcome with the last, and
// returns the outcome's id in the results stream ("" if it was not
// handed over).
func (r *Redis) add(ctx context.Context, links []crawler.Link, entry, payload string) (added int64, handed string, err error) {
	const chunk = 500
	for first := true; first || len(links) > 0; first = false {
		n := min(chunk, len(links))
		args := make([]any, 0, 2+3*n)
		if n == len(links) {
			args = append(args, entry, payload)
		} else {
			args = append(args, entry, "")
		}
		for _, l := range links[:n] {
			args = append(args, seenKey(l.URL), l.URL, l.Depth)
		}
		links = links[n:]
		res, err := addScript.Run(ctx, r.rdb, []string{r.keys.seen, r.keys.queue, r.keys.results}, args...).Slice()
		var newURLs int64
		var id string
		if err == nil {
			ok := len(res) == 2
			if ok {
				newURLs, ok = res[0].(int64)
			}
			if ok {
				id, ok = res[1].(string)
			}
			if !ok {
				err = fmt.Errorf("unexpected answer %v", res)
			}
		}
		if err != nil {
			return added, "", fmt.Errorf("frontier %s: %w", r.addr, err)
		}
		added += newURLs
		handed = id
	}
	return added, handed, nil
}

// Lease returns up to n URLs: first those of dead workers (idle past the
// lease time), then new ones, waiting a quarter of a second for some (the
// caller checks whether the crawl is over in between).
func (r *Redis) Lease(ctx context.Context, n int) ([]crawler.Task, error) {
	r.startRenewing()
	r.mu.Lock()
	noted := r.runID != ""
	r.mu.Unlock()
	if !noted {
		// The server is noted before anything is leased from it, so
		// that any restart after is seen (restart.go).
		if _, err := r.Restarted(ctx); err != nil {
			return nil, err
		}
	}
	var tasks []crawler.Task
	r.mu.Lock()
	claim := time.Since(r.lastClaim) > r.opts.LeaseTTL/4
	cursor := r.claimCursor
	r.mu.Unlock()
	if claim {
		msgs, next, err := r.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: r.keys.queue, Group: workersGroup,
			Consumer: r.opts.Consumer, MinIdle: r.opts.LeaseTTL, Start: cursor, Count: int64(n)}).Result()
		if isNoGroup(err) {
			return nil, r.ensureGroups(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("frontier %s: reclaim: %w", r.addr, err)
		}
		r.mu.Lock()
		r.claimCursor = next
		if next == "0-0" {
			// The whole list of leases was looked at: wait a while.
			r.lastClaim = time.Now()
		}
		r.mu.Unlock()
		if len(msgs) > 0 {
			r.log.Info("leases of a worker that stopped renewing them taken over", "urls", len(msgs))
		}
		tasks = r.taskOf(tasks, msgs)
	}
	if len(tasks) < n {
		block := 250 * time.Millisecond
		if len(tasks) > 0 {
			block = -1 // no wait: there is work already
		}
		streams, err := r.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: workersGroup, Consumer: r.opts.Consumer,
			Streams: []string{r.keys.queue, ">"}, Count: int64(n - len(tasks)), Block: block}).Result()
		switch {
		case errors.Is(err, redis.Nil):
		case isNoGroup(err):
			if err := r.ensureGroups(ctx); err != nil {
				return tasks, err
			}
		case err != nil:
			if len(tasks) > 0 {
				break // those are leased already; the next call reports it
			}
			return nil, fmt.Errorf("frontier %s: lease: %w", r.addr, err)
		default:
			for _, s := range streams {
				tasks = r.taskOf(tasks, s.Messages)
			}
		}
	}
	return tasks, nil
}

// taskOf adds the messages' tasks to tasks and to what this worker holds.
func (r *Redis) taskOf(tasks []crawler.Task, msgs []redis.XMessage) []crawler.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		u, _ := m.Values["u"].(string)
		if u == "" {
			continue // deleted under its lease: nothing to fetch
		}
		d, _ := strconv.Atoi(fmt.Sprint(m.Values["d"]))
		tasks = append(tasks, crawler.Task{ID: m.ID, URL: u, Depth: d})
		r.held[m.ID] = struct{}{}
	}
	return tasks
}

// startRenewing starts, once, the goroutine that renews this worker's
// leases every third of the lease time, and tells status how it goes.
func (r *Redis) startRenewing() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return
	}
	r.started = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.opts.LeaseTTL / 3)
		defer t.Stop()
		// The first report goes at once: gather status shows the worker
		// from its first lease, not a third of the lease later.
		for first := true; ; first = false {
			if !first {
				select {
				case <-r.stop:
					r.rdb.HDel(context.Background(), r.keys.workers, r.opts.Consumer)
					return
				case <-t.C:
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), r.opts.LeaseTTL/3)
			// A restart is looked for first: the entries whose outcome a
			// restart lost are not renewed (restart.go).
			if err := errors.Join(r.checkRestart(ctx), r.renewSlots(ctx), r.renew(ctx)); err != nil {
				r.outage.down(err)
			} else {
				r.outage.up()
				r.markUnreconciled(ctx)
			}
			cancel()
		}
	}()
}

// renew renews the leases still held, and forgets those the sink stored.
func (r *Redis) renew(ctx context.Context) error {
	r.mu.Lock()
	ids := make([]any, 0, len(r.held)+1)
	ids = append(ids, r.opts.Consumer)
	for id := range r.held {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	outages, waited := r.outage.stats()
	hb, _ := json.Marshal(heartbeat{Pages: r.finished.Load(), Since: r.since.UTC(), At: time.Now().UTC(),
		Outages: outages, WaitedMS: waited.Milliseconds(), Late: r.late.Load()})
	if err := r.rdb.HSet(ctx, r.keys.workers, r.opts.Consumer, hb).Err(); err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	const chunk = 1000
	for i := 1; i < len(ids); i += chunk {
		part := append([]any{r.opts.Consumer}, ids[i:min(i+chunk, len(ids))]...)
		kept, err := renewScript.Run(ctx, r.rdb, []string{r.keys.queue}, part...).StringSlice()
		if err != nil {
			return fmt.Errorf("frontier %s: renew: %w", r.addr, err)
		}
		still := make(map[string]bool, len(kept))
		for _, id := range kept {
			still[id] = true
		}
		r.mu.Lock()
		for _, id := range part[1:] {
			if !still[id.(string)] {
				delete(r.held, id.(string))
				delete(r.handed, id.(string))
			}
		}
		r.mu.Unlock()
	}
	return nil
}

// heartbeat is what a worker says of itself in the workers hash.
type heartbeat struct {
	Pages int64     `json:"pages"`
	Since time.Time `json:"since"`
	At    time.Time `json:"at"`
	// Outages counts the times the worker could not reach Redis, WaitedMS
	// the time it waited for it; Late the outcomes it handed over late
	// (late.go).
	Outages  int64 `json:"outages,omitempty"`
	WaitedMS int64 `json:"waited_ms,omitempty"`
	Late     int64 `json:"late,omitempty"`
}

// Finish adds links to the frontier and hands the task's outcome to the
// sink, in one step. The lease stays held (and renewed) until the sink has
// stored the outcome.
func (r *Redis) Finish(ctx context.Context, t crawler.Task, page storage.Page, links []crawler.Link) error {
	payload, err := encodeResult(page, links)
	if err != nil {
		return err
	}
	_, handed, err := r.add(ctx, links, t.ID, string(payload))
	if err != nil {
		return err
	}
	r.mu.Lock()
	if handed != "" {
		r.handed[t.ID] = handed
	} else {
		delete(r.held, t.ID)
	}
	r.mu.Unlock()
	if handed == "" {
		return fmt.Errorf("frontier %s: %s: %w", r.addr, page.URL, crawler.ErrLeaseGone)
	}
	r.finished.Add(1)
	return nil
}

// Drop acknowledges a task that needs no outcome.
func (r *Redis) Drop(ctx context.Context, t crawler.Task) error {
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, r.keys.queue, workersGroup, t.ID)
		p.XDel(ctx, r.keys.queue, t.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	r.mu.Lock()
	delete(r.held, t.ID)
	delete(r.handed, t.ID)
	r.mu.Unlock()
	return nil
}

// Held is how many leases this worker holds (fetching, or waiting for the
// sink to store the outcome).
func (r *Redis) Held() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.held)
}
