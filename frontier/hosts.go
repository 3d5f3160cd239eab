package frontier

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
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

// slotScript: KEYS[1] the host's slots; ARGV limit, token, hold (ms).
// Returns -1 when the slot is taken, else the ms until the next expiry.
var slotScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return -1
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(first[2]) - now)
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
// frees delay from now (at once for 0).
var releaseScript = redis.NewScript(`
if tonumber(ARGV[2]) <= 0 then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
`)

// pollMin and pollMax bound the wait between two tries for a full host's
// slot: short at first, since a slot frees every latency/parallelism.
const (
	pollMin = 2 * time.Millisecond
	pollMax = 40 * time.Millisecond
)

// HostSlot takes one of host's limit slots, waiting for one to free.
func (r *Redis) HostSlot(ctx context.Context, host string, limit int) (func(time.Duration), error) {
	r.startRenewing()
	key := r.keys.hostPrefix + host
	token := r.opts.Consumer + "#" + strconv.FormatInt(r.slotSeq.Add(1), 10)
	holdMS := max(1, r.opts.LeaseTTL.Milliseconds())
	poll := pollMin
	for {
		wait, err := slotScript.Run(ctx, r.rdb, []string{key}, limit, token, holdMS).Int64()
		if err != nil {
			return nil, fmt.Errorf("frontier %s: slot for %s: %w", r.addr, host, err)
		}
		if wait < 0 {
			r.mu.Lock()
			r.slots[token] = key
			r.mu.Unlock()
			break
		}
		d := min(time.Duration(wait)*time.Millisecond, poll)
		d += time.Duration(rand.Int64N(int64(d)/2 + 1))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		poll = min(2*poll, pollMax)
	}
	return func(delay time.Duration) {
		r.mu.Lock()
		delete(r.slots, token)
		r.mu.Unlock()
		// Not the request's context: it may be over, and the slot must
		// still come back (else it waits out its hold).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := releaseScript.Run(ctx, r.rdb, []string{key}, token, delay.Milliseconds()).Err(); err != nil {
			r.log.Warn("a host slot was not given back; it frees when its lease runs out", "host", host, "lease", r.opts.LeaseTTL, "error", err)
		}
	}, nil
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
