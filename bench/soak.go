package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/storage"
)

// Readers a soak can run beside the crawl.
const (
	// SoakNoReader crawls alone.
	SoakNoReader = "none"
	// SoakCount runs `SELECT count(*) FROM cast` back to back through the
	// read-only connection `gather query` uses: a reader that always holds
	// a snapshot, each for as long as one count takes.
	SoakCount = "count"
	// SoakLong runs statements that stream slowly, each holding its
	// snapshot for SoakJob.LongFor: a `gather query` piped to a slow
	// consumer.
	SoakLong = "long"
)

// SoakJob is a long crawl of tiny demo pages spread over many hosts, with
// the database's files watched throughout: what issue 13 saw grow without
// bound. The database (soak-PAGES-READER.db in Dir) is deleted at the end.
type SoakJob struct {
	Pages int
	// Hosts is the number of demo sites, each on an address of its own
	// (127.0.0.1, 127.0.0.2, …); the pages are dealt among them in turn.
	Hosts       int
	Parallelism int // per host, as crawl.parallelism is
	Dir         string
	Reader      string // SoakNoReader, SoakCount or SoakLong
	// LongFor is how long each SoakLong statement holds its snapshot
	// (default 5s).
	LongFor time.Duration
	// Sample is how often the files are measured (default 50ms).
	Sample time.Duration
	// Log, if set, hears the crawl's warnings.
	Log io.Writer
}

// SoakResult is what a soak measured. Sizes are in bytes.
type SoakResult struct {
	Pages       int
	Reader      string
	Seconds     float64
	PagesPerSec float64
	// CPUMsPerPage is the process's CPU time per page stored: the crawl,
	// the demo sites and the reader. It moves far less with the machine's
	// load than pages/s does.
	CPUMsPerPage float64
	// PeakWAL is the largest -wal file seen during the crawl; WALAfter
	// its size once the store is closed (0 also when the file is gone).
	PeakWAL, WALAfter int64
	// DB is the database file at the end of the crawl, before the store
	// closes; DBAfter after.
	DB, DBAfter int64
	// Reads counts the reader's statements that completed, SlowestRead
	// the longest of them in seconds.
	Reads       int64
	SlowestRead float64
	// Truncated and Busy count the writer's checkpoints that emptied the
	// WAL and those a reader kept from it; CheckpointWait is the time the
	// writer spent in them, in seconds (from its log).
	Truncated, Busy int64
	CheckpointWait  float64
}

// walLog passes the crawl's warnings on and keeps the figures of the
// writer's "WAL checkpoints" record.
type walLog struct {
	slog.Handler
	mu  *sync.Mutex
	res *SoakResult
}

func (h walLog) Enabled(context.Context, slog.Level) bool { return true }

func (h walLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "WAL checkpoints" {
		h.mu.Lock()
		defer h.mu.Unlock()
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "truncated":
				h.res.Truncated = a.Value.Int64()
			case "busy":
				h.res.Busy = a.Value.Int64()
			case "waited":
				h.res.CheckpointWait = a.Value.Duration().Seconds()
			}
			return true
		})
	}
	if r.Level < slog.LevelWarn {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h walLog) WithAttrs(as []slog.Attr) slog.Handler {
	return walLog{Handler: h.Handler.WithAttrs(as), mu: h.mu, res: h.res}
}

func (h walLog) WithGroup(name string) slog.Handler {
	return walLog{Handler: h.Handler.WithGroup(name), mu: h.mu, res: h.res}
}

// soakSites starts one demo site per host on 127.0.0.1, 127.0.0.2, …
// (the whole of 127/8 is loopback on Linux); where an address cannot be
// bound it falls back to another port of 127.0.0.1, which the crawler
// also treats as a host of its own.
func soakSites(n int) (bases []string, closeAll func(), err error) {
	var sites []*demo.Server
	closeAll = func() {
		for _, s := range sites {
			s.Close()
		}
	}
	for i := 0; i < n; i++ {
		site := demo.New(demo.Options{Cache: true})
		s, err := site.Start(fmt.Sprintf("127.0.0.%d:0", 1+i%254))
		if err != nil {
			s, err = site.Start("127.0.0.1:0")
		}
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		sites = append(sites, s)
		bases = append(bases, s.URL)
	}
	return bases, closeAll, nil
}

// Soak runs the job: the crawl, the reader beside it, and a sampler of
// the database's files.
func Soak(ctx context.Context, j SoakJob) (SoakResult, error) {
	res := SoakResult{Pages: j.Pages, Reader: j.Reader}
	if j.Dir == "" || j.Pages < 1 || j.Hosts < 1 {
		return res, errors.New("soak: needs a directory, pages and hosts")
	}
	if j.Reader == "" {
		j.Reader, res.Reader = SoakNoReader, SoakNoReader
	}
	if j.Reader != SoakNoReader && j.Reader != SoakCount && j.Reader != SoakLong {
		return res, fmt.Errorf("soak: unknown reader %q", j.Reader)
	}
	if j.Parallelism < 1 {
		j.Parallelism = 4
	}
	if j.LongFor <= 0 {
		j.LongFor = 5 * time.Second
	}
	if j.Sample <= 0 {
		j.Sample = 50 * time.Millisecond
	}
	if err := os.MkdirAll(j.Dir, 0o755); err != nil {
		return res, err
	}
	// A soak leaves hundreds of megabytes for the kernel to write back:
	// measured alternately, each run slowed down the next one.
	flushDisks()
	bases, closeSites, err := soakSites(j.Hosts)
	if err != nil {
		return res, err
	}
	defer closeSites()
	urls := make([]string, j.Pages)
	for i := range urls {
		urls[i] = bases[i%len(bases)] + "/tiny/title/" + demo.ID(i+1) + "/fullcredits"
	}

	cfg, err := ShippedConfig()
	if err != nil {
		return res, err
	}
	db := filepath.Join(j.Dir, fmt.Sprintf("soak-%d-%s.db", j.Pages, j.Reader))
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(db + s)
	}
	cfg.Database = db
	cfg.Crawl.Name = "soak"
	cfg.Crawl.Parallelism = j.Parallelism
	cfg.Crawl.Start = config.Start{URLs: urls}
	cfg.Crawl.AllowedDomains = nil
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	store, err := storage.Open(ctx, db, crawler.Tables(cfg))
	if err != nil {
		return res, err
	}
	closed := false
	defer func() {
		if !closed {
			store.Close()
		}
	}()
	logOut := j.Log
	if logOut == nil {
		logOut = io.Discard
	}
	var logMu sync.Mutex
	var ckpt SoakResult
	log := slog.New(walLog{Handler: slog.NewTextHandler(logOut, nil), mu: &logMu, res: &ckpt})
	c, err := crawler.New(cfg, store, crawler.Options{Logger: log})
	if err != nil {
		return res, err
	}

	// The reader stays open until the store has closed, as a `gather
	// query` between statements would, so that WALAfter shows whether the
	// store empties the WAL when SQLite's own clean-up cannot.
	var r *storage.Reader
	if j.Reader != SoakNoReader {
		if r, err = storage.OpenReader(ctx, db); err != nil {
			return res, err
		}
		defer func() {
			if r != nil {
				r.Close()
			}
		}()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var peakWAL atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(j.Sample)
		defer t.Stop()
		for {
			if st, err := os.Stat(db + "-wal"); err == nil && st.Size() > peakWAL.Load() {
				peakWAL.Store(st.Size())
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	var readErr error
	var slowest atomic.Int64
	if r != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			readErr = soakRead(ctx, r, j, stop, &res.Reads, &slowest)
		}()
	}

	start, cpu := time.Now(), processCPU()
	sum, err := c.Run(ctx)
	res.Seconds = time.Since(start).Seconds()
	res.PagesPerSec = float64(sum.Counts.PagesOK) / res.Seconds
	if sum.Counts.PagesOK > 0 {
		res.CPUMsPerPage = float64((processCPU() - cpu).Microseconds()) / 1000 / float64(sum.Counts.PagesOK)
	}
	close(stop)
	wg.Wait()
	res.PeakWAL = peakWAL.Load()
	logMu.Lock()
	res.Truncated, res.Busy, res.CheckpointWait = ckpt.Truncated, ckpt.Busy, ckpt.CheckpointWait
	logMu.Unlock()
	res.SlowestRead = time.Duration(slowest.Load()).Seconds()
	if st, serr := os.Stat(db); serr == nil {
		res.DB = st.Size()
	}
	if err == nil && sum.Counts.PagesOK != int64(j.Pages) {
		err = fmt.Errorf("soak stored %d of %d pages", sum.Counts.PagesOK, j.Pages)
	}
	closed = true
	err = errors.Join(err, readErr, store.Close())
	if st, serr := os.Stat(db + "-wal"); serr == nil {
		res.WALAfter = st.Size()
	}
	if st, serr := os.Stat(db); serr == nil {
		res.DBAfter = st.Size()
	}
	if r != nil {
		err = errors.Join(err, r.Close())
		r = nil
	}
	// Deleted, its dirty pages need no writing back during the next run.
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(db + s)
	}
	return res, err
}

// soakRead runs the job's reader until stop is closed.
func soakRead(ctx context.Context, r *storage.Reader, j SoakJob, stop <-chan struct{}, reads *int64, slowest *atomic.Int64) error {
	q := `SELECT count(*) FROM "cast"`
	if j.Reader == SoakLong {
		q = `SELECT _url FROM "cast"`
	}
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		start := time.Now()
		rows, err := r.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("soak reader: %w", err)
		}
	read:
		for rows.Next() {
			if j.Reader != SoakLong {
				continue
			}
			if time.Since(start) >= j.LongFor {
				break
			}
			// A consumer that takes a millisecond a row.
			select {
			case <-stop:
				break read
			case <-time.After(time.Millisecond):
			}
		}
		err = errors.Join(rows.Err(), rows.Close())
		if err != nil {
			return fmt.Errorf("soak reader: %w", err)
		}
		if d := time.Since(start); d.Nanoseconds() > slowest.Load() {
			slowest.Store(d.Nanoseconds())
		}
		atomic.AddInt64(reads, 1)
		// A statement ended by the crawl's end is not a read to count.
		select {
		case <-stop:
			return nil
		default:
		}
	}
}
