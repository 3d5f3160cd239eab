package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gather-crawler/gather/config"
)

const validYAML = `database: out.db
crawl:
  name: test
  start:
    url_template: "https://example.com/title/{id}/fullcredits"
    ids: [tt1, tt2]
items:
  movies:
    key: [movie_id]
    fields:
      movie_id: {url: "title/(tt[0-9]+)"}
      title: {css: "h1"}
  cast:
    each: "tr.odd, tr.even"
    key: [movie_id, person_id]
    fields:
      movie_id: {url: "title/(tt[0-9]+)"}
      person_id: {css: "a", attr: href, regex: "nm[0-9]+", required: true}
`

func parse(t *testing.T, doc string, env map[string]string) (*config.Config, error) {
	t.Helper()
	return config.Parse("test.yaml", []byte(doc), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
}

func TestParse_ValidAndDefaults(t *testing.T) {
	cfg, err := parse(t, validYAML, nil)
	if err != nil {
		t.Fatal(err)
	}
	cr := cfg.Crawl
	if cr.Parallelism != 16 || cr.Timeout != 30*time.Second || cr.Retries != 3 || cr.MaxBodySize != 10<<20 || !cr.RobotsTxt || cr.MaxDepth != 1 {
		t.Errorf("defaults not applied: %+v", cr)
	}
	if got := strings.Join(cfg.ItemOrder, ","); got != "movies,cast" {
		t.Errorf("item order %q, want movies,cast (as written)", got)
	}
	if got := strings.Join(cfg.Items["cast"].FieldOrder, ","); got != "movie_id,person_id" {
		t.Errorf("field order %q", got)
	}
	if cfg.Items["cast"].Each.CSS != "tr.odd, tr.even" {
		t.Errorf("each shorthand: %+v", cfg.Items["cast"].Each)
	}
	if cfg.Database != "out.db" {
		t.Errorf("database %q", cfg.Database)
	}
}

func TestParse_DefaultKeyAndName(t *testing.T) {
	doc := strings.Replace(validYAML, "    key: [movie_id, person_id]\n", "", 1)
	doc = strings.Replace(doc, "  name: test\n", "", 1)
	cfg, err := parse(t, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Items["cast"].Key, ","); got != "_url,_index" {
		t.Errorf("default key of an each item = %q, want _url,_index", got)
	}
	if cfg.Crawl.Name != "test" {
		t.Errorf("default name %q, want the file's base name", cfg.Crawl.Name)
	}
}

func TestParse_EnvironmentOverrides(t *testing.T) {
	cfg, err := parse(t, validYAML, map[string]string{
		"GATHER_CRAWL_PARALLELISM":   "32",
		"GATHER_CRAWL_TIMEOUT":       "5s",
		"GATHER_CRAWL_ROBOTS_TXT":    "false",
		"GATHER_CRAWL_START_IDS":     "tt7,tt8,tt9",
		"GATHER_DATABASE":            "env.db",
		"GATHER_CRAWL_MAX_BODY_SIZE": "1MiB",
	})
	if err != nil {
		t.Fatal(err)
	}
	cr := cfg.Crawl
	if cr.Parallelism != 32 || cr.Timeout != 5*time.Second || cr.RobotsTxt || len(cr.Start.IDs) != 3 || cfg.Database != "env.db" || cr.MaxBodySize != 1<<20 {
		t.Errorf("overrides not applied: %+v database %s", cr, cfg.Database)
	}
	_, err = parse(t, validYAML, map[string]string{"GATHER_CRAWL_PARALLELISM": "many"})
	wantProblem(t, err, "crawl.parallelism", "")
}

// A GATHER_ variable that names no key is an error naming the variable,
// not an override ignored in silence.
func TestParseEnviron_UnknownVariable(t *testing.T) {
	cfg, err := config.ParseEnviron("test.yaml", []byte(validYAML), []string{"GATHER_CRAWL_PARALLELISM=3", "GATHER_CONFIG=x.yaml", "HOME=/root"})
	if err != nil || cfg.Crawl.Parallelism != 3 {
		t.Fatalf("a known override: %v, %v", cfg, err)
	}
	_, err = config.ParseEnviron("test.yaml", []byte(validYAML), []string{"GATHER_CRAWL_PARALELISM=3"})
	wantProblem(t, err, "GATHER_CRAWL_PARALELISM", "names no config key (did you mean GATHER_CRAWL_PARALLELISM?)")
	_, err = config.ParseEnviron("test.yaml", []byte(validYAML), []string{"GATHER_NOTHING_LIKE_IT_AT_ALL=1"})
	wantProblem(t, err, "GATHER_NOTHING_LIKE_IT_AT_ALL", "names no config key")
}

func TestLoad_RelativePaths(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ids.txt"), []byte("tt1\n"), 0o644)
	doc := strings.Replace(validYAML, "    ids: [tt1, tt2]\n", "    ids_file: ids.txt\n", 1)
	path := filepath.Join(dir, "job.yaml")
	os.WriteFile(path, []byte(doc), 0o644)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != filepath.Join(dir, "out.db") || cfg.Crawl.Start.IDsFile != filepath.Join(dir, "ids.txt") {
		t.Errorf("paths not relative to the config: %s, %s", cfg.Database, cfg.Crawl.Start.IDsFile)
	}
	if _, err := config.Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// An ids file with nothing to crawl is a config error before any request;
// one that starts with a byte order mark gives its first id without it.
func TestParse_IDsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, c := range []struct{ name, content string }{{"empty.txt", ""}, {"comments.txt", "# ids\n\n   \n# none yet\n"}} {
		path := write(c.name, c.content)
		_, err := parse(t, strings.Replace(validYAML, "    ids: [tt1, tt2]\n", "    ids_file: "+path+"\n", 1), nil)
		wantProblem(t, err, "crawl.start.ids_file", "holds no ids")
	}
	path := write("bom.txt", "\uFEFFtt0137523\ntt0120338\n")
	if _, err := parse(t, strings.Replace(validYAML, "    ids: [tt1, tt2]\n", "    ids_file: "+path+"\n", 1), nil); err != nil {
		t.Fatal(err)
	}
	if id, ok := config.IDOfLine("\uFEFFtt0137523 # Fight Club\r\n"); !ok || id != "tt0137523" {
		t.Errorf("IDOfLine with a BOM: %q, %v", id, ok)
	}
}

// wantProblem checks that err reports a problem at key whose message
// contains msg, and that it is a config error (exit code 2).
func wantProblem(t *testing.T, err error, key, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one at %s", key)
	}
	if !errors.Is(err, config.ErrInvalid) {
		t.Errorf("error does not wrap ErrInvalid: %v", err)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.HasPrefix(line, "test.yaml: "+key+": ") && strings.Contains(line, msg) {
			return
		}
	}
	t.Errorf("want a line %q containing %q, got:\n%v", "test.yaml: "+key+": …", msg, err)
}

func TestParse_Errors(t *testing.T) {
	cases := []struct {
		name, old, new, key, msg string
	}{
		{"unknown key", "  name: test\n", "  name: test\n  paralelism: 4\n", "crawl.paralelism", "unknown key (did you mean parallelism?)"},
		{"unknown field key", "      title: {css: \"h1\"}", "      title: {css: \"h1\", atr: href}", "items.movies.fields.title.atr", "unknown key"},
		{"wrong type", "  name: test\n", "  name: test\n  retries: lots\n", "crawl.retries", "int"},
		{"duration without unit", "  name: test\n", "  name: test\n  timeout: 30\n", "crawl.timeout", "has no unit"},
		{"bad duration", "  name: test\n", "  name: test\n  delay: soon\n", "crawl.delay", "invalid duration"},
		{"bad size", "  name: test\n", "  name: test\n  max_body_size: 10XB\n", "crawl.max_body_size", "invalid size"},
		{"parallelism zero", "  name: test\n", "  name: test\n  parallelism: 0\n", "crawl.parallelism", "at least 1"},
		{"negative concurrency", "  name: test\n", "  name: test\n  concurrency: -2\n", "crawl.concurrency", "must not be negative"},
		{"negative retries", "  name: test\n", "  name: test\n  retries: -1\n", "crawl.retries", "between 0 and 100"},
		{"nothing to crawl", "    url_template: \"https://example.com/title/{id}/fullcredits\"\n    ids: [tt1, tt2]\n", "    urls: []\n", "crawl.start", "nothing to crawl"},
		{"non-http url", "    ids: [tt1, tt2]\n", "    ids: [tt1]\n    urls: [\"ftp://example.com/x\"]\n", "crawl.start.urls[0]", "http:// or https://"},
		{"template without id", "{id}/fullcredits", "x/fullcredits", "crawl.start.url_template", "does not contain {id}"},
		{"missing ids file", "    ids: [tt1, tt2]\n", "    ids_file: /nonexistent/ids.txt\n", "crawl.start.ids_file", "cannot read"},
		{"start host not allowed", "  name: test\n", "  name: test\n  allowed_domains: [other.com]\n", "crawl.allowed_domains", "example.com"},
		{"accept-encoding header", "  name: test\n", "  name: test\n  headers: {Accept-Encoding: br}\n", "crawl.headers.accept-encoding", "remove this header"},
		{"follow without depth", "  name: test\n", "  name: test\n  follow: [{css: a.next}]\n", "crawl.max_depth", "never used"},
		{"depth without follow", "  name: test\n", "  name: test\n  max_depth: 3\n", "crawl.follow", "no follow rules"},
		{"bad follow regex", "  name: test\n", "  name: test\n  max_depth: 2\n  follow: [{css: a, match: \"(\"}]\n", "crawl.follow[0].match", "invalid regex"},
		{"bad css", `title: {css: "h1"}`, `title: {css: "td["}`, "items.movies.fields.title.css", `invalid selector "td["`},
		{"bad xpath", `title: {css: "h1"}`, `title: {xpath: "//a["}`, "items.movies.fields.title.xpath", "invalid XPath"},
		{"bad regex", `title: {css: "h1"}`, `title: {css: "h1", regex: "(["}`, "items.movies.fields.title.regex", "invalid regex"},
		{"bad url regex", `movie_id: {url: "title/(tt[0-9]+)"}` + "\n      title", `movie_id: {url: "title/(tt[0-9]+"}` + "\n      title", "items.movies.fields.movie_id.url", "invalid regex"},
		{"bad json path", `title: {css: "h1"}`, `title: {json: "props..title"}`, "items.movies.fields.title.json", "invalid JSON path"},
		{"unbalanced json path", `title: {css: "h1"}`, `title: {json: "a.#(id==\"cast\""}`, "items.movies.fields.title.json", "unclosed"},
		{"two sources", `title: {css: "h1"}`, `title: {css: "h1", json: "a.b"}`, "items.movies.fields.title", "two sources (css and json)"},
		{"no source", `title: {css: "h1"}`, `title: {type: text}`, "items.movies.fields.title", "no source"},
		{"bad type", `title: {css: "h1"}`, `title: {css: "h1", type: strng}`, "items.movies.fields.title.type", "unknown type"},
		{"bad default", `title: {css: "h1"}`, `title: {css: "h1", type: integer, default: abc}`, "items.movies.fields.title.default", "not an integer"},
		{"attr on json", `title: {css: "h1"}`, `title: {json: "a", attr: href}`, "items.movies.fields.title.attr", "css and xpath"},
		{"key names no field", "key: [movie_id]", "key: [movie]", "items.movies.key[0]", `"movie" names no field`},
		{"index without each", "key: [movie_id]", "key: [_index]", "items.movies.key[0]", "each"},
		{"item not identifier", "  movies:\n", "  Movies:\n", "items.Movies", "not a plain identifier"},
		{"field not identifier", "      title:", "      Title-Text:", "items.movies.fields.Title-Text", "not a plain identifier"},
		{"reserved item", "  movies:\n", "  gather_movies:\n", "items.gather_movies", "reserved"},
		{"reserved field", "      title:", "      _url:", "items.movies.fields._url", "column gather adds itself"},
		{"bad each", `each: "tr.odd, tr.even"`, `each: "tr["`, "items.cast.each.css", "invalid selector"},
		{"each two kinds", `each: "tr.odd, tr.even"`, `each: {css: tr, json: a}`, "items.cast.each", "only one"},
		{"bad expect", "    key: [movie_id]\n", "    key: [movie_id]\n    expect: \"table[\"\n", "items.movies.expect", "invalid selector"},
		{"parent path without items", `title: {css: "h1"}`, `title: {json: "^.id"}`, "items.movies.fields.title.json", "needs each.items"},
		{"bad cron", "database: out.db\n", "database: out.db\nschedule: {cron: \"61 * * * *\"}\n", "schedule.cron", "invalid cron spec"},
		{"bad timezone", "database: out.db\n", "database: out.db\nschedule: {cron: \"@daily\", timezone: Mars/Base}\n", "schedule.timezone", "unknown time zone"},
		{"in-memory database", "database: out.db\n", "database: ':memory:'\n", "database", "is not a file"},
		{"empty database", "database: out.db\n", "database: ''\n", "database", "the path is empty"},
		{"bad fetch", "  name: test\n", "  name: test\n  fetch: chrome\n", "crawl.fetch", `"chrome" is not http, browser or auto`},
		{"bad item fetch", "    key: [movie_id]\n", "    key: [movie_id]\n    fetch: headless\n", "items.movies.fetch", `"headless" is not http, browser or auto`},
		{"empty detector", "  name: test\n", "  name: test\n  challenge: [{}]\n", "crawl.challenge[0]", "at least one of status, header, selector"},
		{"detector status", "  name: test\n", "  name: test\n  captcha: [{status: 42}]\n", "crawl.captcha[0].status", "not an HTTP status"},
		{"detector header", "  name: test\n", "  name: test\n  challenge: [{header: \"x waf: js\"}]\n", "crawl.challenge[0].header", `"Name: value"`},
		{"detector selector", "  name: test\n", "  name: test\n  captcha: [{selector: \"form[\"}]\n", "crawl.captcha[0].selector", "invalid selector"},
		{"browser without chromium", "  name: test\n", "  name: test\n  fetch: browser\n  browser: {path: /nonexistent/chromium}\n", "crawl.browser.path", "apt-get install chromium"},
		{"no items", validYAML[strings.Index(validYAML, "items:"):], "items: {}\n", "items", "no items"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(validYAML, tc.old) {
				t.Fatalf("test case does not apply: %q not in the valid config", tc.old)
			}
			_, err := parse(t, strings.Replace(validYAML, tc.old, tc.new, 1), nil)
			wantProblem(t, err, tc.key, tc.msg)
		})
	}
}

// In an item whose each selects elements, a field without a source reads
// the element itself: written as {}, as nothing, or with only modifiers.
func TestParse_EachElementItself(t *testing.T) {
	doc := strings.Replace(validYAML, `      person_id: {css: "a", attr: href, regex: "nm[0-9]+", required: true}
`, `      person_id: {css: "a", attr: href, regex: "nm[0-9]+", required: true}
      row: {}
      bare:
      cls: {attr: class}
      link: {css: a, attr: href, type: url}
`, 1)
	cfg, err := parse(t, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	fields := cfg.Items["cast"].Fields
	for _, name := range []string{"row", "bare", "cls"} {
		f, ok := fields[name]
		if !ok || f.CSS != "" || f.XPath != "" || f.Type != config.TypeText {
			t.Errorf("%s: %+v (present %v)", name, f, ok)
		}
	}
	if fields["cls"].Attr != "class" || fields["link"].Type != config.TypeURL {
		t.Errorf("modifiers lost: %+v %+v", fields["cls"], fields["link"])
	}
}

func TestParse_ReportsEveryProblem(t *testing.T) {
	doc := strings.Replace(validYAML, "  name: test\n", "  name: test\n  parallelism: 0\n  timeout: -1s\n", 1)
	doc = strings.Replace(doc, `title: {css: "h1"}`, `title: {css: "h1["}`, 1)
	_, err := parse(t, doc, nil)
	var es config.Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
}

func TestParse_YAMLSyntax(t *testing.T) {
	_, err := parse(t, "crawl: [\n", nil)
	if err == nil || !strings.Contains(err.Error(), "test.yaml: cannot parse YAML") {
		t.Fatalf("err = %v", err)
	}
	_, err = parse(t, "", nil)
	if err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]config.ByteSize{"10MB": 10 << 20, "512KiB": 512 << 10, "4096": 4096, "1.5 MiB": 3 << 19, "2g": 2 << 30} {
		got, err := config.ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1MB", "ten"} {
		if _, err := config.ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) succeeded", in)
		}
	}
}

// A frontier URL is checked without a request, and its password never
// shows in the error.
func TestValidate_FrontierURL(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://127.0.0.1:6379/0", "the scheme must be redis:// or rediss://"},
		{"redis://:s3cret@/0", "no host"},
		{"redis://:s3cret@127.0.0.1:6379/zero", "the path must be a database number"},
	} {
		_, err := parse(t, validYAML, map[string]string{"GATHER_FRONTIER": tc.url})
		wantProblem(t, err, "frontier", tc.want)
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the password shows in %q", tc.url, err)
		}
	}
	cfg, err := parse(t, validYAML, map[string]string{"GATHER_FRONTIER": "rediss://:s3cret@cache.internal:6380/2"})
	if err != nil || cfg.Frontier != "rediss://:s3cret@cache.internal:6380/2" {
		t.Fatalf("a good frontier URL: %v %q", err, cfg.Frontier)
	}
}
