package frontier

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
)

// Per-host limits across workers: each host has a sorted set of slots,
// scored by when each expires (the server's clock, so machines' clocks
// need not agree). A request takes a slot while fewer than the limit are
// unexpired and holds it until its body is read plus crawl.delay; its
// worker renews it with its leases, so a dead worker's slots come back
// after the lease time, as its URLs do. This keeps any mix of hosts and
// workers fair without assigning hosts to workers, which would need
// rebalancing whenever a worker comes or goes; it costs two round trips
// per request, which the batched leases leave room for.

// slotScript: KEYS[1] the host's slots, KEYS[2] its pause, KEYS[3] the
// stopped hosts; ARGV limit, token, hold (ms), host. Returns {0, 0} when
// the slot is taken, {3, 0} when a CAPTCHA stopped the host, {1, ms}
// while the host is paused (Retry-After) for ms more, else {2, ms until
// the next slot expires}. A token that holds a slot already has it: a
// try that timed out (Redis frozen) may have taken it when Redis thawed,
// and the next try, with the same token, must not find the host full of
// its own slot until the slot expires a lease later.
var slotScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 1 then
  return {3, 0}
end
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then
  return {1, paused}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  return {0, 0}
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return {0, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {2, math.max(1, tonumber(first[2]) - now)}
`)

// pauseScript: KEYS[1] a host's pause; ARGV[1] its length (ms). An earlier
// pause that lasts longer is kept.
var pauseScript = redis.NewScript(`
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', tonumber(ARGV[1]))
end
return 1
`)

// renewSlotsScript: KEYS the hosts' slots; ARGV hold (ms), then a token per
// key. Each slot still there is held for hold from now.
var renewSlotsScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
end
return #KEYS
`)

// releaseScript: KEYS[1] the host's slots; ARGV token, delay (ms). The slot
// frees delay from now (at once for 0): it goes, and a placeholder of
// another name holds its place until then, so that a renewal of the slot
// that arrives after its release (sent before, while Redis was frozen: a
// command that timed out still runs when Redis thaws) finds nothing to
// renew, rather than holding the host's slot for a lease.
var releaseScript = redis.NewScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) <= 0 then
  return 1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), '~' .. ARGV[1])
`)

// pollMin and pollMax bound the wait between two tries for a full host's
// slot: short at first, since a slot frees every latency/parallelism.
const (
	pollMin = 2 * time.Millisecond
	pollMax = 40 * time.Millisecond
)

// HostSlot takes one of host's limit slots, waiting for one to free and
// for the host's pause (PauseHost) to end. A Redis that cannot be reached
// is waited for (outage.go): the page waits, and never fails for it.
func (r *Redis) HostSlot(ctx context.Context, host string, limit int) (func(time.Duration), error) {
	r.startRenewing()
	key := r.keys.hostPrefix + host
	keys := []string{key, r.keys.pausePrefix + host, r.keys.stopped}
	token := r.opts.Consumer + "#" + strconv.FormatInt(r.slotSeq.Add(1), 10)
	holdMS := max(1, r.opts.LeaseTTL.Milliseconds())
	poll := pollMin
	for {
		var res []int64
		err := r.UntilUp(ctx, func(ctx context.Context) error {
			var err error
			res, err = slotScript.Run(ctx, r.rdb, keys, limit, token, holdMS, host).Int64Slice()
			if err == nil && len(res) != 2 {
				err = fmt.Errorf("slot for %s: unexpected answer %v", host, res)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if res[0] == 3 {
			return nil, r.stoppedHost(ctx, host)
		}
		if res[0] == 0 {
			r.mu.Lock()
			r.slots[token] = key
			r.mu.Unlock()
			break
		}
		var d time.Duration
		if res[0] == 1 {
			// Paused: no slot is asked for before the pause ends.
			d = time.Duration(res[1]) * time.Millisecond
		} else {
			d = min(time.Duration(res[1])*time.Millisecond, poll)
			d += time.Duration(rand.Int64N(int64(d)/2 + 1))
			poll = min(2*poll, pollMax)
		}
		if !sleepCtx(ctx, d) {
			return nil, ctx.Err()
		}
	}
	return func(delay time.Duration) {
		r.mu.Lock()
		delete(r.slots, token)
		r.mu.Unlock()
		// Not the request's context: it may be over, and the slot must
		// still come back. Redis down is waited for until the slot would
		// have expired anyway (its hold); until then the host has one
		// slot fewer, across the crawl.
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(holdMS)*time.Millisecond)
		defer cancel()
		err := r.UntilUp(ctx, func(ctx context.Context) error {
			return releaseScript.Run(ctx, r.rdb, []string{key}, token, delay.Milliseconds()).Err()
		})
		if err != nil {
			r.log.Warn("a host slot was not given back; it frees when its lease runs out", "host", host, "lease", r.opts.LeaseTTL, "error", err)
		}
	}, nil
}

// PauseHost holds every worker's requests to host for d (a Retry-After,
// a CAPTCHA's pause): the pause lives beside the host's slots, and
// HostSlot waits for it to end. A longer pause already there is kept.
func (r *Redis) PauseHost(ctx context.Context, host string, d time.Duration) error {
	ms := d.Milliseconds()
	if ms <= 0 {
		return nil
	}
	if err := pauseScript.Run(ctx, r.rdb, []string{r.keys.pausePrefix + host}, ms).Err(); err != nil {
		return fmt.Errorf("frontier %s: pause %s: %w", r.addr, host, err)
	}
	return nil
}

// renewSlots renews the slots of the requests in flight.
func (r *Redis) renewSlots(ctx context.Context) error {
	r.mu.Lock()
	keys := make([]string, 0, len(r.slots))
	args := make([]any, 1, len(r.slots)+1)
	args[0] = r.opts.LeaseTTL.Milliseconds()
	for token, key := range r.slots {
		keys = append(keys, key)
		args = append(args, token)
	}
	r.mu.Unlock()
	if len(keys) == 0 {
		return nil
	}
	if err := renewSlotsScript.Run(ctx, r.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("frontier %s: renew host slots: %w", r.addr, err)
	}
	return nil
}

// StopHost stops host for every worker until the crawl's next run (a
// CAPTCHA, which a person must answer): HostSlot then answers its pages
// with a *crawler.HostStopped carrying why, the first stop's reason.
// Redis down is waited for, up to a lease: until the stop is written the
// request that met the CAPTCHA holds its slot, and the slot would expire
// after a lease anyway.
func (r *Redis) StopHost(ctx context.Context, host, why string) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.LeaseTTL)
	defer cancel()
	return r.UntilUp(ctx, func(ctx context.Context) error {
		return r.rdb.HSetNX(ctx, r.keys.stopped, host, why).Err()
	})
}

// stoppedHost is HostSlot's answer for a host a CAPTCHA stopped.
func (r *Redis) stoppedHost(ctx context.Context, host string) error {
	var why string
	err := r.UntilUp(ctx, func(ctx context.Context) error {
		var err error
		why, err = r.rdb.HGet(ctx, r.keys.stopped, host).Result()
		if errors.Is(err, redis.Nil) {
			// Taken down by a new run between the two calls: say it
			// anyway; the next page asks again.
			why, err = "blocked: captcha (needs a person): host "+host+" paused after a CAPTCHA", nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return &crawler.HostStopped{Why: why}
}
