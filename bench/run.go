package bench

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gather-crawler/gather"
	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/storage"
)

// Modes of a measurement.
const (
	ModeGather = "gather"
	ModePlain  = "plain-colly"
)

// Page layouts of the demo site.
const (
	LayoutNextData = "nextdata" // today's IMDB: the data in __NEXT_DATA__
	LayoutClassic  = "classic"  // the classic tables, read with CSS and XPath
	// LayoutSpa is an empty shell whose script builds the page from a
	// JSON request: only a browser sees the data (fetch: browser).
	LayoutSpa = "spa"
)

// Job is one measured crawl: Pages demo movies from the site at Base.
type Job struct {
	Mode string
	// Layout is the pages' layout: LayoutNextData (also "") crawled with
	// config.yaml, or LayoutClassic with examples/imdb-classic.yaml.
	Layout      string
	Base        string // the demo site's base URL
	Pages       int
	Parallelism int
	Dir         string // where the database and id file go
	// Tiny asks for the site's smallest pages, for memory runs over a
	// million ids where page size is beside the point.
	Tiny bool
	// Fetch is crawl.fetch (empty: the shipped config's); Tabs and
	// RecycleAfter are crawl.browser's (0: the defaults).
	Fetch              string
	Tabs, RecycleAfter int
}

// Result is what a measurement found.
type Result struct {
	Mode        string  `json:"mode"`
	Pages       int     `json:"pages"`
	Parallelism int     `json:"parallelism"`
	Seconds     float64 `json:"seconds"`
	PagesPerSec float64 `json:"pages_per_s"`
	Rows        int64   `json:"rows"`
	// CPUSeconds is the CPU time of the whole process during the run
	// (in a benchmark, the demo site's serving included).
	CPUSeconds float64 `json:"cpu_s,omitempty"`
	PeakRSSMB  float64 `json:"peak_rss_mb,omitempty"`
}

func (j Job) template() string {
	switch {
	case j.Tiny:
		return j.Base + "/tiny/title/{id}/fullcredits"
	case j.Layout == LayoutClassic:
		return demo.ClassicURL(j.Base, "{id}")
	case j.Layout == LayoutSpa:
		return demo.SpaURL(j.Base, "{id}")
	}
	return demo.PageURL(j.Base, "{id}")
}

// Database is the path of the job's database: Run removes it first and
// leaves it behind, so that tests can look at what was stored.
func (j Job) Database() string {
	layout := j.Layout
	if layout == "" {
		layout = LayoutNextData
	}
	return filepath.Join(j.Dir, fmt.Sprintf("%s-%s%s-%d-%d-%d.db", j.Mode, layout, j.Fetch, j.Pages, j.Parallelism, j.Tabs))
}

// Run performs the job and times it, start-up included.
func Run(ctx context.Context, j Job) (Result, error) {
	if j.Dir == "" {
		return Result{}, errors.New("bench: no directory")
	}
	if j.Layout != "" && j.Layout != LayoutNextData && j.Layout != LayoutClassic && j.Layout != LayoutSpa {
		return Result{}, fmt.Errorf("bench: unknown layout %q", j.Layout)
	}
	res := Result{Mode: j.Mode, Pages: j.Pages, Parallelism: j.Parallelism}
	db := j.Database()
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(db + s)
	}
	start, cpu := time.Now(), processCPU()
	var err error
	switch j.Mode {
	case ModeGather:
		res.Rows, err = runGather(ctx, j, db)
	case ModePlain:
		res.Rows, err = runPlain(ctx, j, db)
	default:
		err = fmt.Errorf("bench: unknown mode %q", j.Mode)
	}
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = (processCPU() - cpu).Seconds()
	res.PagesPerSec = float64(j.Pages) / res.Seconds
	return res, err
}

// ShippedConfig is config.yaml as built into the binary.
func ShippedConfig() (*config.Config, error) {
	return config.Parse("config.yaml (built in)", gather.DefaultConfig, func(string) (string, bool) { return "", false })
}

// ClassicConfig is examples/imdb-classic.yaml as built into the binary.
func ClassicConfig() (*config.Config, error) {
	return config.Parse("examples/imdb-classic.yaml (built in)", gather.ClassicConfig, func(string) (string, bool) { return "", false })
}

func runGather(ctx context.Context, j Job, dbPath string) (int64, error) {
	load := ShippedConfig
	if j.Layout == LayoutClassic {
		load = ClassicConfig
	}
	cfg, err := load()
	if err != nil {
		return 0, err
	}
	idsFile := filepath.Join(j.Dir, fmt.Sprintf("ids-%d.txt", j.Pages))
	if err := writeIDFile(idsFile, j.Pages); err != nil {
		return 0, err
	}
	cfg.Database = dbPath
	cfg.Crawl.Name = "bench"
	cfg.Crawl.Parallelism = j.Parallelism
	cfg.Crawl.Start = config.Start{URLTemplate: j.template(), IDsFile: idsFile}
	cfg.Crawl.AllowedDomains = nil
	// The demo site never challenges: unless a job asks for a browser,
	// the shipped fetch: auto would only start a Chromium beside the
	// crawl being measured.
	cfg.Crawl.Fetch = cmp.Or(j.Fetch, config.FetchHTTP)
	// Side by side with plain colly, which keeps nothing of a response:
	// the archive (on by default) is measured on its own, by
	// crawler's BenchmarkArchive.
	cfg.Archive.Enabled = false
	if j.Tabs > 0 {
		cfg.Crawl.Browser.Tabs = j.Tabs
	}
	if j.RecycleAfter > 0 {
		cfg.Crawl.Browser.RecycleAfter = j.RecycleAfter
	}
	if j.Layout == LayoutSpa {
		cfg.Crawl.Browser.WaitFor = "script#__NEXT_DATA__" // the app's last step
	}
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	store, err := storage.Open(ctx, cfg.Database, crawler.Tables(cfg))
	if err != nil {
		return 0, err
	}
	defer store.Close()
	c, err := crawler.New(cfg, store, crawler.Options{})
	if err != nil {
		return 0, err
	}
	sum, err := c.Run(ctx)
	if err == nil && sum.Counts.PagesOK != int64(j.Pages) {
		err = fmt.Errorf("gather stored %d of %d pages", sum.Counts.PagesOK, j.Pages)
	}
	return sum.Counts.Items, err
}

// OpenPlain opens the plain program's database as a careful colly user
// would: WAL, one connection.
func OpenPlain(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

func runPlain(ctx context.Context, j Job, dbPath string) (int64, error) {
	if j.Layout == LayoutSpa {
		return 0, errors.New("bench: plain colly sees no data in the spa layout (it needs a browser)")
	}
	db, err := OpenPlain(dbPath)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	urls := make([]string, j.Pages)
	tmpl := j.template()
	for i := range urls {
		urls[i] = fillID(tmpl, demo.ID(i+1))
	}
	var pages, rows int64
	if j.Layout == LayoutClassic {
		pages, rows, err = (&PlainClassic{Parallelism: j.Parallelism, DB: db}).Run(ctx, urls)
	} else {
		pages, rows, err = (&PlainColly{Parallelism: j.Parallelism, DB: db}).Run(ctx, urls)
	}
	if err == nil && pages != int64(j.Pages) {
		err = fmt.Errorf("plain colly stored %d of %d pages", pages, j.Pages)
	}
	return rows, err
}

func fillID(tmpl, id string) string {
	out := make([]byte, 0, len(tmpl)+len(id))
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] == '{' && len(tmpl) >= i+4 && tmpl[i:i+4] == "{id}" {
			out = append(out, id...)
			i += 3
			continue
		}
		out = append(out, tmpl[i])
	}
	return string(out)
}

func writeIDFile(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(demo.WriteIDs(f, 1, n), f.Close())
}
