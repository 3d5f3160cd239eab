package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gather-crawler/gather/demo"
	"github.com/gather-crawler/gather/storage"
)

// gather runs a command line in-process and returns its exit code, stdout
// and stderr.
func runGather(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func crawlYAML(base string) string {
	return fmt.Sprintf(`database: out.db
crawl:
  name: cli
  start:
    url_template: "%s/title/{id}/fullcredits"
    ids: [tt0000001, tt0000002, tt0000003]
  parallelism: 2
items:
  movies:
    json_from: "script#__NEXT_DATA__"
    key: [movie_id]
    fields:
      movie_id: {json: props.pageProps.contentData.entityMetadata.id}
      title: {json: props.pageProps.contentData.entityMetadata.titleText.text}
`, base)
}

// Every bad config is refused with exit code 2 and a message naming the
// file and key, before any request is sent and before any database file
// is created.
func TestCrawl_BadConfigSendsNothingAndCreatesNothing(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	good := crawlYAML(srv.URL)
	cases := []struct{ name, old, new, want string }{
		{"bad selector", `json_from: "script#__NEXT_DATA__"`, `json_from: "script[id="`, `items.movies.json_from: invalid selector "script[id="`},
		{"unknown key", "  parallelism: 2\n", "  parallelism: 2\n  paralelism: 2\n", "crawl.paralelism: unknown key"},
		{"parallelism", "  parallelism: 2\n", "  parallelism: 0\n", "crawl.parallelism: must be at least 1"},
		{"bad regex", "      title: {json", "      year: {url: \"(\"}\n      title: {json", "items.movies.fields.year.url: invalid regex"},
		{"bad json path", "titleText.text}", "titleText..text}", "items.movies.fields.title.json: invalid JSON path"},
		{"bad identifier", "      title:", "      Title:", "items.movies.fields.Title: field name"},
		{"key names no field", "key: [movie_id]", "key: [id]", `items.movies.key[0]: "id" names no field`},
		{"non-http", `url_template: "` + srv.URL, `url_template: "file:///tmp`, "crawl.start.url_template: URL"},
		{"nothing to crawl", "    ids: [tt0000001, tt0000002, tt0000003]\n", "", "crawl.start: url_template is set but there are no ids"},
		{"bad duration", "  parallelism: 2\n", "  parallelism: 2\n  timeout: 10\n", "crawl.timeout: duration 10 has no unit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("case does not apply")
			}
			dir := t.TempDir()
			cfg := writeFile(t, dir, "job.yaml", strings.Replace(good, tc.old, tc.new, 1))
			code, _, stderr := runGather(t, "crawl", "-c", cfg)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, cfg+": "+tc.want) {
				t.Errorf("stderr does not name file and key:\nwant %q\n got %s", cfg+": "+tc.want, stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "out.db")); !os.IsNotExist(err) {
				t.Errorf("a database file was created for a bad config")
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("%d requests sent for a bad config", n)
			}
		})
	}
}

func TestCrawl_UsageErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "job.yaml", crawlYAML("http://127.0.0.1:9"))
	for _, args := range [][]string{
		{"crawl", "-c", cfg, "--parallelism", "0"},
		{"crawl", "-c", cfg, "--limit", "-1"},
		{"crawl", "-c", cfg, "--no-such-flag"},
		{"crawl", "-c", filepath.Join(dir, "missing.yaml")},
		{"crawl", "-c", cfg, "--log-format", "xml"},
	} {
		if code, _, stderr := runGather(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2; stderr %s", args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out.db")); !os.IsNotExist(err) {
		t.Errorf("a database file was created by a usage error")
	}
}

func TestCrawl_EndToEnd(t *testing.T) {
	srv, err := demo.New(demo.Options{}).Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "job.yaml", crawlYAML(srv.URL))
	code, stdout, stderr := runGather(t, "crawl", "-c", cfg, "--log-format", "json")
	if code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	if !strings.Contains(stdout, "finished: 3 ok, 0 failed, 0 skipped, 3 items stored") {
		t.Errorf("summary: %s", stdout)
	}
	if !strings.Contains(stderr, `"msg":"crawl ended"`) {
		t.Errorf("no JSON log on stderr: %s", stderr)
	}
	// A second run finds everything stored and fetches nothing.
	code, stdout, _ = runGather(t, "crawl", "-c", cfg)
	if code != exitOK || !strings.Contains(stdout, "0 ok, 0 failed, 0 skipped, 0 items stored, 3 already stored") {
		t.Errorf("second run: exit %d, %s", code, stdout)
	}
	// --db writes elsewhere.
	other := filepath.Join(dir, "other.db")
	if code, _, stderr := runGather(t, "crawl", "-c", cfg, "--db", other); code != exitOK {
		t.Fatalf("--db: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("--db did not write %s", other)
	}
}

// --db reads a path as the config's database key does: an empty one and
// SQLite's in-memory name are usage errors, not a database opened and lost.
func TestDBFlag_RefusesNonFiles(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "job.yaml", crawlYAML("http://127.0.0.1:9"))
	for _, args := range [][]string{
		{"crawl", "-c", cfgPath, "--db", ""},
		{"crawl", "-c", cfgPath, "--db", ":memory:"},
		{"query", "--db", "", "SELECT 1"},
		{"demo", "--db", ":memory:"},
	} {
		code, _, stderr := runGather(t, args...)
		if code != 2 || !strings.Contains(stderr, "--db: ") {
			t.Errorf("%q: exit %d: %s", args, code, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files made: %v", entries)
	}
}

// A crawl of a job that is running elsewhere exits 1 with the lease's
// message alone: no summary of a run that never started.
func TestCrawl_JobRunningElsewhere(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeFile(t, dir, "job.yaml", crawlYAML("http://127.0.0.1:9"))
	ctx := context.Background()
	store, err := storage.Open(ctx, filepath.Join(dir, "out.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	lease := store.NewLease("cli", storage.LeaseOptions{Owner: "elsewhere:42", Alive: func(string) bool { return true }})
	if err := lease.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	code, stdout, stderr := runGather(t, "crawl", "-c", cfgPath)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "job is running elsewhere: elsewhere:42 holds job cli") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

// A crawl in which every request fails is a runtime failure (exit 1), and
// the failures are recorded, not stored as empty results.
func TestCrawl_EveryRequestFailedExitsOne(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("x-amzn-waf-action", "challenge")
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "job.yaml", crawlYAML(srv.URL))
	code, stdout, stderr := runGather(t, "crawl", "-c", cfg)
	if code != exitRuntime {
		t.Fatalf("exit %d, want 1; %s %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "3 failed") || !strings.Contains(stderr, "every request failed") {
		t.Errorf("stdout %s stderr %s", stdout, stderr)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "job.yaml", crawlYAML("https://example.com")+"schedule:\n  cron: \"@every 6h\"\n")
	code, stdout, stderr := runGather(t, "validate", "-c", cfg)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"job.yaml: ok", "job       cli", "template  https://example.com/title/{id}/fullcredits", "ids       3 listed", "item      movies (movie_id, title) key (movie_id)", "next runs"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Count(stdout, "\n          20") != 5 {
		t.Errorf("want five next run times:\n%s", stdout)
	}
	code, _, stderr = runGather(t, "validate", "-c", writeFile(t, dir, "bad.yaml", "crawl: {parallelism: 0}\n"))
	if code != exitUsage || !strings.Contains(stderr, "bad.yaml: crawl.parallelism") {
		t.Errorf("bad config: exit %d, %s", code, stderr)
	}
}

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	for _, layout := range []string{"nextdata", "classic"} {
		db := filepath.Join(dir, layout+".db")
		code, stdout, stderr := runGather(t, "demo", "--n", "25", "--latency", "5ms", "--db", db, "--layout", layout,
			"-c", map[string]string{"nextdata": "../../config.yaml", "classic": "../../examples/imdb-classic.yaml"}[layout])
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", layout, code, stdout, stderr)
		}
		if !strings.Contains(stdout, "verified against the site's ground truth: 25 movies") {
			t.Errorf("%s: %s", layout, stdout)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(db + suffix); err == nil {
				t.Errorf("%s: %s left behind", layout, db+suffix)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runGather(t, "version")
	if code != exitOK || !strings.HasPrefix(stdout, "gather ") {
		t.Errorf("version: %d %q", code, stdout)
	}
}
