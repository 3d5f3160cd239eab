package frontier

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Redis that restarted may have gone back in time: restored from its
// last RDB snapshot, the writes since are lost, outcomes handed to the
// sink among them, while the queue entries they answered come back
// leased to the workers that fetched them. A worker that kept renewing
// those would hold them forever and the run would never end. So every
// process notes the server's run_id (new at each start): a worker that
// sees it change stops renewing the entries whose outcome it had handed
// over and the restart lost (they are taken over after the lease, and
// fetched again unless the sink stores them first), and the sink
// reconciles the frontier with the database as `gather seed --resume`
// does (consume.go).

// serverRunID is the Redis server's run_id.
func (r *Redis) serverRunID(ctx context.Context) (string, error) {
	info, err := r.rdb.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("frontier %s: INFO server has no run_id", r.addr)
}

// Restarted reports whether Redis restarted since it was last asked (the
// first call notes the server and reports false).
func (r *Redis) Restarted(ctx context.Context) (bool, error) {
	id, err := r.serverRunID(ctx)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	before := r.runID
	r.runID = id
	return before != "" && before != id, nil
}

// ServerID is the Redis server's run_id as last seen (Restarted), "" before.
func (r *Redis) ServerID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runID
}

// checkRestart is a worker's look for a restart: the outcomes it handed
// over may be lost with it. Each is looked for in the results stream by
// its id: one still there (a clean restart, or written before the
// snapshot) keeps its entry renewed until the sink stores it; one gone
// was lost, or stored (its entry then went with it), and its entry is no
// longer renewed, so that it is fetched again after the lease if it is
// still there. Renewing none of them fetched again, after a clean
// restart, every page whose outcome the sink had not stored within the
// lease.
func (r *Redis) checkRestart(ctx context.Context) error {
	again, err := r.Restarted(ctx)
	if err != nil || !again {
		return err
	}
	r.mu.Lock()
	handed := maps.Clone(r.handed)
	// A restored queue may hold entries this worker fetched long ago:
	// look at every lease again.
	r.claimCursor = "0-0"
	r.mu.Unlock()
	kept := r.outcomesKept(ctx, handed)
	r.mu.Lock()
	for entry := range handed {
		if !kept[entry] {
			delete(r.held, entry)
			delete(r.handed, entry)
		}
	}
	r.mu.Unlock()
	r.log.Warn("the frontier restarted (Redis may have lost its last writes); the outcomes handed over and lost with it are fetched again after the lease, unless the sink stored them",
		"outcomes", len(handed), "still_there", len(kept), "lease", r.opts.LeaseTTL)
	// No sink to reconcile it? Looked at once a sink would have beaten
	// again (sinkbeat.go).
	r.mu.Lock()
	r.restartSeen = time.Now()
	r.mu.Unlock()
	return nil
}

// outcomesKept looks for outcomes (entry → id in the results stream) and
// returns the entries whose outcome is still there; none when Redis does
// not answer (then all are taken for lost).
func (r *Redis) outcomesKept(ctx context.Context, handed map[string]string) map[string]bool {
	kept := map[string]bool{}
	if len(handed) == 0 {
		return kept
	}
	cmds := make(map[string]*redis.XMessageSliceCmd, len(handed))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for entry, id := range handed {
			cmds[entry] = p.XRange(ctx, r.keys.results, id, id)
		}
		return nil
	})
	if err != nil {
		return kept
	}
	for entry, c := range cmds {
		if len(c.Val()) == 1 {
			kept[entry] = true
		}
	}
	return kept
}
