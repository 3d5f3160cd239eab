package frontier

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// A Redis that restarted may have gone back in time: restored from its
// last RDB snapshot, the writes since are lost, outcomes handed to the
// sink among them, while the queue entries they answered come back
// leased to the workers that fetched them. A worker that kept renewing
// those would hold them forever and the run would never end. So every
// process notes the server's run_id (new at each start): a worker that
// sees it change stops renewing the entries whose outcome it had handed
// over (they are taken over after the lease, and fetched again unless the
// sink stores them first), and the sink reconciles the frontier with the
// database as `gather seed --resume` does (sink.go).

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

// restarted reports whether Redis restarted since it was last asked (the
// first call notes the server and reports false).
func (r *Redis) restarted(ctx context.Context) (bool, error) {
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

// checkRestart is a worker's look for a restart: the outcomes it handed
// over may be lost with it, so their entries are no longer renewed.
func (r *Redis) checkRestart(ctx context.Context) error {
	again, err := r.restarted(ctx)
	if err != nil || !again {
		return err
	}
	r.mu.Lock()
	n := len(r.handed)
	for id := range r.handed {
		delete(r.held, id)
	}
	clear(r.handed)
	// A restored queue may hold entries this worker fetched long ago:
	// look at every lease again.
	r.claimCursor = "0-0"
	r.mu.Unlock()
	r.log.Warn("the frontier restarted (Redis may have lost its last writes); the outcomes handed over before are no longer vouched for: their pages are fetched again after the lease unless the sink stored them",
		"outcomes", n, "lease", r.opts.LeaseTTL)
	// No sink to reconcile it? Looked at once a sink would have beaten
	// again (sinkbeat.go).
	r.mu.Lock()
	r.restartSeen = time.Now()
	r.mu.Unlock()
	return nil
}
