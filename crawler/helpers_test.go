package crawler_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
	"github.com/gather-crawler/gather/crawler"
	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/storage"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}

// shippedItems returns the items section of the shipped config.yaml, so the
// tests crawl with exactly what users get.
func shippedItems(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\nitems:")
	j := strings.Index(s, "\nschedule:")
	if i < 0 || j < i {
		t.Fatal("config.yaml has no items section")
	}
	return s[i+1 : j+1]
}

// startSite serves a demo site on addr ("" for 127.0.0.1:0) until the test
// ends.
func startSite(t testing.TB, addr string, opts demo.Options) *demo.Server {
	t.Helper()
	srv, err := demo.New(opts).Start(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// writeIDs writes ids first..last to a file and returns its path.
func writeIDs(t testing.TB, first, last int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# ids for a test\n\n")
	for i := first; i <= last; i++ {
		fmt.Fprintf(&b, "%s\n", demo.ID(i))
	}
	p := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testConfig parses a config whose crawl section is given, with the
// shipped items, writing into a database in a temp dir.
func testConfig(t testing.TB, crawlYAML string) *config.Config {
	t.Helper()
	return testConfigWithItems(t, crawlYAML, shippedItems(t))
}

// crawl runs one crawl of cfg to completion, with a deadline so that a
// deadlock fails the test instead of hanging it.
func crawl(t testing.TB, cfg *config.Config, opts crawler.Options) (crawler.Summary, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := storage.Open(ctx, cfg.Database, storage.TablesFor(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := crawler.New(cfg, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := c.Run(ctx)
	if ctx.Err() != nil {
		t.Fatalf("crawl did not finish within its deadline: %v", sum)
	}
	return sum, err
}

func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryInt(t testing.TB, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func queryString(t testing.TB, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

func classicItems(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "imdb-classic.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return s[strings.Index(s, "\nitems:")+1:]
}

func testConfigWithItems(t testing.TB, crawlYAML, items string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	doc := "database: " + filepath.Join(dir, "test.db") + "\n" + crawlYAML + "\n" + items
	path := filepath.Join(dir, "test.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", doc, err)
	}
	return cfg
}
