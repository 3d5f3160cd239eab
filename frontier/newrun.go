package frontier

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
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
// is continued instead. Seeding must follow (scaleout.SeedRun): until it
// is done no worker or sink takes the crawl for over.
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
