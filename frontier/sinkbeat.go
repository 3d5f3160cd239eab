package frontier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Whether a sink runs, and whether the frontier was reconciled since Redis
// last restarted, are said in Redis for every process to see:
//
//   - the sink beats (gather:JOB:sink, a key that expires a lease after
//     its last beat): gather status shows it, or that none runs;
//   - a worker that sees Redis restart (its run_id changed: maybe back in
//     time, maybe empty) while no sink beats cannot reconcile the frontier
//     itself (it has no database): it says so, in the log and in
//     gather:JOB:restarted, which gather status shows, and its pages wait
//     (an empty frontier is never taken for a drained one: the seeded
//     mark went with the data);
//   - the sink, when it starts, reconciles the frontier with the database
//     (as gather seed --resume does) when a worker left that mark, or when
//     the server is not the one the database says the frontier was last
//     reconciled with (recorded by the sink's Consumer.Reconciled): Redis restarted
//     while no sink ran, and nobody saw it. On an intact frontier the
//     reconciling queues nothing (what it would queue is seen already).

// sinkBeat is what the sink says of itself.
type sinkBeat struct {
	Owner    string    `json:"owner"`
	Database string    `json:"database"`
	Run      int64     `json:"run"`
	At       time.Time `json:"at"`
}

// restartMark is what a worker that saw Redis restart with no sink leaves.
type restartMark struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// beat runs the sink's beats, every third of a lease, until ctx ends; then
// the beat is taken down.
func (r *Redis) beat(ctx context.Context, b sinkBeat) {
	t := time.NewTicker(r.opts.LeaseTTL / 3)
	defer t.Stop()
	for {
		b.At = time.Now().UTC()
		raw, _ := json.Marshal(b)
		bctx, cancel := context.WithTimeout(ctx, r.opts.LeaseTTL/3)
		r.rdb.Set(bctx, r.keys.sink, raw, r.opts.LeaseTTL)
		cancel()
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), time.Second)
			r.rdb.Del(dctx, r.keys.sink)
			cancel()
			return
		case <-t.C:
		}
	}
}

// sinkRuns reports whether a sink beats.
func (r *Redis) sinkRuns(ctx context.Context) (bool, error) {
	n, err := r.rdb.Exists(ctx, r.keys.sink).Result()
	return n == 1, err
}

// markUnreconciled is a worker's word that Redis restarted and no sink
// runs to reconcile it, said half a lease after it saw the restart: a
// sink that runs has beaten again by then (its beat may have gone with
// Redis's data).
func (r *Redis) markUnreconciled(ctx context.Context) {
	r.mu.Lock()
	seen := r.restartSeen
	r.mu.Unlock()
	if seen.IsZero() || time.Since(seen) < r.opts.LeaseTTL/2 {
		return
	}
	running, err := r.sinkRuns(ctx)
	if err != nil {
		return
	}
	r.mu.Lock()
	r.restartSeen = time.Time{}
	r.mu.Unlock()
	if running {
		return
	}
	raw, _ := json.Marshal(restartMark{By: r.opts.Consumer, At: time.Now().UTC()})
	if ok, err := r.rdb.SetNX(ctx, r.keys.restarted, raw, 0).Result(); err == nil && ok {
		r.log.Warn("the frontier restarted and no sink runs to reconcile it with the database; pages wait until a sink starts (gather sink)")
	}
}

// unreconciled reads a worker's mark: why the frontier needs reconciling,
// "" if it does not.
func (r *Redis) unreconciled(ctx context.Context) (string, error) {
	raw, err := r.rdb.Get(ctx, r.keys.restarted).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var m restartMark
	json.Unmarshal([]byte(raw), &m)
	return fmt.Sprintf("worker %s saw Redis restart at %s with no sink running", m.By, m.At.Format(time.RFC3339)), nil
}

// Unreconciled is the sink's look, when it starts, for a restart nobody
// reconciled: why the frontier needs reconciling, "" if it does not.
// lastServer is the server the database says the frontier was last
// reconciled with (Consumer.Reconciled recorded it), "" for none.
func (r *Redis) Unreconciled(ctx context.Context, lastServer string) (string, error) {
	why, err := r.unreconciled(ctx)
	if err != nil || why != "" {
		return why, err
	}
	now := r.ServerID()
	if lastServer != "" && lastServer != now {
		return "Redis restarted since the frontier was last reconciled with this database (run_id " + lastServer + ", now " + now + ")", nil
	}
	return "", nil
}

// reconciled records that the frontier is in line with the database: the
// worker's mark goes, and the database notes the server.
func (r *Redis) reconciled(ctx context.Context, c Consumer) error {
	if err := r.rdb.Del(ctx, r.keys.restarted).Err(); err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	return c.Reconciled(ctx, r.ServerID())
}
