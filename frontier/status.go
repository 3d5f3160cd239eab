package frontier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Status is a snapshot of a shared crawl, from Redis alone.
type Status struct {
	Seeded bool
	// Run is the number of the crawl's current run, counted by NewRun
	// (gather schedule); 0 before the first.
	Run int64
	// Queued are URLs waiting for a worker; Leased those a worker holds
	// (fetching, or its outcome waiting for the sink); Results outcomes
	// waiting for the sink; Stored outcomes the sink stored (an outcome
	// read again after a sink restart counts again); Seen the URLs the
	// crawl has met.
	Queued, Leased, Results, Stored, Seen int64
	// Late are late outcomes waiting for a sink (late.go).
	Late int64
	// OldestLease is the idle time of the longest-unrenewed lease.
	OldestLease time.Duration
	Workers     []WorkerStatus
	// Stopped are the hosts a CAPTCHA stopped for the rest of the run
	// (host → the reason their pages fail with).
	Stopped map[string]string
	// Sink is the sink that runs, as it last beat (nil: none runs);
	// Unreconciled says why the frontier waits for a sink to reconcile it
	// ("" when it does not: sinkbeat.go).
	Sink         *SinkStatus
	Unreconciled string
}

// SinkStatus is the sink of a shared crawl, as it last beat.
type SinkStatus struct {
	Owner, Database string
	// Run is its run in the database's gather_runs; Seen how long ago it
	// last beat.
	Run  int64
	Seen time.Duration
}

// WorkerStatus is one worker, as it last reported itself.
type WorkerStatus struct {
	Name string
	// Leased is what it holds; Pages the outcomes it handed over since it
	// started, Rate their rate; Seen how long ago it last reported;
	// OldestLease the idle time of its oldest lease (0: none).
	Leased      int64
	Pages       int64
	Rate        float64
	Seen        time.Duration
	OldestLease time.Duration
	// Outages counts the times it could not reach Redis, Waited the time
	// its pages waited for Redis then; Late the outcomes it handed over
	// late (their lease gone: late.go).
	Outages, Late int64
	Waited        time.Duration
}

// Status reads the crawl's state.
func (r *Redis) Status(ctx context.Context) (Status, error) {
	var st Status
	var seeded, qlen, rlen, seen, late *redis.IntCmd
	var run, sink *redis.StringCmd
	var stats, workers, stopped *redis.MapStringStringCmd
	var pending *redis.XPendingCmd
	var oldest *redis.XPendingExtCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		seeded = p.Exists(ctx, r.keys.seeded)
		run = p.Get(ctx, r.keys.run)
		qlen = p.XLen(ctx, r.keys.queue)
		rlen = p.XLen(ctx, r.keys.results)
		late = p.XLen(ctx, r.keys.late)
		seen = p.SCard(ctx, r.keys.seen)
		stats = p.HGetAll(ctx, r.keys.stats)
		workers = p.HGetAll(ctx, r.keys.workers)
		stopped = p.HGetAll(ctx, r.keys.stopped)
		sink = p.Get(ctx, r.keys.sink)
		pending = p.XPending(ctx, r.keys.queue, workersGroup)
		oldest = p.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: r.keys.queue, Group: workersGroup, Start: "-", End: "+", Count: 1})
		return nil
	})
	if err != nil && !isNoGroup(err) && !errors.Is(err, redis.Nil) {
		return st, fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	st.Seeded = seeded.Val() == 1
	st.Run, _ = strconv.ParseInt(run.Val(), 10, 64)
	st.Results = rlen.Val()
	st.Late = late.Val()
	st.Seen = seen.Val()
	st.Stored, _ = strconv.ParseInt(stats.Val()["stored"], 10, 64)
	if len(stopped.Val()) > 0 {
		st.Stopped = stopped.Val()
	}
	var b sinkBeat
	if raw := sink.Val(); raw != "" && json.Unmarshal([]byte(raw), &b) == nil {
		st.Sink = &SinkStatus{Owner: b.Owner, Database: b.Database, Run: b.Run, Seen: time.Since(b.At)}
	}
	if st.Unreconciled, err = r.unreconciled(ctx); err != nil {
		return st, fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	perWorker := map[string]int64{}
	if pv := pending.Val(); pv != nil {
		st.Leased = pv.Count
		perWorker = pv.Consumers
	}
	st.Queued = max(0, qlen.Val()-st.Leased)
	// The oldest entry of the list is the longest held, give or take
	// renewals, which reset idle times: a good sign of a stuck lease.
	if o := oldest.Val(); len(o) > 0 {
		st.OldestLease = o[0].Idle
	}
	// Each worker's oldest lease, as the crawl's above: one read per
	// worker holding some, in one round trip.
	ages := map[string]*redis.XPendingExtCmd{}
	if len(perWorker) > 0 {
		_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for name := range perWorker {
				ages[name] = p.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: r.keys.queue, Group: workersGroup, Consumer: name, Start: "-", End: "+", Count: 1})
			}
			return nil
		})
		if err != nil && !isNoGroup(err) && !errors.Is(err, redis.Nil) {
			return st, fmt.Errorf("frontier %s: %w", r.addr, err)
		}
	}
	now := time.Now()
	for name, raw := range workers.Val() {
		var hb heartbeat
		if json.Unmarshal([]byte(raw), &hb) != nil {
			continue
		}
		ws := WorkerStatus{Name: name, Leased: perWorker[name], Pages: hb.Pages, Seen: now.Sub(hb.At),
			Outages: hb.Outages, Late: hb.Late, Waited: time.Duration(hb.WaitedMS) * time.Millisecond}
		if a := ages[name]; a != nil && len(a.Val()) > 0 {
			ws.OldestLease = a.Val()[0].Idle
		}
		if d := hb.At.Sub(hb.Since).Seconds(); d > 0 {
			ws.Rate = float64(hb.Pages) / d
		}
		st.Workers = append(st.Workers, ws)
	}
	sort.Slice(st.Workers, func(i, j int) bool { return st.Workers[i].Name < st.Workers[j].Name })
	return st, nil
}
