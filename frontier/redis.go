// Package frontier is the frontier a crawl's workers share when it is
// scaled out: Redis holds the URLs to fetch (a stream with a consumer
// group: every URL leased, acknowledged only once its outcome is stored),
// the set of URLs seen (hashed), the per-host slots that make
// crawl.parallelism hold across workers, and the outcomes on their way to
// the sink, which stores them with storage's one writer.
//
// It is Redis and nothing else: the seeding, the sink and a scheduled run,
// where the crawl and the database meet the frontier, are package
// scaleout's; the workers are crawler.Crawler.Work over it.
//
// Its methods, by who calls them:
//
//   - a worker, through crawler's interfaces (Frontier, HostPauser,
//     HostStopper, LateKeeper): Lease, Finish, Drop, Add, Held, HostSlot,
//     PauseHost, StopHost, Late;
//   - a seeding: Prepare, NewRun, Enqueue, Force, MarkSeen, MarkSeeded,
//     Record;
//   - the sink: Bind, Restarted, Unreconciled, ServerID, UntilUp, and
//     Consume, which reads the results until the run is over;
//   - anyone: Open, Close, Addr, Ping, Job, Binding, CheckDatabase,
//     Drained, Status.
//
// The keys of a job are under gather:JOB: — queue (stream, group
// "workers"), results (stream, group "sink"), seen (set of 10-byte
// hashes), seeded (set when `gather seed` is done), hosts:HOST (sorted
// set of slots by expiry), pause:HOST (a Retry-After), stopped (hosts a
// CAPTCHA stopped), stats and workers (hashes, for status), run (the
// number of the current run, counted by NewRun), database (the database
// the crawl is bound to), late (a stream of outcomes whose lease was
// gone), sink (the sink's beat) and restarted (a worker's mark that Redis
// restarted with no sink to reconcile it).
package frontier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gather-crawler/gather/crawler"
)

// Group names of the two streams.
const (
	workersGroup = "workers"
	sinkGroup    = "sink"
	sinkConsumer = "sink"
)

// Options tune a Redis frontier.
type Options struct {
	// Job is the crawl's name (crawl.name): its keys are under gather:JOB:.
	Job string
	// Consumer names this worker in the consumer group (default host:pid).
	Consumer string
	// LeaseTTL is how long a leased URL stays a worker's without renewal:
	// a dead worker's URLs go to others that long after it died (default
	// 30s). Workers renew every third of it.
	LeaseTTL time.Duration
	// MaxQueued holds seeding back while this many URLs wait in the queue
	// (default 100,000).
	MaxQueued int64
	Logger    *slog.Logger
}

// Redis is a frontier in Redis, for one job. Its methods are safe for
// concurrent use; a worker's renewals run on a goroutine Close waits for.
type Redis struct {
	rdb  *redis.Client
	keys keys
	opts Options
	log  *slog.Logger
	// addr is the URL without its password, for messages.
	addr string

	mu          sync.Mutex
	held        map[string]struct{} // entry IDs leased here, not yet stored by the sink
	slots       map[string]string   // host slots held by requests in flight: token → key
	claimCursor string
	lastClaim   time.Time
	started     bool
	stop        chan struct{}
	wg          sync.WaitGroup

	finished atomic.Int64 // outcomes handed over by this worker
	since    time.Time
	slotSeq  atomic.Int64

	// outage is the time spent waiting for Redis (outage.go).
	outage outage
	// handed are the entries of held whose outcome was handed to the sink
	// (restart.go); runID the Redis server's run_id when last looked at.
	handed map[string]string // entry → its outcome's id in the results stream
	runID  string
	// restartSeen is when this worker saw Redis restart, until it looked
	// for a sink to reconcile it (sinkbeat.go).
	restartSeen time.Time
	late        atomic.Int64 // outcomes handed over late (late.go)
}

type keys struct {
	queue, results, seen, seeded, stats, workers, hostPrefix, run string
	// pausePrefix: a host's Retry-After pause, shared by the workers;
	// stopped: the hosts a CAPTCHA stopped for the rest of the run (a hash,
	// host → the pages' reason); database: the database the crawl belongs
	// to (bind.go).
	pausePrefix, stopped, database string
	// late: outcomes whose lease was gone (a stream), for the sink
	// (late.go); sink: the sink's beat; restarted: a worker's mark that
	// Redis restarted with no sink to reconcile it (sinkbeat.go).
	late, sink, restarted string
}

func keysFor(job string) keys {
	p := "gather:" + job + ":"
	return keys{queue: p + "queue", results: p + "results", seen: p + "seen", seeded: p + "seeded",
		stats: p + "stats", workers: p + "workers", hostPrefix: p + "hosts:", run: p + "run",
		pausePrefix: p + "pause:", stopped: p + "stopped", database: p + "database", late: p + "late", sink: p + "sink", restarted: p + "restarted"}
}

// ErrURL marks a frontier URL that cannot be used.
var ErrURL = errors.New("frontier URL")

// Redact is rawURL without its password, for messages and logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}

// ParseURL checks a frontier URL: redis:// or rediss:// (TLS), a host,
// an optional database number. Its errors never hold the password.
func ParseURL(rawURL string) (*redis.Options, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: does not parse", ErrURL)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("%w %s: scheme must be redis:// or rediss:// (TLS)", ErrURL, u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w %s: no host", ErrURL, u.Redacted())
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		// go-redis's messages quote the URL's parts, never the password,
		// but say it with ours.
		return nil, fmt.Errorf("%w %s: %s", ErrURL, u.Redacted(), strings.ReplaceAll(err.Error(), rawURL, u.Redacted()))
	}
	return opts, nil
}

// driverLog silences go-redis's own log (the standard logger, on stderr):
// every error it logs also comes back to the caller, who says it once, in
// gather's log, with what it does about it.
var driverLog sync.Once

type discardLog struct{}

func (discardLog) Printf(context.Context, string, ...any) {}

// Open connects to the frontier at rawURL for opts.Job. It sends nothing
// yet: a worker started before Redis waits for it.
func Open(rawURL string, opts Options) (*Redis, error) {
	driverLog.Do(func() { redis.SetLogger(discardLog{}) })
	ro, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	ro.MaxRetries = 1
	if opts.Job == "" {
		return nil, errors.New("frontier: no job name")
	}
	if opts.Consumer == "" {
		host, _ := os.Hostname()
		opts.Consumer = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 30 * time.Second
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 100_000
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Redis{rdb: redis.NewClient(ro), keys: keysFor(opts.Job), opts: opts, addr: Redact(rawURL),
		log: log.With("frontier", Redact(rawURL)), held: map[string]struct{}{}, slots: map[string]string{}, claimCursor: "0-0",
		stop: make(chan struct{}), since: time.Now(), handed: map[string]string{}}
	r.outage.log = r.log
	return r, nil
}

// Addr is the frontier's URL without its password.
func (r *Redis) Addr() string { return r.addr }

// Ping checks that Redis answers and is recent enough (streams with
// XAUTOCLAIM: 6.2).
func (r *Redis) Ping(ctx context.Context) error {
	info, err := r.rdb.Info(ctx, "server").Result()
	if err != nil {
		return fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			var major, minor int
			fmt.Sscanf(v, "%d.%d", &major, &minor)
			if major < 6 || major == 6 && minor < 2 {
				return fmt.Errorf("frontier %s: Redis %s is too old: XAUTOCLAIM needs 6.2 or later", r.addr, v)
			}
		}
	}
	return nil
}

// ensureGroups creates the streams and their groups when missing (a new
// crawl, or Redis lost its data).
func (r *Redis) ensureGroups(ctx context.Context) error {
	for _, g := range [][2]string{{r.keys.queue, workersGroup}, {r.keys.results, sinkGroup}} {
		err := r.rdb.XGroupCreateMkStream(ctx, g[0], g[1], "0").Err()
		if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
			return fmt.Errorf("frontier %s: create group %s: %w", r.addr, g[1], err)
		}
	}
	return nil
}

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

// Close stops the renewals and closes the connections. What this worker
// still held is given to others once its leases run out.
func (r *Redis) Close() error {
	r.mu.Lock()
	if r.started {
		close(r.stop)
	}
	r.started = false
	r.mu.Unlock()
	r.wg.Wait()
	return r.rdb.Close()
}

// Drained reports that the crawl is over: seeding is done and every
// URL's outcome is stored (the sink deletes a queue entry once it is).
func (r *Redis) Drained(ctx context.Context) (bool, error) {
	var seeded *redis.IntCmd
	var queued, results *redis.IntCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		seeded = p.Exists(ctx, r.keys.seeded)
		queued = p.XLen(ctx, r.keys.queue)
		results = p.XLen(ctx, r.keys.results)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("frontier %s: %w", r.addr, err)
	}
	return seeded.Val() == 1 && queued.Val() == 0 && results.Val() == 0, nil
}

var _ crawler.Frontier = (*Redis)(nil)
