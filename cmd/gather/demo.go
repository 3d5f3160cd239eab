package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gather-crawler/gather"
	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/output"
	"github.com/gather-crawler/gather/storage"
)

type demoFlags struct {
	n           int
	latency     time.Duration
	jitter      time.Duration
	parallelism int
	db          string
	layout      string
	cfgFile     string
	resume      bool
	addr        string
	faults      string
	robots      int
	challenge   bool
	tokenTTL    time.Duration
}

func newDemoCmd(g *globals) *cobra.Command {
	f := &demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo [--n 450] [--latency 300ms]",
		Short: "Crawl the built-in demo site on 127.0.0.1 into demo.db; needs no network",
		Long: `demo starts gather's built-in site of synthetic movie full-credits pages on a
free port of 127.0.0.1, crawls --n of them with the items of config.yaml
(examples/imdb-classic.yaml with --layout classic), writes demo.db, prints the
summary and a few rows, and checks every row against the site's ground truth.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd.Context(), g, f, cmd.OutOrStdout()) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.n, "n", 450, "number of movie pages to crawl")
	fl.DurationVar(&f.latency, "latency", 300*time.Millisecond, "latency of every page")
	fl.DurationVar(&f.jitter, "jitter", 0, "vary the latency by up to ± this much")
	fl.IntVar(&f.parallelism, "parallelism", 16, "requests in flight")
	fl.StringVar(&f.db, "db", "demo.db", "SQLite file to write")
	fl.StringVar(&f.layout, "layout", "nextdata", "page layout: nextdata (today's IMDB), classic (tables) or spa (rendered by script, crawled with fetch: browser; needs Chromium)")
	fl.StringVarP(&f.cfgFile, "config", "c", "", "config whose items to use (default ./config.yaml, else the built-in copy)")
	fl.BoolVar(&f.resume, "resume", false, "keep an existing demo database and fetch only what it lacks (needs a fixed --addr)")
	fl.StringVar(&f.addr, "addr", "127.0.0.1:0", "address of the demo site (port 0: a free one)")
	fl.StringVar(&f.faults, "faults", "", "inject faults, e.g. 500=0.1,429=0.05,reset=0.02 (see docs/fetch-policy.md)")
	fl.IntVar(&f.robots, "robots-status", 0, "answer robots.txt with this HTTP status (e.g. 503)")
	fl.BoolVar(&f.challenge, "challenge", false, "gate the site behind a JavaScript challenge in the manner of AWS WAF, crawled with fetch: auto (needs Chromium)")
	fl.DurationVar(&f.tokenTTL, "token-ttl", 5*time.Minute, "with --challenge: how long a solved token is honoured")
	return cmd
}

func runDemo(ctx context.Context, g *globals, f *demoFlags, out io.Writer) error {
	if f.n < 1 {
		return usagef("--n must be at least 1")
	}
	if f.parallelism < 1 {
		return usagef("--parallelism must be at least 1")
	}
	if f.resume && strings.HasSuffix(f.addr, ":0") {
		return usagef("--resume needs a fixed --addr (e.g. 127.0.0.1:8450): pages are known by URL, and a free port changes every run")
	}
	opts := demo.Options{Latency: f.latency, Jitter: f.jitter, RobotsStatus: f.robots}
	if f.challenge {
		opts.Challenge = &demo.Challenge{TokenTTL: f.tokenTTL}
	}
	if f.faults != "" {
		rates, err := demo.ParseFaults(f.faults)
		if err != nil {
			return usagef("--faults: %v", err)
		}
		opts.Fault = demo.RandomFaults(rates)
	}
	cfg, err := demoConfig(f)
	if err != nil {
		return err
	}
	if !f.resume {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(cfg.Database + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove old %s: %w", cfg.Database+suffix, err)
			}
		}
		// The last demo's archive goes with its database.
		if err := os.RemoveAll(cfg.ArchiveDir()); err != nil {
			return fmt.Errorf("remove old %s: %w", cfg.ArchiveDir(), err)
		}
	}

	srv, err := demo.New(opts).Start(f.addr)
	if err != nil {
		return err
	}
	defer srv.Close()
	idsFile, err := writeIDs(f.n)
	if err != nil {
		return err
	}
	defer os.Remove(idsFile)
	tmpl := demo.PageURL(srv.URL, "{id}")
	switch f.layout {
	case "classic":
		tmpl = demo.ClassicURL(srv.URL, "{id}")
	case "spa":
		tmpl = demo.SpaURL(srv.URL, "{id}")
	}
	cfg.Crawl.Start = config.Start{URLTemplate: tmpl, IDsFile: idsFile}
	cfg.Crawl.AllowedDomains = nil
	if err := cfg.Validate(); err != nil {
		return err
	}
	fmt.Fprintf(out, "demo site on %s: %d pages (%s layout) at %s latency, parallelism %d\n", srv.URL, f.n, f.layout, f.latency, f.parallelism)
	sum, err := runCrawl(ctx, g, cfg, crawler.Options{}, out)
	if err != nil {
		return err
	}
	seq := time.Duration(f.n) * f.latency
	fmt.Fprintf(out, "a sequential crawl would have needed about %s (%d × %s); this one took %s, %.1f× faster\n",
		seq.Round(100*time.Millisecond), f.n, f.latency, sum.Elapsed.Round(10*time.Millisecond), seq.Seconds()/sum.Elapsed.Seconds())
	return demoReport(ctx, out, cfg, f)
}

// demoConfig takes the items of config.yaml (or the classic example) and
// points the crawl at the demo site.
func demoConfig(f *demoFlags) (*config.Config, error) {
	var cfg *config.Config
	var err error
	switch {
	case f.cfgFile != "":
		cfg, err = config.Load(f.cfgFile)
	case f.layout == "classic":
		if _, serr := os.Stat(filepath.Join("examples", "imdb-classic.yaml")); serr == nil {
			cfg, err = config.Load(filepath.Join("examples", "imdb-classic.yaml"))
		} else {
			cfg, err = config.Parse("examples/imdb-classic.yaml (built in)", gather.ClassicConfig, os.LookupEnv)
		}
	case f.layout == "nextdata" || f.layout == "spa":
		if _, serr := os.Stat(configPath("")); serr == nil {
			cfg, err = config.Load(configPath(""))
		} else {
			cfg, err = config.Parse("config.yaml (built in)", gather.DefaultConfig, os.LookupEnv)
		}
	default:
		return nil, usagef("--layout: %q is not nextdata, classic or spa", f.layout)
	}
	if err != nil {
		return nil, err
	}
	if err := config.CheckDatabasePath(f.db); err != nil {
		return nil, usagef("--db: %v", err)
	}
	cfg.Database = f.db
	cfg.Crawl.Name = "demo"
	cfg.Crawl.Parallelism = f.parallelism
	cfg.Crawl.Delay, cfg.Crawl.RandomDelay = 0, 0
	cfg.Crawl.RefreshAfter = 0
	// The spa layout has its data only once its script ran; a challenge
	// needs a browser once per host, then HTTP does.
	switch {
	case f.layout == "spa":
		cfg.Crawl.Fetch = config.FetchBrowser
		if cfg.Crawl.Browser.WaitFor == "" {
			cfg.Crawl.Browser.WaitFor = "script#__NEXT_DATA__"
		}
	case f.challenge:
		cfg.Crawl.Fetch = config.FetchAuto
	default:
		// The open site never challenges: auto would start a Chromium
		// for nothing (and want one installed).
		cfg.Crawl.Fetch = config.FetchHTTP
	}
	return cfg, nil
}

func writeIDs(n int) (string, error) {
	f, err := os.CreateTemp("", "gather-demo-ids-*.txt")
	if err != nil {
		return "", err
	}
	if err := errors.Join(demo.WriteIDs(f, 1, n), f.Close()); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// demoReport prints a few rows and checks the database against the site's
// ground truth, table by table.
func demoReport(ctx context.Context, out io.Writer, cfg *config.Config, f *demoFlags) error {
	r, err := storage.OpenReader(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer r.Close()
	db := r.DB()
	for _, q := range []string{
		"SELECT movie_id, title, year FROM movies ORDER BY movie_id LIMIT 3",
		"SELECT movie_id, person_id, name, character FROM cast ORDER BY movie_id, _index LIMIT 3",
		"SELECT movie_id, section, name, credit FROM crew ORDER BY movie_id, _index LIMIT 3",
	} {
		if err := printRows(ctx, out, db, q); err != nil {
			return err
		}
	}
	report, err := demo.Verify(ctx, db, f.n, f.layout == "classic")
	if err != nil {
		return err
	}
	fmt.Fprintln(out, report)
	fmt.Fprintf(out, "query it: go run ./cmd/gather query --db %s \"SELECT name, count(*) FROM cast GROUP BY person_id ORDER BY 2 DESC LIMIT 5\"\n", cfg.Database)
	return nil
}

func printRows(ctx context.Context, out io.Writer, db *sql.DB, q string) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	fmt.Fprintf(out, "\n> %s\n", q)
	if _, err := output.Write(out, output.Table, rows); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	fmt.Fprintln(out)
	return nil
}
